"""The service catalog: request types with their own form fields and optional approval."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, Struct, UnsetType
from sqlalchemy.engine import Connection

from server import category_tree
from server.db.names import fold
from server.db.schema import catalog_items, categories, groups, tickets, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.users.schemas import Strict

FieldType = Literal["text", "textarea", "select", "number", "date", "checkbox"]
Approval = Literal["none", "approver", "group_manager"]
# Who is offered the request type in the portal: everyone, or technicians and admins only.
Visibility = Literal["everyone", "staff"]


class FormField(Struct, forbid_unknown_fields=True, kw_only=True):
    """One field of a request type's form."""

    name: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$(?!\n)")]
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    type: FieldType = "text"
    required: bool = False
    options: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]],
                       Meta(max_length=50)] = []


Name = Annotated[str, Meta(min_length=1, max_length=100)]
Description = Annotated[str, Meta(max_length=5000)]
Fields = Annotated[list[FormField], Meta(max_length=30)]


class CatalogItem(Struct, kw_only=True):
    """A request type as listed."""

    id: int
    name: str
    description: str
    fields: list[FormField]
    approval: Approval
    approver_id: int | None
    group_id: int | None
    category_id: int | None
    visibility: Visibility
    position: int
    active: bool


class CatalogItemCreate(Strict):
    """A new request type (it goes last in the portal's list)."""

    name: Name
    description: Description = ""
    fields: Fields = []
    approval: Approval = "none"
    approver_id: int | None = None
    group_id: int | None = None
    category_id: int | None = None
    visibility: Visibility = "everyone"


class CatalogItemUpdate(Strict):
    """Changes to a request type; ``active: false`` retires it (its tickets stay)."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    fields: Fields | UnsetType = UNSET
    approval: Approval | UnsetType = UNSET
    approver_id: int | UnsetType | None = UNSET
    group_id: int | UnsetType | None = UNSET
    category_id: int | UnsetType | None = UNSET
    visibility: Visibility | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class CatalogOrder(Strict):
    """The order of request types in the portal: every request type's id, first first."""

    item_ids: Annotated[list[int], Meta(max_length=1000)]


class CatalogList(Struct, kw_only=True):
    """Request types, by name."""

    items: list[CatalogItem]


class CatalogRequest(Strict):
    """A requester's filled-in form."""

    values: dict[Annotated[str, Meta(max_length=40)], str | int | float | bool] = {}
    title: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Meta(max_length=20_000)] = ""


class ApprovalDecision(Strict):
    """An approver's answer."""

    decision: Literal["approve", "reject"]
    comment: Annotated[str, Meta(max_length=5000)] = ""


def check_fields(fields: list[FormField]) -> None:
    """Refuse duplicate names and selects without options.

    Raises:
        ValidationFailed: naming the field.
    """
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise ValidationFailed("field {name!r} appears twice", name=f.name)
        seen.add(f.name)
        if (f.type == "select") != bool(f.options):
            raise ValidationFailed("field {name!r}: options are for select fields, and "
                                   "a select needs them", name=f.name)
        if len(set(f.options)) != len(f.options):
            raise ValidationFailed("field {name!r}: an option appears twice", name=f.name)


def _check_value(f: FormField, value: Any) -> None:
    if f.type == "checkbox":
        if not isinstance(value, bool):
            raise ValidationFailed("{label} must be true or false", label=f.label)
    elif f.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed("{label} must be a number", label=f.label)
    elif not isinstance(value, str) or len(value) > 5000:
        raise ValidationFailed("{label} must be text of at most 5000 characters",
                               label=f.label)
    elif f.type == "select" and value not in f.options:
        raise ValidationFailed("{label} must be one of {options}", label=f.label,
                               options=", ".join(f.options))
    elif f.type == "date":
        try:
            if len(value) != 10:
                raise ValueError(value)
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed("{label} must be a date (YYYY-MM-DD)",
                                   label=f.label) from None


def validate_form(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """Check filled-in values against the form; return them in field order.

    Raises:
        ValidationFailed: an unknown field, a missing required one, or a wrong value.
    """
    by_name = {f.name: f for f in fields}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ValidationFailed("unknown form field {value!r}", value=unknown[0])
    clean: dict[str, Any] = {}
    for f in fields:
        value = values.get(f.name)
        # A required checkbox must be ticked ("I accept ..."): false counts as missing.
        if value is None or value == "" or (f.type == "checkbox" and value is False
                                            and f.required):
            if f.required:
                raise ValidationFailed("{label} is required", label=f.label)
            continue
        _check_value(f, value)
        clean[f.name] = value
    return clean


def to_item(row: Any) -> CatalogItem:
    """Return the API view of a catalog row."""
    return CatalogItem(id=row.id, name=row.name, description=row.description,
                       fields=msgspec.convert(row.fields, list[FormField]),
                       approval=row.approval, approver_id=row.approver_id,
                       group_id=row.group_id, category_id=row.category_id,
                       visibility=row.visibility, position=row.position, active=row.active)


def _check_item(conn: Connection, values: dict[str, Any], *, item_id: int | None,
                changed: set[str]) -> None:
    """Check a whole request type (as it will be stored) against the references it makes."""
    check_fields(msgspec.convert(values["fields"], list[FormField]))
    if values["approval"] == "approver" and not _active(conn, values["approver_id"]):
        raise ValidationFailed("approver_id: approval by an approver needs an active "
                               "approver", code="invalid_approver")
    if values["approval"] == "group_manager" and values["group_id"] is None:
        raise ValidationFailed("group_id: approval by the group's manager needs a group",
                               code="invalid_group")
    if values["group_id"] is not None and "group_id" in changed and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == values["group_id"])).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}",
                               code="invalid_group", group_id=values["group_id"])
    if "category_id" in changed:
        category_tree.check_usable(conn, categories, values["category_id"])
    if "name" in changed:
        taken = sa.select(catalog_items.c.id).where(
            catalog_items.c.name_key == fold(values["name"]))
        if item_id is not None:
            taken = taken.where(catalog_items.c.id != item_id)
        if conn.execute(taken).first() is not None:
            raise Conflict("a request type named {name!r} exists", name=values["name"])


