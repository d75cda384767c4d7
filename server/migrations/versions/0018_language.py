"""A user's language: the texts of the console, the API's messages and mail.

NULL (every existing user) means "as the browser asks" (Accept-Language); a code names
one of the server's catalogues (server/locales), checked by the API, not the database,
so that adding a language needs no migration.

Revision ID: 0018_language
Revises: 0017_input
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_language"
down_revision = "0017_input"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    op.execute("ALTER TABLE users DROP COLUMN language")
