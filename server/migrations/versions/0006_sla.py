"""SLA: business calendars (a 24x7 preset), policies, per-ticket clocks, tickets.sla_due_at.

Revision ID: 0006_sla
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import server.sla.tables  # noqa: F401 - registers the sla tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0006_sla"
down_revision = "0005"
branch_labels = None
depends_on = None

ALWAYS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def upgrade() -> None:
    op.create_table(
        "sla_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("recurring_holidays", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_calendars_name")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("category_ids", sa.JSON(), nullable=False),
        sa.Column("requester_group_ids", sa.JSON(), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("next_update_minutes", sa.Integer(), nullable=True),
        sa.Column("warn_percents", sa.JSON(), nullable=False),
        sa.Column("pause_statuses", sa.JSON(), nullable=False),
        sa.Column("escalations", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.id"],
            name=op.f("fk_sla_policies_calendar_id_sla_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_percents", sa.JSON(), nullable=False),
        sa.Column("pause_statuses", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=False),
        sa.Column("running_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("warnings_fired", sa.Integer(), nullable=False),
        sa.Column("breached_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_event_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.id"],
            name=op.f("fk_sla_clocks_calendar_id_sla_calendars"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_clocks_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_clocks_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    op.create_index(
        "ix_sla_clocks_next_event_at",
        "sla_clocks",
        ["next_event_at"],
        unique=False,
        sqlite_where=sa.text("next_event_at IS NOT NULL"),
        postgresql_where=sa.text("next_event_at IS NOT NULL"),
    )
    op.create_index(
        "ix_sla_clocks_policy_id_stopped_at",
        "sla_clocks",
        ["policy_id", "stopped_at"],
        unique=False,
    )
    op.create_index("ix_sla_clocks_ticket_id", "sla_clocks", ["ticket_id"], unique=False)
    op.add_column("tickets", sa.Column("sla_due_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_tickets_sla_due_at_id", "tickets", ["sla_due_at", "id"], unique=False)
    now = dt.datetime.now(dt.UTC)
    calendars = sa.table(
        "sla_calendars",
        sa.column("name", sa.String),
        sa.column("tz", sa.String),
        sa.column("hours", sa.JSON),
        sa.column("holidays", sa.JSON),
        sa.column("recurring_holidays", sa.JSON),
        sa.column("created_at", UTCDateTime),
        sa.column("updated_at", UTCDateTime),
    )
    op.bulk_insert(
        calendars,
        [
            {
                "name": "24x7",
                "tz": "UTC",
                "hours": ALWAYS,
                "holidays": [],
                "recurring_holidays": [],
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_due_at_id", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("sla_due_at")
    op.drop_table("sla_clocks")
    op.drop_table("sla_policies")
    op.drop_table("sla_calendars")
