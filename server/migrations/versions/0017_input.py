"""Unique names compare case-folded: a ``name_key`` column with unique indexes.

Groups, ticket and knowledge-base categories, SLA calendars and policies, catalog items
and health checks get ``name_key`` = server.db.names.fold(name), filled here for existing
rows. Names that were accepted before but fold to the same key (say "Ops" and "ops")
keep their names; the later row's key gets "#<id>" appended so the index can be built,
and new names still collide with the first. Categories and health checks are unique
under their parent (group): NULL parents get a partial index of their own.

Ticket and article tags were lower-cased; they are case-folded now ("Straße" is "strasse"),
so stored tags are folded here too (a tag that folds onto another of the same row goes).

Revision ID: 0017_input
Revises: 0016_product
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.names import fold

revision = "0017_input"
down_revision = "0016_product"
branch_labels = None
depends_on = None

# table -> the column its names are unique under (None: unique in the whole table)
TABLES: dict[str, str | None] = {
    "groups": None, "categories": "parent_id", "kb_categories": "parent_id",
    "sla_calendars": None, "sla_policies": None, "catalog_items": None,
    "health_checks": "group_id",
}


def upgrade() -> None:
    conn = op.get_bind()
    for table, parent in TABLES.items():
        # NOT NULL needs a default for existing rows; SQLite cannot drop it later without
        # rebuilding the table (and cascading deletes): every insert sets the key anyway.
        op.add_column(table, sa.Column("name_key", sa.Text(), nullable=False,
                                       server_default=""))
        scope = sa.column(parent) if parent else sa.literal(None)
        rows = conn.execute(sa.select(sa.column("id"), sa.column("name"), scope)
                            .select_from(sa.table(table)).order_by(sa.column("id"))).all()
        seen: set[tuple[object, str]] = set()
        for row_id, name, under in rows:
            key = fold(name)
            if (under, key) in seen:
                key = f"{key}#{row_id}"
            seen.add((under, key))
            conn.execute(sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id")  # noqa: S608
                         .bindparams(key=key, id=row_id))
        if parent is None:
            op.create_index(f"uq_{table}_name_key", table, ["name_key"], unique=True)
        else:
            top = sa.text(f"{parent} IS NULL")
            op.create_index(f"uq_{table}_{parent}_name_key", table, [parent, "name_key"],
                            unique=True)
            op.create_index(f"uq_{table}_top_name_key", table, ["name_key"], unique=True,
                            sqlite_where=top, postgresql_where=top)
    for table, owner in (("ticket_tags", "ticket_id"), ("kb_article_tags", "article_id")):
        rows = conn.execute(sa.select(sa.column(owner), sa.column("tag"))
                            .select_from(sa.table(table))).all()
        have = {(o, t) for o, t in rows}
        for row_owner, tag in rows:
            key = fold(tag)
            if key == tag:
                continue
            where = sa.text(f"{owner} = :o AND tag = :t").bindparams(o=row_owner, t=tag)
            if (row_owner, key) in have:
                conn.execute(sa.delete(sa.table(table)).where(where))
            else:
                conn.execute(sa.update(sa.table(table, sa.column("tag"))).where(where)
                             .values(tag=key))
                have.add((row_owner, key))


def downgrade() -> None:
    for table, parent in TABLES.items():
        if parent is None:
            op.drop_index(f"uq_{table}_name_key", table_name=table)
        else:
            op.drop_index(f"uq_{table}_top_name_key", table_name=table)
            op.drop_index(f"uq_{table}_{parent}_name_key", table_name=table)
        # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
        op.execute(f"ALTER TABLE {table} DROP COLUMN name_key")
