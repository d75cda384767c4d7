"""The mail outbox table (on the shared metadata)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One row per e-mail to one recipient, written in the transaction of the ticket event that
# causes it. The rendered message is stored: what is sent is what the event said then.
mail_outbox = sa.Table(
    "mail_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=True),
    sa.Column("recipient_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("to_addr", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False, unique=True),
    sa.Column("thread_id", sa.String(255), nullable=True),
    # queued -> sent, or failed after too many attempts or a permanent refusal.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
    sa.Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    sa.Index("ix_mail_outbox_created_at", "created_at"),
)

# Users who turned e-mail notifications off (everyone else with an address gets them).
# A table of its own rather than a users column: the default "on" needs no row.
mail_opt_outs = sa.Table(
    "mail_opt_outs", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Notification kinds a user turned off one by one (compose.REASONS), while mail as a whole
# stays on; migration 0022_self_service creates it.
mail_reason_opt_outs = sa.Table(
    "mail_reason_opt_outs", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("reason", sa.String(32), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# An admin's text of one kind of notification in one language (server/mail/templates.py);
# no row: the server's catalogues write it. Migration 0027_mailui creates it.
mail_templates = sa.Table(
    "mail_templates", metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)
