"""Site settings edited in the console: outgoing mail and branding.

A row overrides the static setting of the same name (server/settings.py) for an
allowlisted set of names (server/siteconfig/rules.py).

Revision ID: 0021_site_settings
Revises: 0020_catalog
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.siteconfig.tables  # noqa: F401 - registers the table on the shared metadata
from server.db.schema import UTCDateTime

revision = "0021_site_settings"
down_revision = "0020_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_site_settings_updated_by_users")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_settings")),
    )


def downgrade() -> None:
    op.drop_table("site_settings")
