"""Outgoing e-mail: the mail outbox and the users who opted out.

Revision ID: 0012_mail
Revises: 0011_recordings
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.mail.tables  # noqa: F401 - registers the mail tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0012_mail"
down_revision = "0011_recordings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')",
                           name=op.f("ck_mail_outbox_status")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_mail_outbox_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"],
                                name=op.f("fk_mail_outbox_recipient_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_outbox_message_id")),
    )
    op.create_index("ix_mail_outbox_status_next", "mail_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_mail_outbox_created_at", "mail_outbox", ["created_at"])
    op.create_table(
        "mail_opt_outs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_mail_opt_outs_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("mail_opt_outs")
    op.drop_index("ix_mail_outbox_created_at", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_status_next", table_name="mail_outbox")
    op.drop_table("mail_outbox")
