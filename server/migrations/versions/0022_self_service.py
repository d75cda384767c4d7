"""The desk's saved views; self-service: time zones, e-mail changes, notification choices.

``saved_views`` keeps named desk filters, personal or shared (server/tickets/saved_views.py).
``users.time_zone`` is the zone the console shows a user's times in (NULL: the browser's).
``email_changes`` holds changes of address waiting for the link mailed to the new address
(server/users/email_change.py). ``mail_reason_opt_outs`` lists notification kinds a user
turned off one by one (server/mail/outbox.py).

Revision ID: 0022_self_service
Revises: 0021_site_settings
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Imported to register their tables on the shared metadata.
import server.mail.tables
import server.tickets.tables
import server.users.tables  # noqa: F401
from server.db.schema import UTCDateTime

revision = "0022_self_service"
down_revision = "0021_site_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_saved_views_owner_id", "saved_views", ["owner_id"])
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.create_table(
        "email_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_email_changes_user_id", "email_changes", ["user_id"])
    op.create_table(
        "mail_reason_opt_outs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "reason"),
    )


def downgrade() -> None:
    op.drop_table("mail_reason_opt_outs")
    op.drop_index("ix_email_changes_user_id", table_name="email_changes")
    op.drop_table("email_changes")
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    op.execute("ALTER TABLE users DROP COLUMN time_zone")
    op.drop_index("ix_saved_views_owner_id", table_name="saved_views")
    op.drop_table("saved_views")
