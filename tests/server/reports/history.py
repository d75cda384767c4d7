"""A generated desk history (months of tickets, events, SLA clocks, ratings, remote
sessions) driven through the real domain code, and plain-SQL reference figures."""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from server.db.schema import devices, groups
from server.remote.tables import remote_sessions
from server.reports import histogram, rollup
from server.sla import engine
from server.tickets import creation, relations, timeline
from server.tickets.priority import priority_for
from tests.server.sla.helpers import T0, Desk

TZ = "Asia/Jakarta"  # UTC+7: a UTC day and a desk day differ for 7 hours of each
ZONE = zoneinfo.ZoneInfo(TZ)
START = T0 - dt.timedelta(days=120)
OPEN = ("new", "assigned", "in_progress", "pending")
SOURCES = ("portal", "tray", "email", "monitoring", "api")


class History:
    """What was generated: ids of groups, categories, technicians."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        db = desk.db
        db.write_sync(lambda c: rollup.ensure_built(c, tz=TZ, now=START))
        now = START
        self.groups = [db.write_sync(lambda c, n=n: int(c.execute(groups.insert().values(
            name=n, name_key=n.lower(), description="", created_at=now)).inserted_primary_key[0]))
            for n in ("Service desk", "Network")]
        self.categories = [db.write_sync(lambda c, n=n: int(c.execute(sa.text(
            "INSERT INTO categories (name, name_key, active) VALUES (:n, :k, 1) RETURNING id"),
            {"n": n, "k": n.lower()}).scalar())) for n in ("Hardware", "Software", "Access")]
        self.techs = [desk.tech, desk.user("tom", "technician")]
        self.requesters = [desk.requester, desk.user("rita", "requester")]
        self.device = db.write_sync(lambda c: int(c.execute(devices.insert().values(
            uid="00000000-0000-0000-0000-000000000001", public_key=b"k" * 32,
            hostname="ws-1", enrolled_at=now)).inserted_primary_key[0]))
        desk.policy("standard", first_response=240, resolution=2880, pause=["pending"],
                    fallback=True)


def _ops(rng: random.Random, h: History, i: int, t0: dt.datetime) -> list[tuple[Any, ...]]:
    """Return one ticket's steps as (time, kind, args)."""
    m = dt.timedelta(minutes=1)
    steps: list[tuple[Any, ...]] = []
    tech = rng.choice(h.techs)
    t = t0 + m * rng.randint(5, 600)
    steps.append((t, "update", {"assignee_id": tech, "status": "assigned"}))
    if rng.random() < 0.8:
        t += m * rng.randint(1, 900)
        steps.append((t, "reply", tech))
    if rng.random() < 0.25:
        t += m * rng.randint(10, 600)
        steps.append((t, "update", {"status": "pending"}))  # pauses the clocks
        t += m * rng.randint(60, 3000)
        steps.append((t, "update", {"status": "in_progress"}))
    if rng.random() < 0.3:
        t += m * rng.randint(5, 400)
        steps.append((t, "reply", tech))
    if rng.random() < 0.2:
        t += m * rng.randint(5, 200)
        steps.append((t, "remote", tech))
    fate = rng.random()
    if fate < 0.07:
        steps.append((t + m * rng.randint(1, 100), "cancel", None))
        return steps
    if fate < 0.12:
        steps.append((t + m * rng.randint(1, 100), "merge", None))
        return steps
    if fate < 0.17:
        return steps  # still open
    t += m * rng.randint(30, 5000)
    steps.append((t, "resolve", None))
    if rng.random() < 0.15:
        t += m * rng.randint(60, 2000)
        steps.append((t, "update", {"status": "in_progress"}))  # reopened
        t += m * rng.randint(60, 3000)
        steps.append((t, "resolve", None))
    if rng.random() < 0.5:
        t += m * rng.randint(10, 3000)
        steps.append((t, "rate", rng.randint(1, 5)))
    if rng.random() < 0.6:
        t += m * rng.randint(60, 5000)
        steps.append((t, "update", {"status": "closed"}))
    return steps


