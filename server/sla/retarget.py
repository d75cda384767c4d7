"""Re-target the open clocks of an edited policy in chunks, in the background.

A policy edit commits at once and records a *pending re-target*: a durable marker row
``sla_retarget:<policy id>`` in ``ticket_counters`` (the existing small key → integer
table; ticket numbering uses the ticket kinds as keys) whose ``last`` is the id of the
last clock done. The SLA service then calls :func:`run_chunk` in its own short write
transactions: each takes up to ``limit`` open clocks of the policy after ``last``, in
clock id order, re-targets them, records one internal ``sla_retargeted`` event per
ticket, and moves the marker on — all in the same transaction, so a crash or restart
resumes after the last committed chunk and no clock is re-targeted twice. A clock whose
snapshot already matches the policy (started after the edit, or re-matched meanwhile)
is left alone. Stopped clocks are never touched: the history of resolved and closed
tickets stays as it was measured. Another edit of the same policy while a re-target is
pending starts it again from the first clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.database import Database
from server.db.schema import ticket_counters, ticket_events
from server.reports import rollup as report_rollup
from server.sla import timer, tracking
from server.sla.policy import Policy, policy_from_row
from server.sla.tables import sla_clocks, sla_policies

PREFIX = "sla_retarget:"
CHUNK = 2000  # clocks per write transaction (about 0.4 s of writer time at 200 µs each)


@dataclass(frozen=True)
class Chunk:
    """What one chunk did."""

    policy_id: int
    retargeted: int  # clocks changed in this chunk
    done: bool  # the policy's re-target is finished


def _key(policy_id: int) -> str:
    return f"{PREFIX}{policy_id}"


def mark(conn: Connection, policy_id: int) -> None:
    """Record (or restart from the first clock) a pending re-target of a policy."""
    updated = conn.execute(ticket_counters.update()
                           .where(ticket_counters.c.kind == _key(policy_id)).values(last=0))
    if updated.rowcount == 0:
        conn.execute(ticket_counters.insert().values(kind=_key(policy_id), last=0))


def pending(conn: Connection) -> dict[int, int]:
    """Return the pending re-targets: policy id → id of the last clock done."""
    rows = conn.execute(sa.select(ticket_counters)
                        .where(ticket_counters.c.kind.startswith(PREFIX, autoescape=True)))
    return {int(r.kind[len(PREFIX):]): r.last for r in rows}


def is_pending(conn: Connection, policy_id: int) -> bool:
    """Tell whether a policy's re-target is still pending."""
    return conn.execute(sa.select(ticket_counters.c.last)
                        .where(ticket_counters.c.kind == _key(policy_id))).first() is not None


def _unchanged(row: Any, policy: Policy) -> bool:
    target = policy.targets.get(row.kind)
    return (target == row.target_minutes and row.policy_name == policy.name
            and row.calendar_id == policy.calendar_id
            and tuple(row.warn_percents) == tuple(policy.warn_percents)
            and tuple(row.pause_statuses) == tuple(policy.pause_statuses))


def run_chunk(conn: Connection, now: dt.datetime, *, limit: int = CHUNK) -> Chunk | None:
    """Re-target up to ``limit`` clocks of the first pending policy; None when none waits."""
    todo = pending(conn)
    if not todo:
        return None
    policy_id = min(todo)
    last = todo[policy_id]
    key = ticket_counters.c.kind == _key(policy_id)
    row = conn.execute(sa.select(sla_policies)
                       .where(sla_policies.c.id == policy_id)).one_or_none()
    if row is None:  # deleted meanwhile: its clocks keep their snapshot
        conn.execute(ticket_counters.delete().where(key))
        return Chunk(policy_id=policy_id, retargeted=0, done=True)
    policy = policy_from_row(row)
    rows = conn.execute(sa.select(sla_clocks).where(
        sla_clocks.c.policy_id == policy_id, sla_clocks.c.stopped_at.is_(None),
        sla_clocks.c.id > last).order_by(sla_clocks.c.id).limit(limit)).all()
    cals = tracking.load_calendars(conn, {r.calendar_id for r in rows} | {policy.calendar_id})
    changed: list[timer.Clock] = []
    changes: dict[int, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        if _unchanged(r, policy):
            continue
        clock = tracking.clock_from_row(r)
        tracking.apply_policy(clock, policy, cals, now)
        changed.append(clock)
        changes[r.ticket_id][r.kind] = {
            "before": {"policy": r.policy_name, "target_minutes": r.target_minutes},
            "after": {"policy": policy.name,
                      "target_minutes": None if clock.state == "cancelled"
                      else clock.target_minutes}}
    tracking.save_many(conn, changed)
    if changes:
        conn.execute(ticket_events.insert(), [
            {"ticket_id": tid, "at": now, "actor_id": None, "public": False,
             "type": "sla_retargeted", "body": None, "changes": kinds}
            for tid, kinds in changes.items()])
        tracking.refresh_due(conn, changes)
        report_rollup.mark_many(conn, changes)
    done = len(rows) < limit
    if done:
        conn.execute(ticket_counters.delete().where(key))
    else:
        conn.execute(ticket_counters.update().where(key).values(last=rows[-1].id))
    return Chunk(policy_id=policy_id, retargeted=len(changed), done=done)


def run_all(db: Database, now: dt.datetime, *, limit: int = CHUNK) -> int:
    """Run chunks, each its own write, until nothing is pending (CLI, tests); return count."""
    total = 0
    while True:
        chunk = db.write_sync(lambda c: run_chunk(c, now, limit=limit))
        if chunk is None:
            return total
        total += chunk.retargeted
