"""A user's language: the texts of the console, the API's messages and mail.

NULL (every existing user) means "as the browser asks" (Accept-Language); a code names
one of the server's catalogues (server/locales), checked by the API, not the database,
so that adding a language needs no migration.

Revision ID: 0023_language
Revises: 0022_self_service
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_language"
down_revision = "0022_self_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    op.execute("ALTER TABLE users DROP COLUMN language")