def generate(desk: Desk, *, tickets: int = 50, seed: int = 17) -> History:
    """Fill the desk with ``tickets`` tickets over 120 days, step by step in time order."""
    rng = random.Random(seed)
    h = History(desk)
    db = desk.db
    plan: list[tuple[Any, ...]] = []
    for i in range(tickets):
        # Every fifth ticket is filed just after the desk's midnight (17:xx UTC), on a
        # desk day that is the next UTC day.
        t0 = START + dt.timedelta(minutes=rng.randint(0, 110 * 24 * 60))
        if i % 5 == 0:
            t0 = t0.replace(hour=17, minute=rng.randint(0, 59))
        plan.append((t0, i, "create", None))
        plan += [(s[0], i, s[1], s[2]) for s in _ops(rng, h, i, t0)]
    plan.sort(key=lambda s: (s[0], s[1]))
    ids: dict[int, int] = {}
    for at, i, kind, arg in plan:
        if db.read_sync(lambda c, a=at: (engine.next_event_at(c) or a) < a):
            desk.run(at)
        if kind == "create":
            new = creation.NewTicket(
                kind="incident", title=f"Ticket {i}", description="", impact=1 + i % 3,
                urgency=1 + (i // 3) % 3, priority=priority_for(1 + i % 3, 1 + (i // 3) % 3),
                category_id=None if i % 7 == 0 else h.categories[i % 3],
                requester_id=h.requesters[i % 2], assignee_id=None,
                group_id=None if i % 11 == 0 else h.groups[i % 2], device_ids=[], tags=[],
                source=SOURCES[i % 5])  # type: ignore[arg-type]
            ids[i] = db.write_sync(lambda c, n=new, a=at: creation.create_ticket(
                c, n, actor_id=n.requester_id, now=a))
            continue
        tid = ids[i]
        row = desk.row(tid)
        if row.status in ("closed", "cancelled"):
            continue
        if kind == "update":
            if arg.get("status") == "in_progress" and row.status not in (
                    "pending", "resolved", "assigned"):
                continue
            if arg.get("status") == "closed" and row.status != "resolved":
                continue
            if arg.get("status") == "pending" and row.status not in ("assigned", "in_progress"):
                continue
            desk.update(tid, at, **arg)
        elif kind == "reply" and row.status in OPEN:
            desk.reply(tid, at, by=arg)
        elif kind == "resolve" and row.status in OPEN:
            desk.resolve(tid, at)
        elif kind == "cancel" and row.status in OPEN:
            desk.update(tid, at, status="cancelled")
        elif kind == "merge" and row.status in OPEN:
            target = db.read_sync(lambda c, s=tid: c.execute(sa.text(
                "SELECT max(id) FROM tickets WHERE id != :s AND status IN "
                "('new','assigned','in_progress','pending')"), {"s": s}).scalar())
            if target is not None:
                db.write_sync(lambda c, s=tid, g=target, a=at: relations.merge(
                    c, s, g, actor_id=desk.tech, now=a))
        elif kind == "rate":
            db.write_sync(lambda c, s=tid, a=at, r=row, score=arg: timeline.add_event(
                c, s, actor_id=r.requester_id, type="rating", public=False, now=a,
                body=None, changes={"rating": {"score": score, "scale": 5}}))
        elif kind == "remote" and row.status in OPEN:
            def session(c: Any, s: int = tid, a: dt.datetime = at, by: int = arg) -> None:
                c.execute(remote_sessions.insert().values(
                    ticket_id=s, device_id=h.device, technician_id=by, mode="control",
                    reason="look", state="ended", created_at=a, started_at=a,
                    ended_at=a + dt.timedelta(minutes=5), summary={}))
                timeline.add_event(c, s, actor_id=by, type="remote_session", public=True,
                                   now=a, body=None, changes={})
            db.write_sync(session)
    desk.run(T0 + dt.timedelta(days=3))
    h.ids = ids  # type: ignore[attr-defined]
    return h


# ---- plain SQL references -------------------------------------------------------------

def day(at: Any) -> str:
    """Return the desk day of a stored time (SQLite gives naive UTC strings)."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(ZONE).date().isoformat()


def seconds(a: Any, b: Any) -> float:
    """Return b - a in seconds for two stored times."""
    def parse(x: Any) -> dt.datetime:
        x = dt.datetime.fromisoformat(x) if isinstance(x, str) else x
        return x if x.tzinfo else x.replace(tzinfo=dt.UTC)
    return (parse(b) - parse(a)).total_seconds()


RESOLUTIONS = """
    SELECT e.ticket_id, e.at FROM ticket_events e
    WHERE json_extract(e.changes, '$.status.before') IN ('new','assigned','in_progress','pending')
      AND json_extract(e.changes, '$.status.after') IN ('resolved','closed')
      AND json_extract(e.changes, '$.merged_into') IS NULL
    ORDER BY e.id"""

# Tickets resolved for good: resolved or closed now, not merged; with their last resolution.
DONE = """
    SELECT t.id, t.created_at, t.group_id, t.category_id, t.assignee_id, t.priority, t.source,
           (SELECT max(r.at) FROM (RESOLUTIONS) r WHERE r.ticket_id = t.id) AS last_at,
           (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id
              AND json_extract(e.changes, '$.status.before') IN ('resolved','closed')
              AND json_extract(e.changes, '$.status.after') IN
                  ('new','assigned','in_progress','pending')) AS reopens,
           (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id
              AND e.type = 'comment' AND e.public AND e.actor_id != t.requester_id) AS replies,
           EXISTS (SELECT 1 FROM remote_sessions s WHERE s.ticket_id = t.id
                   AND s.started_at IS NOT NULL) AS remote
    FROM tickets t
    WHERE t.status IN ('resolved','closed') AND t.merged_into_id IS NULL""".replace(
    "RESOLUTIONS", RESOLUTIONS.replace("ORDER BY e.id", ""))

FIRST_RESPONSES = """
    SELECT t.id, t.created_at, t.group_id, t.category_id, t.assignee_id, t.priority, t.source,
           (SELECT min(e.at) FROM ticket_events e WHERE e.ticket_id = t.id
              AND e.type = 'comment' AND e.public AND e.actor_id != t.requester_id) AS first_at
    FROM tickets t"""


def reference(conn: Any, start: str, end: str, *, group_id: int | None = None,
              category_id: int | None = None) -> dict[str, Any]:
    """Compute every dashboard figure straight from tickets, events and clocks."""
    def keep(r: Any) -> bool:
        return ((group_id is None or r.group_id == group_id)
                and (category_id is None or r.category_id == category_id))

    def in_period(d: str) -> bool:
        return start <= d <= end

    tickets = {r.id: r for r in conn.execute(sa.text(
        "SELECT id, created_at, status, group_id, category_id FROM tickets"))}
    created: dict[str, int] = defaultdict(int)
    for r in tickets.values():
        if keep(r) and in_period(day(r.created_at)):
            created[day(r.created_at)] += 1
    resolved: dict[str, int] = defaultdict(int)
    for r in conn.execute(sa.text(RESOLUTIONS)):
        if keep(tickets[r.ticket_id]) and in_period(day(r.at)):
            resolved[day(r.at)] += 1
    # Backlog at the end of a day: tickets filed by then whose status at that moment was
    # open — replayed from each ticket's status changes.
    moves: dict[int, list[tuple[Any, str]]] = defaultdict(list)
    for r in conn.execute(sa.text(
            "SELECT ticket_id, at, json_extract(changes, '$.status.after') AS s "
            "FROM ticket_events WHERE json_extract(changes, '$.status.after') IS NOT NULL "
            "ORDER BY id")):
        moves[r.ticket_id].append((r.at, r.s))
    backlog: dict[str, int] = defaultdict(int)
    days = _days(start, end)
    for tid, r in tickets.items():
        if not keep(r):
            continue
        for d in days:
            state = None
            for at, s in moves[tid]:
                if day(at) <= d:
                    state = s
            if state in OPEN:
                backlog[d] += 1
    done = [r for r in conn.execute(sa.text(DONE)) if keep(r) and in_period(day(r.last_at))]
    fr = [r for r in conn.execute(sa.text(FIRST_RESPONSES))
          if r.first_at is not None and keep(r) and in_period(day(r.first_at))]
    clocks = conn.execute(sa.text(
        "SELECT c.kind, c.state, c.breached_at, c.stopped_at, t.group_id, t.category_id "
        "FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE c.state IN ('met','breached') "
        "AND c.kind IN ('first_response','resolution')")).all()
    sla: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in clocks:
        d = day(c.breached_at if c.state == "breached" else c.stopped_at)
        if keep(c) and in_period(d):
            sla[d][f"{'fr' if c.kind == 'first_response' else 'res'}_{c.state}"] += 1
    ratings: dict[str, list[int]] = defaultdict(list)
    latest: dict[int, tuple[Any, int]] = {}
    for r in conn.execute(sa.text(
            "SELECT ticket_id, at, json_extract(changes, '$.rating.score') AS s "
            "FROM ticket_events WHERE type = 'rating' ORDER BY id")):
        latest[r.ticket_id] = (r.at, r.s)
    for tid, (at, s) in latest.items():
        if keep(tickets[tid]) and in_period(day(at)):
            ratings[day(at)].append(s)
    return {"created": created, "resolved": resolved, "backlog": backlog, "done": done,
            "fr": fr, "sla": sla, "ratings": ratings, "days": days}


def _days(start: str, end: str) -> list[str]:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def close_enough(got: int | None, exact: float | None) -> bool:
    """Tell whether a histogram percentile matches the exact one within the stated bound."""
    if exact is None or got is None:
        return got is None and exact is None
    if histogram.bucket_of(exact) == 0:
        return got == 30
    return abs(got - exact) <= histogram.RELATIVE_ERROR * exact + 1


def dumps(value: Any) -> str:
    """Return a stable text for a figure (assert messages)."""
    return json.dumps(value, default=str, sort_keys=True)
