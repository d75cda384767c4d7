"""The script library (scripts and their reviewed versions), script runs on devices, and
each device group's script policy (may scripts run as root).

Revision ID: 0031_scripts
Revises: 0029_oidc
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.scripts.tables  # noqa: F401 - registers the script tables
from server.db.schema import UTCDateTime

revision = "0031_scripts"
down_revision = "0030_procs"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"],
                                   name=op.f(f"fk_{table}_{column}_users"),
                                   ondelete="SET NULL")


def upgrade() -> None:
    op.create_table(
        "scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _user_fk("scripts", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scripts")),
        sa.UniqueConstraint("name", name=op.f("uq_scripts_name")),
    )
    op.create_table(
        "script_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"],
                                name=op.f("fk_script_versions_script_id_scripts"),
                                ondelete="CASCADE"),
        _user_fk("script_versions", "author_id"),
        _user_fk("script_versions", "approved_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
        sa.UniqueConstraint("script_id", "version", name=op.f("uq_script_versions_script_id")),
    )
    op.create_table(
        "script_policies",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("run_as_root", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_script_policies_group_id_groups"),
                                ondelete="CASCADE"),
        _user_fk("script_policies", "updated_by"),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_script_policies")),
    )
    op.create_table(
        "script_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("as_root", sa.Boolean(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("end_reason", sa.String(length=500), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["script_versions.id"],
                                name=op.f("fk_script_runs_version_id_script_versions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_script_runs_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_script_runs_device_id_devices"),
                                ondelete="CASCADE"),
        _user_fk("script_runs", "technician_id"),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"],
                                name=op.f("fk_script_runs_attachment_id_attachments"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_runs")),
    )
    op.create_index("ix_script_runs_batch", "script_runs", ["batch"])
    op.create_index("ix_script_runs_ticket_id", "script_runs", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_script_runs_ticket_id", table_name="script_runs")
    op.drop_index("ix_script_runs_batch", table_name="script_runs")
    op.drop_table("script_runs")
    op.drop_table("script_policies")
    op.drop_table("script_versions")
    op.drop_table("scripts")
