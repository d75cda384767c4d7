"""User tables declared outside server/db/schema.py, on its shared metadata.

Migration 0022_self_service creates them; importing this module registers them.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# A user's request to change their e-mail address, waiting for the link mailed to the
# new address. Only the SHA-256 of the link's secret is kept: a database reader cannot
# confirm someone else's change. A new request replaces the older ones of the user.
email_changes = sa.Table(
    "email_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("new_email", sa.String(254), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_email_changes_user_id", "user_id"),
)
