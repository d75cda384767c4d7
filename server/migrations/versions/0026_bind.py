"""Devices bound to people: logins seen on a device, group binding rules, and where a
binding came from (staff or a rule); directories may create users on first sign-in.

Revision ID: 0026_bind
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.devices.tables  # noqa: F401 - registers the device-binding tables
from server.db.schema import UTCDateTime

revision = "0026_bind"
down_revision = "0025_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_logins",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE",
                                name=op.f("fk_device_logins_device_id_devices")),
        sa.PrimaryKeyConstraint("device_id", "login", name=op.f("pk_device_logins")),
    )
    op.create_table(
        "binding_rules",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_binding_rules_group_id_groups")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_binding_rules_created_by_users")),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_binding_rules")),
    )
    op.add_column("device_bindings", sa.Column("source", sa.String(8), nullable=False,
                                               server_default="staff"))
    op.add_column("directories", sa.Column("create_on_sign_in", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    op.execute("ALTER TABLE directories DROP COLUMN create_on_sign_in")
    op.execute("ALTER TABLE device_bindings DROP COLUMN source")
    op.drop_table("binding_rules")
    op.drop_table("device_logins")
