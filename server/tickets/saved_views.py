"""The desk's saved views: types and SQL (functions over a Connection).

Who sees and changes what is decided here, once: a personal view exists only for its
owner (anyone else, admins included, gets 404 as for a view that does not exist); a
shared view is listed for all staff, and only admins create, rename, change or delete
one — the desk's common views are the team lead's to curate, as a shared canned
response is. Names are unique, case-folded, among one owner's personal views and among
the shared ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, Struct, UnsetType
from sqlalchemy.engine import Connection

from server.auth.identity import Identity
from server.db.names import fold
from server.db.schema import users
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.tickets.lifecycle import Kind, Status
from server.tickets.schemas import Sort, UserRef
from server.tickets.tables import saved_views
from server.users.schemas import Strict

MAX_PER_OWNER = 100  # personal views per user; shared views count against the admin's own

ViewName = Annotated[str, Meta(min_length=1, max_length=100)]
Tab = Literal["my_open", "unassigned", "open", "all"]


class ViewFilters(Strict):
    """What the desk shows: the tab, the search, the filters and the sort."""

    view: Tab = "my_open"
    q: Annotated[str, Meta(max_length=200)] = ""
    status: Status | None = None
    priority: Annotated[int, Meta(ge=1, le=5)] | None = None
    kind: Kind | None = None
    sort: Sort = "-id"


class SavedView(Struct, kw_only=True):
    """A saved view as listed; ``editable`` tells whether the caller may change it."""

    id: int
    name: str
    shared: bool
    owner: UserRef
    filters: ViewFilters
    editable: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class SavedViewList(Struct, kw_only=True):
    """The caller's personal views and every shared view, shared first, then by name."""

    items: list[SavedView]


class SavedViewCreate(Strict):
    """A new view; ``shared`` only for admins."""

    name: ViewName
    filters: ViewFilters
    shared: bool = False


class SavedViewUpdate(Strict):
    """A rename, new filters, or (admins) sharing or unsharing."""

    name: ViewName | UnsetType = UNSET
    shared: bool | UnsetType = UNSET
    filters: ViewFilters | UnsetType = UNSET


def _may_edit(me: Identity, row: Any) -> bool:
    return me.role == "admin" if row.shared else row.owner_id == me.user_id


def _visible(me: Identity, row: Any) -> bool:
    return bool(row.shared) or row.owner_id == me.user_id


def _to_view(me: Identity, row: Any) -> SavedView:
    return SavedView(id=row.id, name=row.name, shared=row.shared,
                     owner=UserRef(id=row.owner_id, display_name=row.display_name),
                     filters=msgspec.convert(row.filters, ViewFilters),
                     editable=_may_edit(me, row), created_at=row.created_at,
                     updated_at=row.updated_at)


def _select() -> sa.Select[Any]:
    return (sa.select(saved_views, users.c.display_name)
            .select_from(saved_views.join(users, users.c.id == saved_views.c.owner_id)))


def list_views(conn: Connection, me: Identity) -> list[SavedView]:
    """Return the caller's personal views and the shared ones."""
    rows = conn.execute(_select().where(sa.or_(saved_views.c.shared.is_(True),
                                               saved_views.c.owner_id == me.user_id))
                        .order_by(saved_views.c.shared.desc(), saved_views.c.name_key,
                                  saved_views.c.id)).all()
    return [_to_view(me, r) for r in rows]


def get_view(conn: Connection, me: Identity, view_id: int) -> SavedView:
    """Return one view the caller may see.

    Raises:
        NotFound: no such view, or another user's personal view.
    """
    return _to_view(me, _row(conn, me, view_id))


def _row(conn: Connection, me: Identity, view_id: int) -> Any:
    row = conn.execute(_select().where(saved_views.c.id == view_id)).one_or_none()
    if row is None or not _visible(me, row):
        raise NotFound("no saved view with id {view_id}", view_id=view_id)
    return row


def _check_name(conn: Connection, me: Identity, name: str, *, shared: bool,
                except_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a view needs a name")
    query = sa.select(saved_views.c.id).where(saved_views.c.name_key == fold(name))
    query = query.where(saved_views.c.shared.is_(True)) if shared else query.where(
        saved_views.c.shared.is_(False), saved_views.c.owner_id == me.user_id)
    if except_id is not None:
        query = query.where(saved_views.c.id != except_id)
    if conn.execute(query).first() is not None:
        if shared:
            raise Conflict("name: a shared view is already called {name!r}", code="name_taken",
                           name=name)
        raise Conflict("name: one of your views is already called {name!r}",
                       code="name_taken", name=name)
    return name


def _check_sharing(me: Identity, shared: bool) -> None:
    if shared and me.role != "admin":
        raise Forbidden("only admins share views with the whole desk")


def create_view(conn: Connection, me: Identity, body: SavedViewCreate,
                now: dt.datetime) -> int:
    """Store a new view and return its id.

    Raises:
        Forbidden: a technician asked for a shared view.
        Conflict: the name is taken (``name_taken``), or the owner has too many views.
    """
    _check_sharing(me, body.shared)
    name = _check_name(conn, me, body.name, shared=body.shared)
    owned = conn.execute(sa.select(sa.func.count()).select_from(saved_views)
                         .where(saved_views.c.owner_id == me.user_id)).scalar_one()
    if owned >= MAX_PER_OWNER:
        raise Conflict("you have {most} saved views, the most one may keep; delete one first",
                       code="too_many_views", most=MAX_PER_OWNER)
    result = conn.execute(saved_views.insert().values(
        owner_id=me.user_id, name=name, name_key=fold(name), shared=body.shared,
        filters=msgspec.to_builtins(body.filters), created_at=now, updated_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_view(conn: Connection, me: Identity, view_id: int, body: SavedViewUpdate,
                now: dt.datetime) -> list[str]:
    """Change a view; return the names of the fields changed.

    Raises:
        NotFound: no such view, or another user's personal view.
        Forbidden: a technician changing a shared view, or sharing one.
        Conflict: the new name is taken.
    """
    row = _row(conn, me, view_id)
    if not _may_edit(me, row):
        raise Forbidden("only admins change shared views")
    shared = row.shared if body.shared is UNSET else body.shared
    if shared != row.shared:
        _check_sharing(me, True)  # sharing and unsharing are both the admins' call
    values: dict[str, Any] = {}
    if body.name is not UNSET or shared != row.shared:
        name = _check_name(conn, me, row.name if body.name is UNSET else body.name,
                           shared=shared, except_id=view_id)
        values.update(name=name, name_key=fold(name), shared=shared)
    if body.filters is not UNSET:
        values["filters"] = msgspec.to_builtins(body.filters)
    if shared != row.shared and not shared:
        values["owner_id"] = me.user_id  # unshared, it becomes the admin's personal view
    if values:
        conn.execute(saved_views.update().where(saved_views.c.id == view_id)
                     .values(**values, updated_at=now))
    return sorted(values)


def delete_view(conn: Connection, me: Identity, view_id: int) -> str:
    """Delete a view; return its name.

    Raises:
        NotFound: no such view, or another user's personal view.
        Forbidden: a technician deleting a shared view.
    """
    row = _row(conn, me, view_id)
    if not _may_edit(me, row):
        raise Forbidden("only admins delete shared views")
    conn.execute(saved_views.delete().where(saved_views.c.id == view_id))
    return str(row.name)
