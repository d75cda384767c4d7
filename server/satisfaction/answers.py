"""Read satisfaction answers back from the timeline (no writes: server/tickets/reading.py
uses it, and server/satisfaction/store.py records them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_events


@dataclass(frozen=True)
class Answer:
    """A ticket's current satisfaction answer."""

    ticket_id: int
    score: int
    comment: str | None
    via: str
    at: dt.datetime  # of the latest change
    first_at: dt.datetime  # of the first answer: the change window counts from here
    links: frozenset[str]  # nonces of the mail links that were used


_RATINGS = (sa.select(ticket_events.c.ticket_id, ticket_events.c.at, ticket_events.c.body,
                     ticket_events.c.changes)
            .where(ticket_events.c.type == "rating",
                   ticket_events.c.ticket_id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(ticket_events.c.id))  # built once: see tickets/reading.py


def answers(conn: Connection, ticket_ids: list[int]) -> dict[int, Answer]:
    """Return the current answer of each of these tickets that has one."""
    if not ticket_ids:
        return {}
    found: dict[int, Answer] = {}
    rows = conn.execute(_RATINGS, {"ids": sorted(set(ticket_ids))})
    for r in rows:
        rating = (r.changes or {}).get("rating") or {}
        before = found.get(r.ticket_id)
        link = rating.get("link")
        links = (before.links if before else frozenset()) | ({link} if link else set())
        found[r.ticket_id] = Answer(
            ticket_id=r.ticket_id, score=int(rating.get("score", 0)), comment=r.body,
            via=str(rating.get("via", "tray")), at=r.at,
            first_at=before.first_at if before else r.at, links=frozenset(links))
    return found
