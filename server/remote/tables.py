"""Remote-session tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0010_sessions creates them, 0011_recordings adds recordings. Importing this
module registers the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

remote_sessions = sa.Table(
    "remote_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("technician_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("mode", sa.String(16), nullable=False),  # view | control (the current one)
    sa.Column("reason", sa.String(500), nullable=False),
    # requested -> active -> ended; or requested -> ended (denied, timeout, ...)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("consent", sa.String(16), nullable=True),  # user | unattended
    sa.Column("ended_by", sa.String(16), nullable=True),  # technician | user | agent | server
    sa.Column("end_reason", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("summary", sa.JSON, nullable=False, default=dict),
)

remote_policies = sa.Table(
    "remote_policies", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("unattended", sa.Boolean, nullable=False, default=False),
    # Record the frame stream of the group's sessions (migration 0011_recordings).
    sa.Column("record", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)

# One row per recorded session; the file is <data>/recordings/<file>. The row stays after
# the file is deleted (retention or an admin), so the ticket's history keeps its totals.
remote_recordings = sa.Table(
    "remote_recordings", metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("remote_sessions.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("file", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # recording | ready | failed | deleted
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("bytes", sa.BigInteger, nullable=False, default=0),
    sa.Column("duration_ms", sa.BigInteger, nullable=False, default=0),
    sa.Column("frames", sa.Integer, nullable=False, default=0),
    sa.Column("dropped_frames", sa.Integer, nullable=False, default=0),
    sa.Column("gaps", sa.Integer, nullable=False, default=0),
    sa.Column("complete", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.String(200), nullable=True),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Column("deleted_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("delete_reason", sa.String(32), nullable=True),  # retention | admin
    sa.Index("ix_remote_recordings_state_ended_at", "state", "ended_at"),
)
