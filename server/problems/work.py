"""Work a problem: link incidents, publish its workaround to the KB, resolve it with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import tickets
from server.errors import ValidationFailed
from server.kb import store as kb_store
from server.kb.tables import kb_articles, kb_ticket_links
from server.tickets import lifecycle, updating
from server.tickets.reading import get_row
from server.tickets.timeline import add_event


def problem_row(conn: Connection, problem_id: int) -> Any:
    """Return a problem's row.

    Raises:
        NotFound: no such ticket.
        ValidationFailed: the ticket is not a problem.
    """
    row = get_row(conn, problem_id)
    if row.kind != "problem":
        raise ValidationFailed("ticket {number} is not a problem", code="not_a_problem",
                               number=row.number)
    return row


def link_incidents(conn: Connection, problem_id: int, ticket_ids: list[int], *,
                   actor_id: int | None, now: dt.datetime) -> list[int]:
    """Link incidents (not yet linked to a problem, not closed) to a problem; return them."""
    problem = problem_row(conn, problem_id)
    linked = []
    for row in conn.execute(sa.select(tickets.c.id, tickets.c.problem_id, tickets.c.status)
                            .where(tickets.c.id.in_(sorted(set(ticket_ids))),
                                   tickets.c.kind == "incident")).all():
        if row.problem_id is not None or row.status in lifecycle.FINAL_STATUSES:
            continue
        conn.execute(tickets.update().where(tickets.c.id == row.id)
                     .values(problem_id=problem_id, updated_at=now))
        add_event(conn, row.id, actor_id=actor_id, type="updated", public=False, now=now,
                  changes={"problem_id": {"before": None, "after": problem_id}})
        linked.append(row.id)
    if linked:
        add_event(conn, problem_id, actor_id=actor_id, type="updated", public=False, now=now,
                  changes={"incidents": {"before": None, "after": linked}},
                  body=f"{len(linked)} incidents linked to {problem.number}.")
    return linked


def incidents_of(conn: Connection, problem_id: int, *, open_only: bool) -> list[Any]:
    """Return the incidents linked to a problem (id, number, title, status, requester)."""
    query = (sa.select(tickets.c.id, tickets.c.number, tickets.c.title, tickets.c.status,
                       tickets.c.requester_id, tickets.c.group_id, tickets.c.assignee_id)
             .where(tickets.c.problem_id == problem_id).order_by(tickets.c.id))
    if open_only:
        query = query.where(tickets.c.status.in_(sorted(lifecycle.OPEN_STATUSES)))
    return list(conn.execute(query))


def publish_workaround(conn: Connection, problem_id: int, *, actor_id: int,
                       now: dt.datetime) -> int:
    """Publish the problem's workaround as a public KB article (or a new version of the
    one published before) linked to the problem; return the article's id.

    Raises:
        ValidationFailed: not a problem, or no workaround written yet.
    """
    row = problem_row(conn, problem_id)
    if not (row.workaround or "").strip():
        raise ValidationFailed("workaround: write the workaround before publishing it",
                               code="no_workaround")
    title = f"Workaround: {row.title}"[:200]
    body = row.workaround.strip()
    summary = " ".join(body.split())[:300]
    article_id = row.workaround_article_id
    exists = article_id is not None and conn.execute(
        sa.select(kb_articles.c.id).where(kb_articles.c.id == article_id)).first() is not None
    if exists:
        kb_store.update_article(conn, int(article_id), {
            "title": title, "summary": summary, "body": body, "status": "published",
            "visibility": "public"}, editor_id=actor_id, now=now)
    else:
        article_id = kb_store.create_article(conn, {
            "title": title, "summary": summary, "body": body, "visibility": "public",
            "status": "published", "tags": ["workaround", row.number.lower()]},
            editor_id=actor_id, now=now)
        conn.execute(kb_ticket_links.insert().values(ticket_id=problem_id,
                                                     article_id=article_id,
                                                     created_by=actor_id, created_at=now))
        conn.execute(tickets.update().where(tickets.c.id == problem_id)
                     .values(workaround_article_id=article_id, updated_at=now))
    add_event(conn, problem_id, actor_id=actor_id, type="workaround_published", public=False,
              now=now, changes={"workaround_article_id": {"before": row.workaround_article_id,
                                                          "after": article_id}})
    return int(article_id)


def resolve(conn: Connection, problem_id: int, *, incident_ids: list[int], message: str,
            resolution_code: str, actor_id: int, now: dt.datetime,
            matrix: tuple[tuple[int, int, int], ...]) -> list[int]:
    """Resolve a problem and those of its open incidents chosen; return the incidents resolved.

    Each incident is resolved through the lifecycle with ``message`` as its resolution
    note, so its requester is mailed as for any resolution (server/mail/outbox.py sends
    only to people who may read that ticket).

    Raises:
        ValidationFailed: not a problem, an incident not open and linked to it, or a
            problem that cannot be resolved now.
    """
    problem = problem_row(conn, problem_id)
    open_ids = {r.id for r in incidents_of(conn, problem_id, open_only=True)}
    stray = sorted(set(incident_ids) - open_ids)
    if stray:
        raise ValidationFailed("incident_ids: ticket {ticket_id} is not an open incident of "
                               "{number}", ticket_id=stray[0], number=problem.number)
    if problem.status != "resolved":
        updating.update_ticket(conn, problem_id, {
            "status": "resolved", "resolution_code": resolution_code,
            "resolution_note": message}, actor_id=actor_id, now=now, matrix=matrix)
    done = []
    for ticket_id in sorted(set(incident_ids)):
        updating.update_ticket(conn, ticket_id, {
            "status": "resolved", "resolution_code": resolution_code,
            "resolution_note": message}, actor_id=actor_id, now=now, matrix=matrix)
        done.append(ticket_id)
    return done
