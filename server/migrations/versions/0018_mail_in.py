"""E-mail in: mailboxes, the taken-in messages (de-duplication) and failing addresses.

Revision ID: 0018_mail_in
Revises: 0017_input
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.mail.inbound.tables  # noqa: F401 - registers the tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0018_mail_in"
down_revision = "0017_input"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password", sa.String(length=1000), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("done_folder", sa.String(length=255), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('imap', 'lmtp')", name=op.f("ck_mailboxes_kind")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_mailboxes_group_id_groups"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"],
                                name=op.f("fk_mailboxes_category_id_categories"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("name", name=op.f("uq_mailboxes_name")),
    )
    op.create_table(
        "mail_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailboxes.id"],
                                name=op.f("fk_mail_inbound_mailbox_id_mailboxes"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_mail_inbound_ticket_id_tickets"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_inbound")),
        sa.UniqueConstraint("message_key", name=op.f("uq_mail_inbound_message_key")),
    )
    op.create_index("ix_mail_inbound_sender_received", "mail_inbound", ["sender", "received_at"])
    op.create_index("ix_mail_inbound_outcome", "mail_inbound", ["outcome"])
    op.create_table(
        "mail_failing_addresses",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_mail_failing_addresses")),
    )


def downgrade() -> None:
    op.drop_table("mail_failing_addresses")
    op.drop_index("ix_mail_inbound_outcome", table_name="mail_inbound")
    op.drop_index("ix_mail_inbound_sender_received", table_name="mail_inbound")
    op.drop_table("mail_inbound")
    op.drop_table("mailboxes")
