"""Ticket categories: listing and creating them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold
from server.db.schema import categories
from server.errors import Conflict, ValidationFailed


def list_categories(conn: Connection) -> list[Any]:
    """Return all categories ordered by name."""
    return list(conn.execute(sa.select(categories).order_by(categories.c.name)).all())


def create_category(conn: Connection, name: str, parent_id: int | None) -> int:
    """Insert a category.

    Raises:
        ValidationFailed: the parent does not exist.
        Conflict: the name is taken under it (compared case-folded).
    """
    if parent_id is not None and conn.execute(
            sa.select(categories.c.id).where(categories.c.id == parent_id)).first() is None:
        raise ValidationFailed("parent_id: no category with id {parent_id}", parent_id=parent_id)
    taken = conn.execute(sa.select(categories.c.id).where(
        categories.c.name_key == fold(name), categories.c.parent_id.is_(None)
        if parent_id is None else categories.c.parent_id == parent_id)).first()
    if taken is not None:
        raise Conflict("a category {name!r} exists there already", name=name)
    return int(conn.execute(categories.insert().values(name=name, parent_id=parent_id))
               .inserted_primary_key[0])  # type: ignore[index]
