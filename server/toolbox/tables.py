"""Tool-session tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0028_terminal creates them. Importing this module registers the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One row per tool session (a terminal; files and processes later, by ``kind``).
tool_sessions = sa.Table(
    "tool_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("technician_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),  # terminal
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("as_root", sa.Boolean, nullable=False, default=False),
    sa.Column("account", sa.String(64), nullable=True),  # the OS account it ran as
    # requested -> active -> ended; or requested -> ended (denied, timeout, ...)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("consent", sa.String(16), nullable=True),  # user | unattended
    sa.Column("ended_by", sa.String(16), nullable=True),
    sa.Column("end_reason", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("summary", sa.JSON, nullable=False, default=dict),
    # The transcript file <data>/transcripts/<id>.cast: none | recording | ready | failed
    sa.Column("transcript", sa.String(16), nullable=False, default="none"),
    sa.Column("transcript_bytes", sa.BigInteger, nullable=False, default=0),
)

# A device group's toolbox policy; consent (ask or unattended) is the group's remote policy.
toolbox_policies = sa.Table(
    "toolbox_policies", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("terminal_root", sa.Boolean, nullable=False, default=False),
    sa.Column("record_terminal", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)
