"""Ticket categories: listing, creating, renaming, moving and retiring them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server import category_tree
from server.db.schema import categories


def list_categories(conn: Connection) -> list[Any]:
    """Return all categories, retired ones too (old tickets name them), ordered by name."""
    return list(conn.execute(sa.select(categories).order_by(categories.c.name,
                                                            categories.c.id)).all())


def create_category(conn: Connection, name: str, parent_id: int | None) -> int:
    """Insert a category.

    Raises:
        ValidationFailed: the parent does not exist or is retired.
        Conflict: the name is taken under it (compared case-folded).
    """
    return category_tree.create(conn, categories, name, parent_id)


def update_category(conn: Connection, category_id: int, changes: dict[str, Any]) -> Any:
    """Rename, move or retire a category; return (its row, what changed).

    Raises:
        NotFound, ValidationFailed, Conflict: see :func:`server.category_tree.update`.
    """
    changed = category_tree.update(conn, categories, category_id, changes)
    row = conn.execute(sa.select(categories).where(categories.c.id == category_id)).one()
    return row, changed
