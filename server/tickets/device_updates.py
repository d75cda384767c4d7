"""Tickets raised from a device, as its agent sees them: updates, statuses and ratings.

A ticket belongs to a device's user when it was raised from that device (a row in
``agent_tickets``) for exactly the login the agent names now (``tickets.reported_login``).
The login is the device's word, so this only ever shows a device the tickets it raised
itself; who the requester is plays no part. Only public changes are reported: a
technician's public reply and a resolution.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import agent_tickets, ticket_events, tickets, users
from server.satisfaction import store as satisfaction_store
from server.tickets import timeline
from shared import protocol as p

STAFF_ROLES = frozenset({"admin", "technician"})
RATED_STATUSES = frozenset({"resolved", "closed"})
TEXT_LIMIT = 500


def _cut(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"


def update_for(conn: Connection, ticket_id: int,
               change: str) -> tuple[list[int], p.TicketUpdate] | None:
    """Return (device ids, message) telling a public change to the devices it came from.

    ``change`` is the live feed's change name; only a staff member's public comment
    ("commented") and a change of status to resolved ("updated") make an update.
    """
    devices = sorted({r.device_id for r in conn.execute(
        sa.select(agent_tickets.c.device_id).where(agent_tickets.c.ticket_id == ticket_id))})
    if not devices:
        return None
    row = conn.execute(sa.select(tickets.c.number, tickets.c.title, tickets.c.status,
                                 tickets.c.resolution_note, tickets.c.reported_login,
                                 users.c.username)
                       .join(users, users.c.id == tickets.c.requester_id)
                       .where(tickets.c.id == ticket_id)).first()
    if row is None:
        return None
    actor = users.alias("actor")
    kind: Literal["replied", "resolved"]
    wanted: tuple[str, ...]
    if change == "commented":
        kind = "replied"
        wanted = ("comment",)
    elif change == "updated" and row.status == "resolved":
        kind = "resolved"
        # The resolution must be the newest change of state: a merge of a ticket resolved
        # long ago also publishes "updated", and must not announce that old resolution.
        wanted = ("status_changed", "merged", "merged_from")
    else:
        return None
    event = conn.execute(
        sa.select(ticket_events.c.id, ticket_events.c.type, ticket_events.c.body,
                  ticket_events.c.changes, actor.c.role)
        .outerjoin(actor, actor.c.id == ticket_events.c.actor_id)
        .where(ticket_events.c.ticket_id == ticket_id, ticket_events.c.public.is_(True),
               ticket_events.c.type.in_(wanted))
        .order_by(ticket_events.c.id.desc()).limit(1)).first()
    if event is None:
        return None
    if kind == "replied":
        if event.role not in STAFF_ROLES:  # the requester's own reply is no news to them
            return None
        text = _cut(event.body)
    else:
        if (event.type != "status_changed"
                or (event.changes or {}).get("status", {}).get("after") != "resolved"):
            return None
        text = _cut(event.body or row.resolution_note)
    return devices, p.TicketUpdate(
        ticket_id=ticket_id, number=row.number, title=row.title, status=row.status,
        change=kind, requester_login=_login(row.reported_login or row.username), text=text,
        event_id=event.id)


def _login(username: str) -> str:
    """Return a user name as the protocol's login (names from elsewhere may not fit)."""
    cleaned = "".join(c for c in username if c.isalnum() or c in "._@-")[:64]
    return cleaned or "unknown"


def _owned(conn: Connection, device_id: int, login: str, ticket_ids: list[int]) -> list[Any]:
    """Return the rows of those tickets raised from ``device_id`` for login ``login``."""
    return list(conn.execute(
        sa.select(tickets.c.id, tickets.c.number, tickets.c.title, tickets.c.status,
                  tickets.c.requester_id)
        .join(agent_tickets, agent_tickets.c.ticket_id == tickets.c.id)
        .where(agent_tickets.c.device_id == device_id, tickets.c.id.in_(ticket_ids),
               tickets.c.reported_login == login)
        .distinct()))


def _rated(conn: Connection, ticket_ids: list[int]) -> set[int]:
    if not ticket_ids:
        return set()
    return {r.ticket_id for r in conn.execute(
        sa.select(ticket_events.c.ticket_id).where(ticket_events.c.ticket_id.in_(ticket_ids),
                                                   ticket_events.c.type == "rating"))}


def statuses(conn: Connection, device_id: int,
             message: p.TicketStatusRequest) -> p.TicketStatuses:
    """Answer a status request; tickets not the user's from this device are left out."""
    rows = _owned(conn, device_id, message.requester_login, sorted(set(message.ticket_ids)))
    rated = _rated(conn, [r.id for r in rows])
    return p.TicketStatuses(id=message.id, tickets=[
        p.TicketStatusItem(ticket_id=r.id, number=r.number, title=r.title, status=r.status,
                           rated=r.id in rated) for r in sorted(rows, key=lambda r: r.id)])


def record_rating(conn: Connection, device_id: int, message: p.Rating,
                  now: dt.datetime, *, low_score: int = 2) -> tuple[int, str, int]:
    """Put the rating on the ticket's timeline; return (ticket id, number, requester id).

    A score at or below ``low_score`` flags the ticket as any answer does
    (server/satisfaction/store.py).

    Raises:
        ProtocolError: ``unknown_ticket`` (not this user's ticket from this device, or no
            such ticket: one answer for both), ``not_resolved``, ``already_rated``.
    """
    rows = _owned(conn, device_id, message.requester_login, [message.ticket_id])
    if not rows:
        raise p.ProtocolError(p.UNKNOWN_TICKET, f"no ticket {message.ticket_id} raised from "
                              f"this device by {message.requester_login!r}", msg_id=message.id)
    row = rows[0]
    if row.status not in RATED_STATUSES:
        raise p.ProtocolError(p.NOT_RESOLVED, f"ticket {row.number} is {row.status}; only a "
                              "resolved or closed ticket can be rated", msg_id=message.id)
    if _rated(conn, [row.id]):
        raise p.ProtocolError(p.ALREADY_RATED, f"ticket {row.number} is already rated",
                              msg_id=message.id)
    timeline.add_event(conn, row.id, actor_id=row.requester_id, type="rating", public=False,
                       now=now, body=message.comment.strip() or None,
                       changes={"rating": {"score": message.score, "scale": 5,
                                           "via": "tray"}})
    full = conn.execute(sa.select(tickets).where(tickets.c.id == row.id)).one()
    satisfaction_store.flag_low_score(conn, full, score=message.score, low_score=low_score,
                                      comment=message.comment.strip() or None, now=now)
    return int(row.id), str(row.number), int(row.requester_id)
