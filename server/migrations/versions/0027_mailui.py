"""Mail templates an admin edits in the console, per kind of notification and language;
a mailbox's own policy for mail from unknown addresses (NULL: the server's setting) and
its IMAP login by OAuth2 (XOAUTH2).

Revision ID: 0027_mailui
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0027_mailui"
down_revision = "0026_bind"
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
    op.add_column("mailboxes", sa.Column("auth", sa.String(length=8), nullable=False,
                                         server_default="password"))
    for name, length in (("oauth_token_url", 500), ("oauth_client_id", 255),
                         ("oauth_client_secret", 1000), ("oauth_refresh_token", 4000),
                         ("oauth_scope", 500)):
        op.add_column("mailboxes", sa.Column(name, sa.String(length=length), nullable=False,
                                             server_default=""))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    for name in ("unknown_sender", "auth", "oauth_token_url", "oauth_client_id",
                 "oauth_client_secret", "oauth_refresh_token", "oauth_scope"):
        op.execute(f"ALTER TABLE mailboxes DROP COLUMN {name}")
    op.drop_table("mail_templates")
