"""Devices speak only for people bound to them: reported logins and explicit bindings.

A ticket raised on a device keeps what the device reported — its id and the OS login —
instead of trusting the login as a person (``tickets.reported_device_id``,
``tickets.reported_login``). ``device_bindings`` maps a login on one device to a
requester; only staff make bindings. Device tickets filed before this revision get the
device from ``agent_tickets`` and, as their reported login, the user name the old code
took from the login.

Revision ID: 0014_identity
Revises: 0013_postgres_search
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0014_identity"
down_revision = "0013_postgres_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reported_device_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("reported_login", sa.String(length=64), nullable=True))
    op.create_table(
        "device_bindings",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_device_bindings_device_id_devices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_device_bindings_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_device_bindings_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("device_id", "login", name=op.f("pk_device_bindings")),
    )
    op.create_index(op.f("ix_device_bindings_user_id"), "device_bindings", ["user_id"])
    op.execute(
        "UPDATE tickets SET "
        "reported_device_id = (SELECT MIN(a.device_id) FROM agent_tickets a "
        "                      WHERE a.ticket_id = tickets.id), "
        "reported_login = (SELECT u.username FROM users u WHERE u.id = tickets.requester_id) "
        "WHERE id IN (SELECT ticket_id FROM agent_tickets)")


def downgrade() -> None:
    op.drop_index(op.f("ix_device_bindings_user_id"), table_name="device_bindings")
    op.drop_table("device_bindings")
    op.drop_column("tickets", "reported_login")
    op.drop_column("tickets", "reported_device_id")
