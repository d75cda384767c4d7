"""Mail templates an admin edits in the console, per kind of notification and language;
a mailbox's own policy for mail from unknown addresses (NULL: the server's setting).

Revision ID: 0024_mailui
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0024_mailui"
down_revision = "0023_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_templates",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("kind", "language"),
    )
    op.add_column("mailboxes", sa.Column("unknown_sender", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    op.execute("ALTER TABLE mailboxes DROP COLUMN unknown_sender")
    op.drop_table("mail_templates")
