"""Working the queue: auto-assignment, related tickets, canned responses, the catalog.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("groups", sa.Column("auto_assign", sa.String(length=16),
                                      server_default="none", nullable=False))
    op.add_column("groups", sa.Column("last_assigned_id", sa.Integer(), nullable=True))
    op.add_column("groups", sa.Column("manager_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("catalog_item_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("form", sa.JSON(), nullable=True))
    op.add_column("tickets", sa.Column("approval", sa.String(length=16),
                                       server_default="not_required", nullable=False))
    op.add_column("tickets", sa.Column("approver_id", sa.Integer(), nullable=True))
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("approval", sa.String(length=16), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["approver_id"], ["users.id"],
                                name=op.f("fk_catalog_items_approver_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_catalog_items_group_id_groups"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_items_name")),
    )
    op.create_table(
        "ticket_links",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["related_id"], ["tickets.id"],
                                name=op.f("fk_ticket_links_related_id_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_ticket_links_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "related_id", name=op.f("pk_ticket_links")),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                                name=op.f("fk_canned_responses_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
    )


def downgrade() -> None:
    op.drop_table("catalog_items")
    with op.batch_alter_table("tickets") as batch:
        for column in ("approver_id", "approval", "form", "catalog_item_id"):
            batch.drop_column(column)
    op.drop_table("canned_responses")
    op.drop_table("ticket_links")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("manager_id")
        batch.drop_column("last_assigned_id")
        batch.drop_column("auto_assign")
