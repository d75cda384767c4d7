"""Satisfaction answers: recorded as timeline events of type ``rating``, read back, summed.

The tray's ratings always were ``rating`` events (server/tickets/device_updates.py); the
portal and the mail links add theirs the same way, so that one place holds every answer:
``changes["rating"] = {"score", "scale": 5, "via": "tray"|"portal"|"mail", "link"?,
"before"?}`` and the comment in the event's body. The timeline is append-only: a changed
answer is a newer event, and a ticket's answer is its latest ``rating`` event.

One answer per ticket: the requester may change it (score and comment) within
``satisfaction_change_hours`` of their first answer; after that a new one is refused
(``already_rated``). The tray keeps refusing a second rating outright (its protocol).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import groups, ticket_events, tickets, users
from server.errors import Conflict, ValidationFailed
from server.mail import outbox
from server.satisfaction.answers import Answer, answers
from server.tickets.timeline import add_event

Via = Literal["tray", "portal", "mail"]
RATED_STATUSES = frozenset({"resolved", "closed"})
COMMENT_MAX = 2000


def record(conn: Connection, ticket: Any, *, score: int, comment: str | None, via: Via,
           now: dt.datetime, change_hours: int, low_score: int, link: str | None = None,
           keep_comment: bool = False) -> Answer:
    """Record (or change, within the window) the requester's answer; flag a low score.

    ``ticket`` is the ticket's row. ``keep_comment`` keeps the earlier comment when none
    is given (a mail link's click carries no comment).

    Raises:
        ValidationFailed: ``not_resolved``, or a bad score.
        Conflict: ``already_rated`` once the change window has passed.
    """
    if ticket.status not in RATED_STATUSES:
        raise ValidationFailed("ticket {number} is {status}; only a resolved or closed "
                               "ticket can be rated", code="not_resolved",
                               number=ticket.number, status=ticket.status)
    if not 1 <= score <= 5:
        raise ValidationFailed("score: must be 1 to 5, got {score}", score=score)
    before = answers(conn, [ticket.id]).get(ticket.id)
    if before is not None and now - before.first_at > dt.timedelta(hours=change_hours):
        raise Conflict("ticket {number} is already rated; an answer can be changed for "
                       "{hours} hours", code="already_rated", number=ticket.number,
                       hours=change_hours)
    text = (comment or "").strip()[:COMMENT_MAX] or None
    if text is None and keep_comment and before is not None:
        text = before.comment
    rating: dict[str, Any] = {"score": score, "scale": 5, "via": via}
    if link:
        rating["link"] = link
    if before is not None:
        rating["before"] = before.score
    add_event(conn, ticket.id, actor_id=ticket.requester_id, type="rating", public=False,
              now=now, body=text, changes={"rating": rating})
    flag_low_score(conn, ticket, score=score, low_score=low_score, comment=text, now=now)
    return Answer(ticket_id=ticket.id, score=score, comment=text, via=via, at=now,
                  first_at=before.first_at if before else now,
                  links=(before.links if before else frozenset()) | (
                      {link} if link else frozenset()))


def flag_low_score(conn: Connection, ticket: Any, *, score: int, low_score: int,
                   comment: str | None, now: dt.datetime) -> None:
    """Flag a low score for the group's manager (mail, visible flag); a better one clears it."""
    flagged = conn.execute(sa.select(tickets.c.satisfaction_flagged_at)
                           .where(tickets.c.id == ticket.id)).scalar()
    if score <= low_score:
        if flagged is not None:
            return
        conn.execute(tickets.update().where(tickets.c.id == ticket.id)
                     .values(satisfaction_flagged_at=now))
        add_event(conn, ticket.id, actor_id=None, type="satisfaction_flagged", public=False,
                  now=now, changes={"satisfaction_flag": {"before": None, "after": score}})
        manager = None
        if ticket.group_id is not None:
            manager = conn.execute(sa.select(groups.c.manager_id)
                                   .where(groups.c.id == ticket.group_id)).scalar()
        if manager is not None:
            outbox.on_low_score(conn, ticket.id, manager_id=int(manager), score=score,
                                comment=comment, now=now)
    elif flagged is not None:
        clear_flag(conn, ticket.id, actor_id=None, now=now)


def clear_flag(conn: Connection, ticket_id: int, *, actor_id: int | None,
               now: dt.datetime) -> bool:
    """Take the low-score flag off a ticket; return False if it had none."""
    done = conn.execute(tickets.update().where(tickets.c.id == ticket_id,
                                               tickets.c.satisfaction_flagged_at.is_not(None))
                        .values(satisfaction_flagged_at=None)).rowcount
    if done:
        add_event(conn, ticket_id, actor_id=actor_id, type="satisfaction_flag_cleared",
                  public=False, now=now,
                  changes={"satisfaction_flag": {"before": True, "after": None}})
    return bool(done)


def may_clear(conn: Connection, ticket: Any, *, user_id: int, role: str) -> bool:
    """Tell whether a user may take the flag off: an admin or the group's manager."""
    if role == "admin":
        return True
    if ticket.group_id is None:
        return False
    manager = conn.execute(sa.select(groups.c.manager_id)
                           .where(groups.c.id == ticket.group_id)).scalar()
    return manager == user_id


@dataclass(frozen=True)
class Row:
    """One line of an aggregate: a technician or a group and their answers."""

    id: int | None
    name: str | None
    answers: int
    average: float
    low: int
    scores: tuple[int, int, int, int, int]  # how many 1s .. 5s


def aggregate(conn: Connection, *, by: Literal["technician", "group"], scope: Any,
              since: dt.datetime | None, low_score: int) -> list[Row]:
    """Sum the current answers of the tickets in ``scope`` per technician or group.

    The technician is the ticket's assignee (who resolved it); a ticket without one
    counts under ``id`` None. ``scope`` is a condition on ``tickets``
    (server/tickets/scope.py).
    """
    latest = (sa.select(sa.func.max(ticket_events.c.id).label("id"))
              .where(ticket_events.c.type == "rating").group_by(ticket_events.c.ticket_id)
              .subquery())
    score = ticket_events.c.changes["rating"]["score"].as_integer()
    key = tickets.c.assignee_id if by == "technician" else tickets.c.group_id
    # Grouped by the output name: PostgreSQL does not match a JSON path expression with
    # bound parameters in GROUP BY to the same one in the select list.
    query = (sa.select(key.label("key"), score.label("rating_score"),
                       sa.func.count().label("n"))
             .select_from(ticket_events.join(latest, latest.c.id == ticket_events.c.id)
                          .join(tickets, tickets.c.id == ticket_events.c.ticket_id))
             .where(scope).group_by(sa.text("key"), sa.text("rating_score")))
    if since is not None:
        query = query.where(tickets.c.resolved_at >= since)
    counts: dict[int | None, list[int]] = {}
    for r in conn.execute(query):
        if r.rating_score is not None and 1 <= r.rating_score <= 5:
            counts.setdefault(r.key, [0] * 5)[r.rating_score - 1] += r.n
    ids = sorted(k for k in counts if k is not None)
    table, col = (users, users.c.display_name) if by == "technician" else (groups, groups.c.name)
    names = {r.id: r.name for r in conn.execute(
        sa.select(table.c.id, col.label("name")).where(table.c.id.in_(ids)))} if ids else {}
    out = []
    for k, c in counts.items():
        total = sum(c)
        out.append(Row(id=k, name=names.get(k) if k is not None else None, answers=total,
                       average=round(sum((i + 1) * n for i, n in enumerate(c)) / total, 2),
                       low=sum(c[:low_score]), scores=(c[0], c[1], c[2], c[3], c[4])))
    return sorted(out, key=lambda r: (r.name is None, (r.name or "").casefold(), r.id or 0))
