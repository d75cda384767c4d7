"""Remote sessions: the session records and the per-group consent policy.

Revision ID: 0010_sessions
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.remote.tables  # noqa: F401 - registers the remote tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0010_sessions"
down_revision = "0009_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_remote_sessions_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_remote_sessions_device_id_devices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["technician_id"], ["users.id"],
                                name=op.f("fk_remote_sessions_technician_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_sessions")),
    )
    op.create_index("ix_remote_sessions_ticket_id", "remote_sessions", ["ticket_id"])
    op.create_index("ix_remote_sessions_device_id", "remote_sessions", ["device_id"])
    op.create_table(
        "remote_policies",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("unattended", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_remote_policies_group_id_groups"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=op.f("fk_remote_policies_updated_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_remote_policies")),
    )


def downgrade() -> None:
    op.drop_table("remote_policies")
    op.drop_index("ix_remote_sessions_device_id", table_name="remote_sessions")
    op.drop_index("ix_remote_sessions_ticket_id", table_name="remote_sessions")
    op.drop_table("remote_sessions")
