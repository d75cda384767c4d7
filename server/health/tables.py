"""Health tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0009_health creates them; importing this module registers them.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.names import folded
from server.db.schema import UTCDateTime, metadata, unique_under

health_checks = sa.Table(
    "health_checks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # NULL: a default check for every device whose group has no check of the same name.
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              nullable=True, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    sa.Column("kind", sa.String(16), nullable=False),  # disk, memory, cpu, service, process
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("warning", sa.Float, nullable=True),
    sa.Column("critical", sa.Float, nullable=True),
    sa.Column("window", sa.Float, nullable=False),
    sa.Column("hysteresis", sa.Float, nullable=False),
    sa.Column("recover_after", sa.Float, nullable=False),
    sa.Column("repeat_interval", sa.Float, nullable=False),
    sa.Column("on_recovery", sa.String(16), nullable=False),  # resolve or note
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    *unique_under("health_checks", "group_id"),
)

device_health = sa.Table(
    "device_health", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("check_id", sa.Integer, sa.ForeignKey("health_checks.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # ok, warning, critical, unknown
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("message", sa.String(500), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),  # when the agent took the reading
    sa.Column("changed_at", UTCDateTime, nullable=False),  # when the state last changed
    # The open incident of this (device, check), if any.
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"),
              nullable=True),
    sa.Index("ix_device_health_state_device_id", "state", "device_id"),
)
