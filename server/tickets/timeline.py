"""A ticket's timeline: appending events and comments, reading them back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_events, tickets
from server.errors import ValidationFailed
from server.mail import outbox as mail_outbox
from server.reports import rollup as report_rollup
from server.sla import tracking as sla_tracking
from server.tickets import lifecycle
from server.tickets.reading import get_row, user_refs
from server.tickets.schemas import TicketEvent
from server.tickets.search import index_event
from server.tickets.visibility import REQUESTER_EVENTS, for_requester


def add_event(conn: Connection, ticket_id: int, *, actor_id: int | None, type: str,
              public: bool, now: dt.datetime, body: str | None = None,
              changes: dict[str, Any] | None = None) -> int:
    """Append one timeline event; index its text for search."""
    event_id = int(conn.execute(ticket_events.insert().values(
        ticket_id=ticket_id, at=now, actor_id=actor_id, type=type, public=public, body=body,
        changes=changes or {})).inserted_primary_key[0])  # type: ignore[index]
    if body:
        index_event(conn, event_id, ticket_id, body, public=public)
    # E-mail notifications commit with the event that causes them (server/mail/outbox.py).
    mail_outbox.on_ticket_event(conn, ticket_id, type=type, public=public, actor_id=actor_id,
                                body=body, changes=changes, now=now)
    # Dashboards' roll-ups are refreshed just before this transaction commits.
    report_rollup.mark(conn, ticket_id)
    return event_id


def add_comment(conn: Connection, ticket_id: int, *, actor_id: int, body: str, public: bool,
                now: dt.datetime) -> int:
    """Add a reply or internal note; return the event id.

    Raises:
        ValidationFailed: the ticket is closed or cancelled.
    """
    row = get_row(conn, ticket_id)
    if row.status in lifecycle.FINAL_STATUSES:
        raise ValidationFailed("a {status} ticket takes no more comments",
                               code="invalid_transition", status=row.status)
    event_id = add_event(conn, ticket_id, actor_id=actor_id,
                         type="comment" if public else "internal_note", public=public,
                         now=now, body=body)
    conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(updated_at=now))
    if public:
        sla_tracking.on_public_reply(conn, ticket_id, actor_id, now)
    return event_id


def events_of(conn: Connection, ticket_id: int, *, public_only: bool) -> list[TicketEvent]:
    """Return a ticket's timeline, oldest first (for requesters: only what is meant for them)."""
    query = (sa.select(ticket_events).where(ticket_events.c.ticket_id == ticket_id)
             .order_by(ticket_events.c.id))
    if public_only:
        query = query.where(ticket_events.c.public.is_(True),
                            ticket_events.c.type.in_(sorted(REQUESTER_EVENTS)))
    rows = conn.execute(query).all()
    refs = user_refs(conn, {r.actor_id for r in rows if r.actor_id is not None})
    events = [TicketEvent(id=r.id, at=r.at, actor=refs.get(r.actor_id) if r.actor_id else None,
                          type=r.type, public=r.public, body=r.body, changes=r.changes)
              for r in rows]
    if public_only:
        return [e for e in map(for_requester, events) if e is not None]
    return events
