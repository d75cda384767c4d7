"""The toolbox policy beyond the terminal: tools turned off, consent, root for system tools.

Revision ID: 0030_procs
Revises: 0029_oidc
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.toolbox.policy  # noqa: F401 - registers the table on the shared metadata
from server.db.schema import UTCDateTime

revision = "0030_procs"
down_revision = "0029_oidc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "toolbox_tool_policies",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("disabled_tools", sa.JSON(), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("system_root", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_toolbox_tool_policies_group_id_groups")),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_toolbox_tool_policies")),
    )


def downgrade() -> None:
    op.drop_table("toolbox_tool_policies")
