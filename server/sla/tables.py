"""SLA tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0006 creates them. Importing this module registers the tables on ``metadata``.
A clock row snapshots what it was started with (target, warning thresholds, pause
statuses, policy name), so editing or deleting a policy never rewrites a ticket's history.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.names import folded
from server.db.schema import UTCDateTime, metadata

sla_calendars = sa.Table(
    "sla_calendars", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    sa.Column("tz", sa.String(64), nullable=False),
    # {"0": [["09:00", "17:00"]], ...}: weekday 0 (Monday) .. 6 -> local intervals
    sa.Column("hours", sa.JSON, nullable=False),
    sa.Column("holidays", sa.JSON, nullable=False),  # ["2026-12-25", ...]
    sa.Column("recurring_holidays", sa.JSON, nullable=False),  # ["12-25", ...]
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("uq_sla_calendars_name_key", "name_key", unique=True),
)

sla_policies = sa.Table(
    "sla_policies", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    sa.Column("position", sa.Integer, nullable=False),  # match order, lowest first
    sa.Column("fallback", sa.Boolean, nullable=False),  # applies when no other matches
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("calendar_id", sa.Integer, sa.ForeignKey("sla_calendars.id"), nullable=False),
    # Conditions: an empty list matches anything.
    sa.Column("kinds", sa.JSON, nullable=False),
    sa.Column("priorities", sa.JSON, nullable=False),
    sa.Column("category_ids", sa.JSON, nullable=False),
    sa.Column("requester_group_ids", sa.JSON, nullable=False),
    sa.Column("first_response_minutes", sa.Integer, nullable=True),
    sa.Column("resolution_minutes", sa.Integer, nullable=True),
    sa.Column("next_update_minutes", sa.Integer, nullable=True),
    sa.Column("warn_percents", sa.JSON, nullable=False),  # [50, 75]
    sa.Column("pause_statuses", sa.JSON, nullable=False),  # ["pending"]
    sa.Column("escalations", sa.JSON, nullable=False),  # rules, see server.sla.policy
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("uq_sla_policies_name_key", "name_key", unique=True),
)

sla_clocks = sa.Table(
    "sla_clocks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # first_response|resolution|next_update
    sa.Column("policy_id", sa.Integer, sa.ForeignKey("sla_policies.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("policy_name", sa.String(100), nullable=False),
    sa.Column("calendar_id", sa.Integer, sa.ForeignKey("sla_calendars.id"), nullable=False),
    sa.Column("target_minutes", sa.Integer, nullable=False),
    sa.Column("warn_percents", sa.JSON, nullable=False),
    sa.Column("pause_statuses", sa.JSON, nullable=False),
    # running | paused | met | breached
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    # Business seconds counted before running_since; running_since is NULL while the
    # clock does not count (paused or stopped).
    sa.Column("elapsed_seconds", sa.Float, nullable=False),
    sa.Column("running_since", UTCDateTime, nullable=True),
    sa.Column("paused_at", UTCDateTime, nullable=True),
    sa.Column("due_at", UTCDateTime, nullable=True),  # NULL while paused
    sa.Column("warnings_fired", sa.Integer, nullable=False),  # thresholds fired so far
    sa.Column("breached_at", UTCDateTime, nullable=True),
    sa.Column("stopped_at", UTCDateTime, nullable=True),  # met, resolved or closed
    sa.Column("next_event_at", UTCDateTime, nullable=True),
    sa.Index("ix_sla_clocks_ticket_id", "ticket_id"),
    sa.Index("ix_sla_clocks_next_event_at", "next_event_at",
             sqlite_where=sa.text("next_event_at IS NOT NULL"),
             postgresql_where=sa.text("next_event_at IS NOT NULL")),
    sa.Index("ix_sla_clocks_policy_id_stopped_at", "policy_id", "stopped_at"),
)
