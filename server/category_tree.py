"""Category trees (ticket and knowledge-base categories): create, rename, move, retire.

Both trees are tables of (id, parent_id, name, name_key, active). A category is never
deleted: tickets and articles keep pointing at it, so it is retired instead — retired
ones still have their names shown, but are not offered for new work.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy.engine import Connection

from server.db.names import fold
from server.errors import Conflict, NotFound, ValidationFailed
from server.i18n.messages import N_, Message
from server.users.schemas import Strict

MAX_DEPTH = 10  # deeper trees are refused: pickers indent by depth, and paths get long


class CategoryUpdate(Strict):
    """Changes to a category: rename, move under another parent (null: top level), retire."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    parent_id: int | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


def _row(conn: Connection, table: sa.Table, category_id: int) -> Any:
    row = conn.execute(sa.select(table).where(table.c.id == category_id)).one_or_none()
    if row is None:
        raise NotFound("no category with id {category_id}", category_id=category_id)
    return row


def ancestors(parents: dict[int, int | None], category_id: int | None) -> list[int]:
    """Return the ids from ``category_id`` up to its root (itself first; cycles cut)."""
    out: list[int] = []
    while category_id is not None and category_id not in out:
        out.append(category_id)
        category_id = parents.get(category_id)
    return out


def descendants(parents: dict[int, int | None], category_id: int) -> set[int]:
    """Return the ids under ``category_id`` (not itself)."""
    return {c for c in parents if c != category_id
            and category_id in ancestors(parents, c)[1:]}


def _parents(conn: Connection, table: sa.Table) -> dict[int, int | None]:
    return {r.id: r.parent_id for r in conn.execute(sa.select(table.c.id, table.c.parent_id))}


def _check_name_free(conn: Connection, table: sa.Table, name: str, parent_id: int | None,
                     *, but: int | None = None) -> None:
    query = sa.select(table.c.id).where(
        table.c.name_key == fold(name),
        table.c.parent_id.is_(None) if parent_id is None else table.c.parent_id == parent_id)
    if but is not None:
        query = query.where(table.c.id != but)
    if conn.execute(query).first() is not None:
        raise Conflict("a category {name!r} exists there already", name=name)


def _check_parent(conn: Connection, table: sa.Table, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = conn.execute(sa.select(table.c.active)
                          .where(table.c.id == parent_id)).one_or_none()
    if parent is None:
        raise ValidationFailed("parent_id: no category with id {parent_id}",
                               code="invalid_parent", parent_id=parent_id)
    if not parent.active:
        raise ValidationFailed("parent_id: category {parent_id} is retired",
                               code="invalid_parent", parent_id=parent_id)


def create(conn: Connection, table: sa.Table, name: str, parent_id: int | None) -> int:
    """Insert an active category; return its id.

    Raises:
        ValidationFailed: the parent does not exist or is retired.
        Conflict: the name is taken under it (compared case-folded).
    """
    _check_parent(conn, table, parent_id)
    if parent_id is not None and len(ancestors(_parents(conn, table), parent_id)) >= MAX_DEPTH:
        raise ValidationFailed("parent_id: categories nest at most {depth} deep",
                               code="invalid_parent", depth=MAX_DEPTH)
    _check_name_free(conn, table, name, parent_id)
    return int(conn.execute(table.insert().values(name=name, parent_id=parent_id, active=True))
               .inserted_primary_key[0])  # type: ignore[index]


def update(conn: Connection, table: sa.Table, category_id: int,
           changes: dict[str, Any]) -> dict[str, Any]:
    """Rename, move or retire/restore a category; return what changed ({} for nothing).

    Retiring a category retires everything under it; restoring one restores only it, and
    needs an active parent. A category cannot move under itself or its descendants.

    Raises:
        NotFound: no such category.
        ValidationFailed: a cycle, a missing or retired parent, a blank name.
        Conflict: the name is taken under the (new) parent.
    """
    row = _row(conn, table, category_id)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise ValidationFailed("name must not be blank")
    values = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if not values:
        return {}
    parent_id = values.get("parent_id", row.parent_id)
    active = values.get("active", row.active)
    parents = _parents(conn, table)
    if "parent_id" in values and parent_id is not None:
        chain = ancestors(parents, parent_id)
        if category_id in chain:
            raise ValidationFailed("parent_id: a category cannot move under itself or one "
                                   "of its own subcategories", code="invalid_parent")
        depth_below = max((len(ancestors(parents, d)) - len(ancestors(parents, category_id))
                           for d in descendants(parents, category_id)), default=0)
        if len(chain) + 1 + depth_below > MAX_DEPTH:
            raise ValidationFailed("parent_id: categories nest at most {depth} deep",
                                   code="invalid_parent", depth=MAX_DEPTH)
    if active and ("parent_id" in values or "active" in values):
        _check_parent(conn, table, parent_id)
    if "name" in values or "parent_id" in values:
        _check_name_free(conn, table, values.get("name", row.name), parent_id, but=category_id)
    if "name" in values:
        values["name_key"] = fold(values["name"])
    conn.execute(table.update().where(table.c.id == category_id).values(**values))
    if values.get("active") is False:
        under = descendants(parents, category_id)
        if under:
            conn.execute(table.update().where(table.c.id.in_(under)).values(active=False))
    values.pop("name_key", None)
    return values


_CATEGORY = N_("category")


def check_usable(conn: Connection, table: sa.Table, category_id: int | None, *,
                 what: Message = _CATEGORY) -> None:
    """Refuse a category that does not exist or is retired, for new work (422).

    Raises:
        ValidationFailed: naming the field.
    """
    if category_id is None:
        return
    row = conn.execute(sa.select(table.c.active)
                       .where(table.c.id == category_id)).one_or_none()
    if row is None:
        raise ValidationFailed("category_id: no {what} with id {category_id}", what=what,
                               category_id=category_id)
    if not row.active:
        raise ValidationFailed("category_id: {what} {category_id} is retired; choose another",
                               what=what, category_id=category_id)
