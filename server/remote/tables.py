"""Remote-session tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0010_sessions creates them. Importing this module registers the tables.
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
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)
