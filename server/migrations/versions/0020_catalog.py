"""Admin pages for the catalog and categories: retiring categories, ordering request types.

Ticket and knowledge-base categories get ``active`` (retired ones keep their tickets and
articles but are not offered for new ones). Catalog items get ``position`` (the portal's
order), ``visibility`` ("everyone" or "staff") and ``category_id`` (the category its
tickets get; no foreign key, since categories are retired rather than deleted).

Revision ID: 0020_catalog
Revises: 0019_identity_ldap
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_catalog"
down_revision = "0019_identity_ldap"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NOT NULL columns need a default for existing rows; it is kept (SQLite cannot drop it
    # without rebuilding the table, which would cascade deletes).
    for table in ("categories", "kb_categories"):
        op.add_column(table, sa.Column("active", sa.Boolean(), nullable=False,
                                       server_default=sa.true()))
    op.add_column("catalog_items", sa.Column("position", sa.Integer(), nullable=False,
                                             server_default="0"))
    op.add_column("catalog_items", sa.Column("visibility", sa.String(length=16),
                                             nullable=False, server_default="everyone"))
    op.add_column("catalog_items", sa.Column("category_id", sa.Integer(), nullable=True))
    # Existing request types keep the order they were listed in (by name).
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id FROM catalog_items ORDER BY name")).all()
    for position, (item_id,) in enumerate(rows):
        conn.execute(sa.text("UPDATE catalog_items SET position = :p WHERE id = :id")
                     .bindparams(p=position, id=item_id))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    for table, column in (("catalog_items", "category_id"), ("catalog_items", "visibility"),
                          ("catalog_items", "position"), ("kb_categories", "active"),
                          ("categories", "active")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
