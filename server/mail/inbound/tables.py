"""The tables of incoming mail (on the shared metadata); migration 0018_mail_in makes them."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# A mailbox Deskmate reads (IMAP) or receives for (LMTP/SMTP delivery), and where its mail
# goes. The password is write-only in the API; it is stored as given (IMAP needs it).
mailboxes = sa.Table(
    "mailboxes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),  # imap | lmtp
    sa.Column("address", sa.String(254), nullable=False),  # the desk's address it receives
    sa.Column("host", sa.String(255), nullable=False, default=""),
    sa.Column("port", sa.Integer, nullable=False, default=993),
    sa.Column("security", sa.String(10), nullable=False, default="tls"),  # tls|starttls|none
    sa.Column("username", sa.String(255), nullable=False, default=""),
    sa.Column("password", sa.String(1000), nullable=False, default=""),
    sa.Column("folder", sa.String(255), nullable=False, default="INBOX"),
    # Where taken-in messages go; empty: they are deleted (expunged).
    sa.Column("done_folder", sa.String(255), nullable=False, default=""),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    # create | refuse | hold for mail from unknown addresses; NULL: the server's
    # mail_in_unknown_sender. Migration 0027_mailui adds it.
    sa.Column("unknown_sender", sa.String(8), nullable=True),
    # IMAP login: "password", or "oauth2" (SASL XOAUTH2 with an access token from
    # oauth_token_url: the refresh token's grant when one is set, else client
    # credentials). Secrets are write-only in the API, like the password. 0027_mailui.
    sa.Column("auth", sa.String(8), nullable=False, default="password",
              server_default="password"),
    sa.Column("oauth_token_url", sa.String(500), nullable=False, default="", server_default=""),
    sa.Column("oauth_client_id", sa.String(255), nullable=False, default="", server_default=""),
    sa.Column("oauth_client_secret", sa.String(1000), nullable=False, default="",
              server_default=""),
    sa.Column("oauth_refresh_token", sa.String(4000), nullable=False, default="",
              server_default=""),
    sa.Column("oauth_scope", sa.String(500), nullable=False, default="", server_default=""),
    sa.Column("last_seen_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("kind IN ('imap', 'lmtp')", name="kind"),
)

# Every message taken in, keyed by its Message-ID (or a digest of the message when it has
# none): written in the transaction that makes its ticket or comment, so a message fetched
# again after a crash is recognised and creates nothing twice.
mail_inbound = sa.Table(
    "mail_inbound", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_key", sa.String(255), nullable=False, unique=True),
    sa.Column("mailbox_id", sa.Integer, sa.ForeignKey("mailboxes.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("sender", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    # ticket | comment | held | refused | ignored | bounce
    sa.Column("outcome", sa.String(10), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False, default=""),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("event_id", sa.Integer, nullable=True),
    sa.Column("raw_sha256", sa.String(64), nullable=True),  # the .eml in the attachment store
    sa.Column("raw_size", sa.Integer, nullable=False, default=0),
    sa.Index("ix_mail_inbound_sender_received", "sender", "received_at"),
    sa.Index("ix_mail_inbound_outcome", "outcome"),
)

# Addresses a bounce (DSN) reported as failing: the outbox stops mailing them until the
# user's address changes or an admin clears the entry.
mail_failing_addresses = sa.Table(
    "mail_failing_addresses", metadata,
    sa.Column("address", sa.String(254), primary_key=True),  # lower-case
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(300), nullable=False),
)
