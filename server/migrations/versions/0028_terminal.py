"""Tool sessions (a terminal on a ticket's device) and each device group's toolbox policy.

Revision ID: 0028_terminal
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.toolbox.tables  # noqa: F401 - registers the toolbox tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0028_terminal"
down_revision = "0027_mailui"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("as_root", sa.Boolean(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.String(length=16), nullable=False),
        sa.Column("transcript_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_tool_sessions_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_tool_sessions_device_id_devices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["technician_id"], ["users.id"],
                                name=op.f("fk_tool_sessions_technician_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_sessions")),
    )
    op.create_index("ix_tool_sessions_ticket_id", "tool_sessions", ["ticket_id"])
    op.create_index("ix_tool_sessions_device_id", "tool_sessions", ["device_id"])
    op.create_table(
        "toolbox_policies",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("terminal_root", sa.Boolean(), nullable=False),
        sa.Column("record_terminal", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_toolbox_policies_group_id_groups"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=op.f("fk_toolbox_policies_updated_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_toolbox_policies")),
    )


def downgrade() -> None:
    op.drop_table("toolbox_policies")
    op.drop_index("ix_tool_sessions_device_id", table_name="tool_sessions")
    op.drop_index("ix_tool_sessions_ticket_id", table_name="tool_sessions")
    op.drop_table("tool_sessions")
