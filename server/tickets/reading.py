"""Read tickets: one row, or whole tickets with their tags, devices, links and SLA."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import (
    devices,
    ticket_devices,
    ticket_links,
    ticket_tags,
    tickets,
    users,
    utcnow,
)
from server.errors import NotFound
from server.satisfaction import answers as satisfaction_answers
from server.sla import tracking as sla_tracking
from server.tickets import kind_change
from server.tickets.schemas import DeviceRef, ReportedBy, Satisfaction, Ticket, UserRef

# Hot statements built once with bind parameters (building one costs more CPU than
# running it; SQLAlchemy finds the compiled form in its cache).
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_USER_REFS = sa.select(users.c.id, users.c.display_name).where(users.c.id.in_(_IDS))
_LINKS = (sa.select(ticket_links.c.ticket_id, ticket_links.c.related_id)
          .where(ticket_links.c.ticket_id.in_(_IDS)).order_by(ticket_links.c.related_id))
_TAGS = (sa.select(ticket_tags.c.ticket_id, ticket_tags.c.tag)
         .where(ticket_tags.c.ticket_id.in_(_IDS)).order_by(ticket_tags.c.tag))
_DEVICES = (sa.select(ticket_devices.c.ticket_id, ticket_devices.c.device_id,
                      devices.c.hostname)
            .join(devices, devices.c.id == ticket_devices.c.device_id)
            .where(ticket_devices.c.ticket_id.in_(_IDS))
            .order_by(ticket_devices.c.device_id))
_HOSTS = sa.select(devices.c.id, devices.c.hostname).where(devices.c.id.in_(_IDS))
_ROW = sa.select(tickets).where(tickets.c.id == sa.bindparam("ticket_id"))
ROWS = sa.select(tickets).where(tickets.c.id.in_(_IDS))  # whole rows of ids=[...]


def user_refs(conn: Connection, ids: set[int]) -> dict[int, UserRef]:
    """Return the users of these ids as references (id and display name)."""
    if not ids:
        return {}
    rows = conn.execute(_USER_REFS, {"ids": sorted(ids)})
    return {r.id: UserRef(id=r.id, display_name=r.display_name) for r in rows}


def to_tickets(conn: Connection, rows: list[Any]) -> list[Ticket]:
    """Return whole tickets of ticket rows, in their order (a few queries for all)."""
    ids = [r.id for r in rows]
    sla = sla_tracking.ticket_sla(conn, ids, utcnow())
    tags: dict[int, list[str]] = defaultdict(list)
    devs: dict[int, list[DeviceRef]] = defaultdict(list)
    related: dict[int, list[int]] = defaultdict(list)
    if ids:
        for tid, other in conn.execute(_LINKS, {"ids": ids}):
            related[tid].append(other)
        for tid, tag in conn.execute(_TAGS, {"ids": ids}):
            tags[tid].append(tag)
        for tid, did, hostname in conn.execute(_DEVICES, {"ids": ids}):
            devs[tid].append(DeviceRef(id=did, hostname=hostname))
    reporters = {r.reported_device_id for r in rows if r.reported_device_id is not None}
    hosts = {r.id: r.hostname for r in conn.execute(_HOSTS, {"ids": sorted(reporters)})
             } if reporters else {}
    former = kind_change.former_numbers(conn, ids)
    answers = satisfaction_answers.answers(conn, ids)
    refs = user_refs(conn, {r.requester_id for r in rows}
                     | {r.assignee_id for r in rows if r.assignee_id is not None}
                     | {r.approver_id for r in rows if r.approver_id is not None})
    return [Ticket(
        id=r.id, number=r.number, former_numbers=former[r.id], kind=r.kind, title=r.title,
        description=r.description, status=r.status, impact=r.impact, urgency=r.urgency,
        priority=r.priority,
        category_id=r.category_id, requester=refs[r.requester_id],
        assignee=refs.get(r.assignee_id) if r.assignee_id is not None else None,
        group_id=r.group_id, problem_id=r.problem_id, merged_into_id=r.merged_into_id,
        related_ids=related[r.id], catalog_item_id=r.catalog_item_id, form=r.form,
        approval=r.approval,
        approver=refs.get(r.approver_id) if r.approver_id is not None else None,
        source=r.source, tags=tags[r.id],
        device_ids=[d.id for d in devs[r.id]], devices=devs[r.id],
        resolution_code=r.resolution_code,
        resolution_note=r.resolution_note, created_at=r.created_at, updated_at=r.updated_at,
        resolved_at=r.resolved_at, closed_at=r.closed_at, sla=sla.get(r.id),
        reported=None if r.reported_login is None else ReportedBy(
            login=r.reported_login, device=None if r.reported_device_id not in hosts else
            DeviceRef(id=r.reported_device_id, hostname=hosts[r.reported_device_id])),
        satisfaction=_satisfaction(answers.get(r.id)),
        satisfaction_flagged_at=r.satisfaction_flagged_at, root_cause=r.root_cause,
        workaround=r.workaround, known_error=bool(r.known_error),
        workaround_article_id=r.workaround_article_id,
    ) for r in rows]


def _satisfaction(answer: satisfaction_answers.Answer | None) -> Satisfaction | None:
    if answer is None:
        return None
    return Satisfaction(score=answer.score, comment=answer.comment, via=answer.via,
                        at=answer.at, first_at=answer.first_at)


def get_row(conn: Connection, ticket_id: int) -> Any:
    """Return a ticket row.

    Raises:
        NotFound: no such ticket.
    """
    row = conn.execute(_ROW, {"ticket_id": ticket_id}).one_or_none()
    if row is None:
        raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
    return row


def get_ticket(conn: Connection, ticket_id: int) -> Ticket:
    """Return one ticket.

    Raises:
        NotFound: no such ticket.
    """
    return to_tickets(conn, [get_row(conn, ticket_id)])[0]
