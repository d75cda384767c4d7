"""Health checks per device group and the state of each check on each device.

Revision ID: 0009_health
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.health.tables  # noqa: F401 - registers the health tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0009_health"
down_revision = "0008_kb_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("warning", sa.Float(), nullable=True),
        sa.Column("critical", sa.Float(), nullable=True),
        sa.Column("window", sa.Float(), nullable=False),
        sa.Column("hysteresis", sa.Float(), nullable=False),
        sa.Column("recover_after", sa.Float(), nullable=False),
        sa.Column("repeat_interval", sa.Float(), nullable=False),
        sa.Column("on_recovery", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_health_checks_group_id_groups"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_checks")),
    )
    op.create_index("ix_health_checks_group_id", "health_checks", ["group_id"], unique=False)
    op.create_table(
        "device_health",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_device_health_device_id_devices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["check_id"], ["health_checks.id"],
                                name=op.f("fk_device_health_check_id_health_checks"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_id"], ["tickets.id"],
                                name=op.f("fk_device_health_incident_id_tickets"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("device_id", "check_id", name=op.f("pk_device_health")),
    )
    op.create_index("ix_device_health_state_device_id", "device_health",
                    ["state", "device_id"], unique=False)


def downgrade() -> None:
    op.drop_table("device_health")
    op.drop_table("health_checks")
