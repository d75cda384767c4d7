"""The service catalog: request types with their own form fields and optional approval."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, Struct, UnsetType
from sqlalchemy.engine import Connection

from server.db.names import fold
from server.db.schema import catalog_items, groups, tickets, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.users.schemas import Strict

FieldType = Literal["text", "textarea", "select", "number", "checkbox"]
Approval = Literal["none", "approver", "group_manager"]


class FormField(Struct, forbid_unknown_fields=True, kw_only=True):
    """One field of a request type's form."""

    name: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$(?!\n)")]
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    type: FieldType = "text"
    required: bool = False
    options: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]],
                       Meta(max_length=50)] = []


class CatalogItem(Struct, kw_only=True):
    """A request type as listed."""

    id: int
    name: str
    description: str
    fields: list[FormField]
    approval: Approval
    approver_id: int | None
    group_id: int | None
    active: bool


class CatalogItemCreate(Strict):
    """A new request type."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    description: Annotated[str, Meta(max_length=5000)] = ""
    fields: Annotated[list[FormField], Meta(max_length=30)] = []
    approval: Approval = "none"
    approver_id: int | None = None
    group_id: int | None = None


class CatalogItemUpdate(Strict):
    """Changes to a request type."""

    description: Annotated[str, Meta(max_length=5000)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


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
        if value is None or value == "":
            if f.required:
                raise ValidationFailed("{label} is required", label=f.label)
            continue
        if f.type == "checkbox":
            if not isinstance(value, bool):
                raise ValidationFailed("{label} must be true or false", label=f.label)
        elif f.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationFailed("{label} must be a number", label=f.label)
        else:
            if not isinstance(value, str) or len(value) > 5000:
                raise ValidationFailed("{label} must be text of at most 5000 characters",
                                       label=f.label)
            if f.type == "select" and value not in f.options:
                raise ValidationFailed("{label} must be one of {options}", label=f.label,
                                       options=', '.join(f.options))
        clean[f.name] = value
    return clean


def to_item(row: Any) -> CatalogItem:
    """Return the API view of a catalog row."""
    return CatalogItem(id=row.id, name=row.name, description=row.description,
                       fields=msgspec.convert(row.fields, list[FormField]),
                       approval=row.approval, approver_id=row.approver_id,
                       group_id=row.group_id, active=row.active)


def create_item(conn: Connection, body: CatalogItemCreate, now: dt.datetime) -> int:
    """Insert a request type.

    Raises:
        ValidationFailed: bad fields, or an approval without an approver to ask.
        Conflict: the name is taken.
    """
    check_fields(body.fields)
    if body.approval == "approver":
        if not _active(conn, body.approver_id):
            raise ValidationFailed("approval by an approver needs an active approver_id")
    if body.approval == "group_manager" and body.group_id is None:
        raise ValidationFailed("approval by the group's manager needs a group_id")
    if body.group_id is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == body.group_id)).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}", group_id=body.group_id)
    if conn.execute(sa.select(catalog_items.c.id)
                    .where(catalog_items.c.name_key == fold(body.name))).first() is not None:
        raise Conflict("a request type named {name!r} exists", name=body.name)
    return int(conn.execute(catalog_items.insert().values(
        name=body.name, description=body.description,
        fields=msgspec.to_builtins(body.fields), approval=body.approval,
        approver_id=body.approver_id if body.approval == "approver" else None,
        group_id=body.group_id, active=True, created_at=now,
    )).inserted_primary_key[0])  # type: ignore[index]


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
