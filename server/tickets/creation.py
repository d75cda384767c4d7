"""Create tickets: human numbers, reference checks, devices and tags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server import category_tree
from server.auth.identity import STAFF_ROLES
from server.db.names import fold_tags
from server.db.schema import (
    categories,
    devices,
    groups,
    ticket_counters,
    ticket_devices,
    ticket_tags,
    tickets,
    users,
)
from server.errors import ValidationFailed
from server.sla import tracking as sla_tracking
from server.tickets import lifecycle
from server.tickets.assignment import auto_assignee
from server.tickets.search import index_ticket
from server.tickets.timeline import add_event


def next_number(conn: Connection, kind: lifecycle.Kind) -> str:
    """Take the next human number of a kind (inside the writer's transaction)."""
    row = conn.execute(sa.select(ticket_counters.c.last)
                       .where(ticket_counters.c.kind == kind)).first()
    if row is None:
        conn.execute(ticket_counters.insert().values(kind=kind, last=1))
        return lifecycle.number(kind, 1)
    conn.execute(ticket_counters.update().where(ticket_counters.c.kind == kind)
                 .values(last=ticket_counters.c.last + 1))
    return lifecycle.number(kind, row.last + 1)


def check_refs(conn: Connection, *, user_ids: dict[str, int | None] | None = None,
               group_id: int | None = None, category_id: int | None = None,
               device_ids: list[int] | None = None, problem_id: int | None = None) -> None:
    """Refuse references to rows that do not exist (422 naming the field).

    An assignee must be active staff: whoever holds a ticket reads all of it, internal
    notes included, and is mailed about it (server/mail/outbox.py checks again).
    """
    for field, user_id in (user_ids or {}).items():
        if user_id is None:
            continue
        role = conn.execute(sa.select(users.c.role).where(
            users.c.id == user_id, users.c.active.is_(True))).scalar()
        if role is None:
            raise ValidationFailed("{field}: no active user with id {user_id}", field=field,
                                   user_id=user_id)
        if field == "assignee_id" and role not in STAFF_ROLES:
            raise ValidationFailed("{field}: user {user_id} is a {role}; only technicians "
                                   "and admins can be assigned", field=field, user_id=user_id,
                                   role=role)
    if group_id is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}", group_id=group_id)
    # A retired category stays on the tickets that have it, but is not given to more.
    category_tree.check_usable(conn, categories, category_id)
    if device_ids:
        found = {r.id for r in conn.execute(sa.select(devices.c.id)
                                            .where(devices.c.id.in_(device_ids)))}
        missing = sorted(set(device_ids) - found)
        if missing:
            raise ValidationFailed("device_ids: no device with id {value}", value=missing[0])
    if problem_id is not None:
        row = conn.execute(sa.select(tickets.c.kind).where(tickets.c.id == problem_id)).first()
        if row is None or row.kind != "problem":
            raise ValidationFailed("problem_id: ticket {problem_id} is not a problem",
                                   problem_id=problem_id)


def set_devices(conn: Connection, ticket_id: int, device_ids: list[int]) -> None:
    """Replace the devices a ticket is about."""
    conn.execute(ticket_devices.delete().where(ticket_devices.c.ticket_id == ticket_id))
    if device_ids:
        conn.execute(ticket_devices.insert(),
                     [{"ticket_id": ticket_id, "device_id": d} for d in sorted(set(device_ids))])


def set_tags(conn: Connection, ticket_id: int, tags: list[str]) -> None:
    """Replace a ticket's tags (case-folded, without duplicates)."""
    conn.execute(ticket_tags.delete().where(ticket_tags.c.ticket_id == ticket_id))
    clean = fold_tags(tags)
    if clean:
        conn.execute(ticket_tags.insert(), [{"ticket_id": ticket_id, "tag": t} for t in clean])


@dataclass(frozen=True)
class NewTicket:
    """Validated values of a ticket about to be created."""

    kind: lifecycle.Kind
    title: str
    description: str
    impact: int
    urgency: int
    priority: int
    category_id: int | None
    requester_id: int
    assignee_id: int | None
    group_id: int | None
    device_ids: list[int]
    tags: list[str]
    source: lifecycle.Source
    reported_device_id: int | None = None  # raised on a device: which one,
    reported_login: str | None = None  # and the OS login it reported (as reported)


def create_ticket(conn: Connection, new: NewTicket, *, actor_id: int | None,
                  now: dt.datetime) -> int:
    """Insert a ticket with its first timeline event; return its id."""
    check_refs(conn, user_ids={"requester_id": new.requester_id,
                               "assignee_id": new.assignee_id},
               group_id=new.group_id, category_id=new.category_id, device_ids=new.device_ids)
    assignee_id = new.assignee_id
    if assignee_id is None and new.group_id is not None:
        assignee_id = auto_assignee(conn, new.group_id)
    status = lifecycle.status_after_assignment("new", assignee_id)
    ticket_id = int(conn.execute(tickets.insert().values(
        number=next_number(conn, new.kind), kind=new.kind, title=new.title,
        description=new.description, status=status, impact=new.impact, urgency=new.urgency,
        priority=new.priority, category_id=new.category_id, requester_id=new.requester_id,
        assignee_id=assignee_id, group_id=new.group_id, source=new.source,
        created_by=actor_id, created_at=now, updated_at=now,
        reported_device_id=new.reported_device_id, reported_login=new.reported_login,
    )).inserted_primary_key[0])  # type: ignore[index]
    set_devices(conn, ticket_id, new.device_ids)
    set_tags(conn, ticket_id, new.tags)
    changes: dict[str, Any] = {"status": {"before": None, "after": status},
                               "priority": {"before": None, "after": new.priority}}
    if assignee_id is not None and new.assignee_id is None:
        changes["assignee_id"] = {"before": None, "after": assignee_id, "auto": True}
    if new.reported_login is not None:  # the desk's timeline: "reported by pc-7 for 'bob'"
        changes["reported"] = reported_change(conn, new.reported_device_id, new.reported_login)
    created = add_event(conn, ticket_id, actor_id=actor_id, type="created", public=True,
                        now=now, changes=changes)
    index_ticket(conn, ticket_id, new.title, new.description, doc_id=created)
    sla_tracking.on_created(conn, ticket_id, now)
    return ticket_id


def reported_change(conn: Connection, device_id: int | None, login: str) -> dict[str, Any]:
    """Return the created event's record of what a device reported."""
    hostname = conn.execute(sa.select(devices.c.hostname).where(
        devices.c.id == device_id)).scalar() if device_id is not None else None
    return {"device_id": device_id, "hostname": hostname, "login": login}