def create_item(conn: Connection, body: CatalogItemCreate, now: dt.datetime) -> int:
    """Insert a request type, last in the portal's order.

    Raises:
        ValidationFailed: bad fields, or an approval without an approver to ask.
        Conflict: the name is taken.
    """
    values = msgspec.to_builtins(body)
    values["name"] = values["name"].strip()
    if not values["name"]:
        raise ValidationFailed("name must not be blank")
    _check_item(conn, values, item_id=None, changed=set(values))
    if values["approval"] != "approver":
        values["approver_id"] = None
    last = conn.execute(sa.select(sa.func.max(catalog_items.c.position))).scalar()
    return int(conn.execute(catalog_items.insert().values(
        **values, name_key=fold(values["name"]), active=True, created_at=now,
        position=0 if last is None else last + 1,
    )).inserted_primary_key[0])  # type: ignore[index]


def update_item(conn: Connection, item_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a request type; return what changed. Its tickets keep their answers.

    Raises:
        NotFound: no such request type.
        ValidationFailed, Conflict: as for :func:`create_item`.
    """
    row = get_item(conn, item_id)
    if "fields" in changes:
        changes["fields"] = msgspec.to_builtins(changes["fields"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise ValidationFailed("name must not be blank")
    if changes.get("approval", row.approval) != "approver":
        changes["approver_id"] = None
    values = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if not values:
        return {}
    merged = {k: values.get(k, getattr(row, k)) for k in
              ("name", "fields", "approval", "approver_id", "group_id", "category_id")}
    _check_item(conn, merged, item_id=item_id, changed=set(values))
    stored = dict(values)
    if "name" in stored:
        stored["name_key"] = fold(stored["name"])
    conn.execute(catalog_items.update().where(catalog_items.c.id == item_id).values(**stored))
    return values


def delete_item(conn: Connection, item_id: int) -> None:
    """Delete a request type nobody has requested yet.

    Raises:
        NotFound: no such request type.
        Conflict: tickets were filed from it (retire it instead).
    """
    get_item(conn, item_id)
    used = conn.execute(sa.select(sa.func.count()).select_from(tickets)
                        .where(tickets.c.catalog_item_id == item_id)).scalar()
    if used:
        raise Conflict("{used} ticket(s) were filed from this request type; retire it "
                       "instead, so they keep their form", code="in_use", used=used)
    conn.execute(catalog_items.delete().where(catalog_items.c.id == item_id))


def reorder(conn: Connection, item_ids: list[int]) -> None:
    """Put request types in the given order (the list names every one exactly once).

    Raises:
        ValidationFailed: an id missing, unknown or repeated.
    """
    known = {r.id for r in conn.execute(sa.select(catalog_items.c.id))}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != known:
        raise ValidationFailed("item_ids must name every request type exactly once")
    for position, item_id in enumerate(item_ids):
        conn.execute(catalog_items.update().where(catalog_items.c.id == item_id)
                     .values(position=position))


def get_item(conn: Connection, item_id: int) -> Any:
    """Return a catalog row.

    Raises:
        NotFound: no such request type.
    """
    row = conn.execute(sa.select(catalog_items)
                       .where(catalog_items.c.id == item_id)).one_or_none()
    if row is None:
        raise NotFound("no request type with id {item_id}", item_id=item_id)
    return row


def approver_for(conn: Connection, item: Any) -> int | None:
    """Return who must approve a request of this type (None: no approval needed).

    Raises:
        ValidationFailed: the approver or the group's manager is missing or inactive.
    """
    if item.approval == "approver":
        if not _active(conn, item.approver_id):
            raise ValidationFailed("this request type's approver is no longer an active "
                                   "user; tell an admin")
        return int(item.approver_id)
    if item.approval == "group_manager":
        manager = conn.execute(sa.select(groups.c.manager_id)
                               .where(groups.c.id == item.group_id)).scalar()
        if manager is None or not _active(conn, manager):
            raise ValidationFailed("this request type needs the group's manager to approve, "
                                   "and the group has no active one; tell an admin")
        return int(manager)
    return None


def _active(conn: Connection, user_id: int | None) -> bool:
    """Tell whether ``user_id`` is an active user (who can log in and decide)."""
    return user_id is not None and conn.execute(sa.select(users.c.id).where(
        users.c.id == user_id, users.c.active.is_(True))).first() is not None


def set_approval(conn: Connection, ticket_id: int, **values: Any) -> None:
    """Store approval fields of a ticket."""
    conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(**values))
