"""Suggested problems: run the detectors over the stored history, keep, accept, dismiss."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import device_software, devices, ticket_devices, ticket_events, tickets
from server.errors import Conflict, NotFound
from server.problems import detect
from server.problems.tables import problem_suggestions
from server.tickets import creation, scope

HISTORY_DAYS = 7 * 9 + 1  # the spike detector's baseline and last week


def load(conn: Connection, now: dt.datetime, *, days: int = HISTORY_DAYS) -> tuple[
        list[detect.Incident], dict[int, list[tuple[str, str]]], int]:
    """Return the incidents of the last ``days`` not yet linked to a problem, the software
    of their devices and the number of devices."""
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.created_at, tickets.c.title,
                                  tickets.c.description, tickets.c.category_id)
                        .where(tickets.c.kind == "incident", tickets.c.problem_id.is_(None),
                               tickets.c.merged_into_id.is_(None),
                               tickets.c.created_at >= now - dt.timedelta(days=days))
                        .order_by(tickets.c.id)).all()
    ids = [r.id for r in rows]
    devs: dict[int, list[int]] = defaultdict(list)
    checks: dict[int, tuple[int, str]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for r in conn.execute(sa.select(ticket_devices.c.ticket_id, ticket_devices.c.device_id)
                              .where(ticket_devices.c.ticket_id.in_(part))):
            devs[r.ticket_id].append(r.device_id)
        for r in conn.execute(sa.select(ticket_events.c.ticket_id, ticket_events.c.changes)
                              .where(ticket_events.c.type == "health_reading",
                                     ticket_events.c.ticket_id.in_(part))
                              .order_by(ticket_events.c.id)):
            check = (r.changes or {}).get("check") or {}
            if r.ticket_id not in checks and "id" in check:
                checks[r.ticket_id] = (int(check["id"]), str(check.get("name", "")))
    incidents = [detect.Incident(
        id=r.id, created_at=r.created_at, title=r.title, text=r.description or "",
        category_id=r.category_id, check_id=checks.get(r.id, (None, None))[0],
        check_name=checks.get(r.id, (None, None))[1], device_ids=tuple(sorted(devs[r.id])))
        for r in rows]
    wanted = sorted({d for i in incidents for d in i.device_ids})
    software: dict[int, list[tuple[str, str]]] = defaultdict(list)
    fleet = int(conn.execute(sa.select(sa.func.count()).select_from(devices)).scalar() or 0)
    if wanted:
        # The fleet's share of each version is counted in SQL; the incidents' devices are
        # read in full. Only versions present on those devices can matter.
        for chunk in range(0, len(wanted), 500):
            for s in conn.execute(sa.select(device_software.c.device_id,
                                            device_software.c.name, device_software.c.version)
                                  .where(device_software.c.device_id.in_(
                                      wanted[chunk:chunk + 500]))):
                software[s.device_id].append((s.name, s.version))
        names = sorted({n for items in software.values() for n, _v in items})
        for chunk in range(0, len(names), 500):
            for s in conn.execute(sa.select(device_software.c.device_id,
                                            device_software.c.name, device_software.c.version)
                                  .where(device_software.c.name.in_(names[chunk:chunk + 500]),
                                         device_software.c.device_id.not_in(wanted))):
                software[s.device_id].append((s.name, s.version))
    return incidents, dict(software), fleet


def find(conn: Connection, now: dt.datetime, *,
         params: detect.Params | None = None) -> list[detect.Finding]:
    """Run the detectors over the stored history (a read: no writer held meanwhile)."""
    incidents, software, fleet = load(conn, now)
    return detect.detect(incidents, now=now, software=software, fleet=fleet, params=params)


def keep(conn: Connection, findings: list[detect.Finding], now: dt.datetime) -> int:
    """Store what the detectors found; return how many suggestions are open.

    A finding with the key of an open suggestion updates it; one whose suggestion was
    accepted or dismissed is left alone.
    """
    for f in findings:
        group_ids = sorted({r.group_id for r in conn.execute(
            sa.select(tickets.c.group_id).where(tickets.c.id.in_(list(f.ticket_ids))))
            if r.group_id is not None})
        existing = conn.execute(sa.select(problem_suggestions.c.id, problem_suggestions.c.status)
                                .where(problem_suggestions.c.key == f.key)).first()
        values = {"title": f.title, "detail": f.detail, "ticket_ids": list(f.ticket_ids),
                  "group_ids": group_ids, "updated_at": now}
        if existing is None:
            conn.execute(problem_suggestions.insert().values(
                source=f.source, key=f.key, status="open", created_at=now, **values))
        elif existing.status == "open":
            conn.execute(problem_suggestions.update()
                         .where(problem_suggestions.c.id == existing.id).values(**values))
    return int(conn.execute(sa.select(sa.func.count()).select_from(problem_suggestions)
                            .where(problem_suggestions.c.status == "open")).scalar() or 0)


def _visible(row: Any, groups: frozenset[int] | None) -> bool:
    # A technician sees a suggestion when one of its incidents is within their scope.
    return any(scope.allows(groups, g) for g in row.group_ids or [None])


def list_open(conn: Connection, groups: frozenset[int] | None, *,
              status: str = "open") -> list[dict[str, Any]]:
    """Return the suggestions of this status the scope may see, with their incidents."""
    rows = [r for r in conn.execute(sa.select(problem_suggestions)
                                    .where(problem_suggestions.c.status == status)
                                    .order_by(problem_suggestions.c.id.desc()))
            if _visible(r, groups)]
    ids = sorted({t for r in rows for t in r.ticket_ids})
    found: dict[int, Any] = {}
    for chunk in range(0, len(ids), 500):
        for t in conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.title,
                                        tickets.c.status, tickets.c.created_at,
                                        tickets.c.group_id)
                              .where(tickets.c.id.in_(ids[chunk:chunk + 500]))):
            found[t.id] = t
    return [{"row": r, "incidents": [found[t] for t in r.ticket_ids if t in found]}
            for r in rows]


def get(conn: Connection, suggestion_id: int, groups: frozenset[int] | None) -> Any:
    """Return one suggestion the scope may see.

    Raises:
        NotFound: no such suggestion, or not the caller's to see.
    """
    row = conn.execute(sa.select(problem_suggestions)
                       .where(problem_suggestions.c.id == suggestion_id)).first()
    if row is None or not _visible(row, groups):
        raise NotFound("no suggestion with id {suggestion_id}", suggestion_id=suggestion_id)
    return row


def accept(conn: Connection, suggestion_id: int, groups: frozenset[int] | None, *,
           actor_id: int, now: dt.datetime, title: str | None, group_id: int | None,
           matrix: Any) -> int:
    """Create the problem a suggestion describes, link its open incidents; return its id.

    Raises:
        NotFound: as :func:`get`.
        Conflict: the suggestion was already accepted or dismissed.
    """
    from server.problems import work
    from server.tickets.priority import priority_for

    row = get(conn, suggestion_id, groups)
    if row.status != "open":
        raise Conflict("this suggestion was already {status}", code="decided",
                       status=row.status)
    lines = [f"Suggested from {len(row.ticket_ids)} incidents ({row.source})."]
    problem_id = creation.create_ticket(conn, creation.NewTicket(
        kind="problem", title=(title or row.title)[:200], description="\n".join(lines),
        impact=2, urgency=3, priority=priority_for(2, 3, matrix), category_id=None,
        requester_id=actor_id, assignee_id=actor_id, group_id=group_id, device_ids=[],
        tags=["recurring"], source="api"), actor_id=actor_id, now=now)
    allowed = [t for t in row.ticket_ids if scope.allows(groups, _group_of(conn, t))]
    work.link_incidents(conn, problem_id, allowed, actor_id=actor_id, now=now)
    conn.execute(problem_suggestions.update().where(problem_suggestions.c.id == row.id).values(
        status="accepted", problem_id=problem_id, decided_by=actor_id, decided_at=now,
        updated_at=now))
    return problem_id


def _group_of(conn: Connection, ticket_id: int) -> int | None:
    group_id: int | None = conn.execute(sa.select(tickets.c.group_id)
                                        .where(tickets.c.id == ticket_id)).scalar()
    return group_id


def dismiss(conn: Connection, suggestion_id: int, groups: frozenset[int] | None, *,
            actor_id: int, now: dt.datetime) -> None:
    """Dismiss a suggestion: the same finding is not suggested again.

    Raises:
        NotFound: as :func:`get`.
        Conflict: already accepted or dismissed.
    """
    row = get(conn, suggestion_id, groups)
    if row.status != "open":
        raise Conflict("this suggestion was already {status}", code="decided",
                       status=row.status)
    conn.execute(problem_suggestions.update().where(problem_suggestions.c.id == row.id).values(
        status="dismissed", decided_by=actor_id, decided_at=now, updated_at=now))
