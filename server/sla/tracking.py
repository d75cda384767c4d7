"""Ticket SLA clocks in the database: start, pause, resume, meet and re-target them.

The ticket store calls these hooks inside its write transaction, so a ticket change and
its clocks commit together. This module reads ticket rows but never imports the ticket
store (which imports it); timeline events it writes are internal ``sla_*`` events.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import group_members, ticket_events, tickets, users
from server.reports import rollup as report_rollup
from server.sla import timer
from server.sla.calendar import BusinessCalendar
from server.sla.policy import Facts, Policy, calendar_from_row, choose, policy_from_row
from server.sla.schemas import SlaClock, TicketSla
from server.sla.tables import sla_calendars, sla_clocks, sla_policies

FIRST_CLOCKS = ("first_response", "resolution")
OPEN_TICKET = ("new", "assigned", "in_progress", "pending")
_STATE_COLUMNS = ("state", "elapsed_seconds", "running_since", "paused_at", "due_at",
                  "warnings_fired", "breached_at", "stopped_at", "next_event_at",
                  "target_minutes")


def clock_from_row(row: Any) -> timer.Clock:
    """Build a :class:`timer.Clock` from an ``sla_clocks`` row."""
    return timer.Clock(
        id=row.id, kind=row.kind, target_minutes=row.target_minutes,
        warn_percents=tuple(row.warn_percents), pause_statuses=tuple(row.pause_statuses),
        state=row.state, started_at=row.started_at, elapsed_seconds=row.elapsed_seconds,
        running_since=row.running_since, paused_at=row.paused_at, due_at=row.due_at,
        warnings_fired=row.warnings_fired, breached_at=row.breached_at,
        stopped_at=row.stopped_at, next_event_at=row.next_event_at,
        ticket_id=row.ticket_id, policy_id=row.policy_id, policy_name=row.policy_name,
        calendar_id=row.calendar_id)


def state_values(clock: timer.Clock) -> dict[str, Any]:
    """Return the columns a transition may change."""
    values = {name: getattr(clock, name) for name in _STATE_COLUMNS}
    values["warn_percents"] = list(clock.warn_percents)
    values["pause_statuses"] = list(clock.pause_statuses)
    for key in ("policy_id", "policy_name", "calendar_id"):
        values[key] = getattr(clock, key)
    return values


def save(conn: Connection, clock: timer.Clock) -> None:
    """Store a clock's state."""
    conn.execute(sla_clocks.update().where(sla_clocks.c.id == clock.id)
                 .values(**state_values(clock)))


def save_many(conn: Connection, clocks: list[timer.Clock]) -> None:
    """Store many clocks' state with one prepared statement."""
    if not clocks:
        return
    params = [{"b_id": c.id, **state_values(c)} for c in clocks]
    stmt = sla_clocks.update().where(sla_clocks.c.id == sa.bindparam("b_id")).values(
        {k: sa.bindparam(k) for k in params[0] if k != "b_id"})
    conn.execute(stmt, params)


def load_calendars(conn: Connection, ids: Iterable[int] | None = None
                   ) -> dict[int, BusinessCalendar]:
    """Return calendars by id (all, or those named)."""
    query = sa.select(sla_calendars)
    if ids is not None:
        query = query.where(sla_calendars.c.id.in_(sorted(set(ids))))
    return {r.id: calendar_from_row(r) for r in conn.execute(query)}


def load_policies(conn: Connection) -> list[Policy]:
    """Return every policy."""
    return [policy_from_row(r) for r in conn.execute(sa.select(sla_policies))]


def facts_of(conn: Connection, row: Any) -> Facts:
    """Return what policy conditions look at for a ticket row."""
    group_ids = frozenset(r.group_id for r in conn.execute(
        sa.select(group_members.c.group_id).where(group_members.c.user_id == row.requester_id)))
    return Facts(kind=row.kind, priority=row.priority, category_id=row.category_id,
                 requester_group_ids=group_ids)


def match(conn: Connection, row: Any) -> Policy | None:
    """Return the policy that applies to a ticket row now."""
    return choose(load_policies(conn), facts_of(conn, row))


def refresh_due(conn: Connection, ticket_ids: Iterable[int]) -> None:
    """Copy the earliest due time of each ticket's open clocks onto the ticket (sorting)."""
    earliest = (sa.select(sa.func.min(sla_clocks.c.due_at))
                .where(sla_clocks.c.ticket_id == tickets.c.id,
                       sla_clocks.c.stopped_at.is_(None))
                .scalar_subquery())
    ids = sorted(set(ticket_ids))
    for i in range(0, len(ids), 500):
        conn.execute(tickets.update().where(tickets.c.id.in_(ids[i:i + 500]))
                     .values(sla_due_at=earliest))


def record_event(conn: Connection, ticket_id: int, type_: str, now: dt.datetime,
           changes: dict[str, Any], actor_id: int | None = None) -> None:
    """Append an internal ``sla_*`` timeline event."""
    conn.execute(ticket_events.insert().values(
        ticket_id=ticket_id, at=now, actor_id=actor_id, type=type_, public=False, body=None,
        changes=changes))
    report_rollup.mark(conn, ticket_id)


def _insert(conn: Connection, ticket_id: int, policy: Policy, kind: str,
            cal: BusinessCalendar, now: dt.datetime) -> timer.Clock | None:
    target = policy.targets.get(kind)  # type: ignore[call-overload]
    if target is None:
        return None
    clock = timer.start(cal, kind=kind, target_minutes=target,
                        warn_percents=policy.warn_percents,
                        pause_statuses=policy.pause_statuses, now=now)
    clock.ticket_id, clock.policy_id = ticket_id, policy.id
    clock.policy_name, clock.calendar_id = policy.name, policy.calendar_id
    clock.id = int(conn.execute(sla_clocks.insert().values(
        ticket_id=ticket_id, kind=kind, started_at=now, **state_values(clock)))
        .inserted_primary_key[0])  # type: ignore[index]
    return clock


def on_created(conn: Connection, ticket_id: int, now: dt.datetime) -> None:
    """Match a policy for a new ticket and start its clocks."""
    row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).one()
    policy = match(conn, row)
    if policy is None:
        return
    cal = load_calendars(conn, [policy.calendar_id])[policy.calendar_id]
    for kind in FIRST_CLOCKS:
        clock = _insert(conn, ticket_id, policy, kind, cal, now)
        if clock is not None and row.status in clock.pause_statuses:
            timer.pause(clock, cal, now)
            save(conn, clock)
    refresh_due(conn, [ticket_id])


def _open_clocks(conn: Connection, ticket_id: int, *, include_stopped: bool = False
                 ) -> list[timer.Clock]:
    query = sa.select(sla_clocks).where(sla_clocks.c.ticket_id == ticket_id)
    if not include_stopped:
        query = query.where(sla_clocks.c.stopped_at.is_(None))
    return [clock_from_row(r) for r in conn.execute(query.order_by(sla_clocks.c.id))]


def on_status(conn: Connection, ticket_id: int, old: str, new: str, now: dt.datetime) -> None:
    """Follow a status change: pause, resume, meet on resolve, cancel, or reopen."""
    if old == new:
        return
    reopened = old == "resolved" and new in OPEN_TICKET
    clocks = _open_clocks(conn, ticket_id, include_stopped=reopened)
    if not clocks:
        return
    cals = load_calendars(conn, {c.calendar_id for c in clocks})
    for clock in clocks:
        cal = cals[clock.calendar_id]
        if new == "resolved":
            timer.stop(clock, cal, now)
        elif new == "cancelled" or (new == "closed" and old != "resolved"):
            timer.stop(clock, cal, now, cancel=True)
        elif reopened:
            if clock.kind != "resolution":
                continue  # a response given stays given
            timer.reopen(clock, cal, now)
            if new in clock.pause_statuses:
                timer.pause(clock, cal, now)
        elif new in clock.pause_statuses:
            timer.pause(clock, cal, now)
        elif new in OPEN_TICKET:
            timer.resume(clock, cal, now)
        save(conn, clock)
    refresh_due(conn, [ticket_id])


def on_public_reply(conn: Connection, ticket_id: int, actor_id: int, now: dt.datetime) -> None:
    """A public reply by staff meets first response and restarts the next-update clock."""
    role = conn.execute(sa.select(users.c.role).where(users.c.id == actor_id)).scalar()
    if role not in ("admin", "technician"):
        return
    clocks = [c for c in _open_clocks(conn, ticket_id)
              if c.kind in ("first_response", "next_update")]
    cals = load_calendars(conn, {c.calendar_id for c in clocks})
    for clock in clocks:
        timer.stop(clock, cals[clock.calendar_id], now)
        save(conn, clock)
    row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).one()
    if row.status in OPEN_TICKET:
        policy = match(conn, row)
        if policy is not None and policy.targets["next_update"] is not None:
            cal = load_calendars(conn, [policy.calendar_id])[policy.calendar_id]
            started = _insert(conn, ticket_id, policy, "next_update", cal, now)
            if started is not None and row.status in started.pause_statuses:
                timer.pause(started, cal, now)
                save(conn, started)
    refresh_due(conn, [ticket_id])


def apply_policy(clock: timer.Clock, policy: Policy, cals: dict[int, BusinessCalendar],
                  now: dt.datetime) -> bool:
    """Re-target one open clock to ``policy``; return whether it changed.

    A clock whose kind the policy no longer targets is cancelled.
    """
    target = policy.targets.get(clock.kind)  # type: ignore[call-overload]
    old_cal = cals[clock.calendar_id]
    if target is None:
        timer.stop(clock, old_cal, now, cancel=True)
        return True
    if policy.calendar_id != clock.calendar_id:
        # Count what ran so far on the old calendar, then continue on the new one.
        timer.rebase(clock, old_cal, now)
    clock.policy_id, clock.policy_name = policy.id, policy.name
    clock.calendar_id = policy.calendar_id
    timer.retarget(clock, cals[policy.calendar_id], now, target_minutes=target,
                   warn_percents=policy.warn_percents, pause_statuses=policy.pause_statuses)
    return True


def _kind_changed(conn: Connection, row: Any, policy: Policy | None,
                  clocks: list[timer.Clock], now: dt.datetime, actor_id: int | None) -> bool:
    """Apply the SLA of a ticket's new kind where re-targeting alone cannot; return if done.

    No policy for the new kind: its open clocks are cancelled (the ticket no longer has
    targets). A ticket that never had clocks (no policy for its old kind) starts those of
    the new kind's policy now, as at creation.
    """
    if policy is None and clocks:
        cals = load_calendars(conn, {c.calendar_id for c in clocks})
        changes: dict[str, Any] = {}
        for clock in clocks:
            changes[clock.kind] = {"before": {"policy": clock.policy_name,
                                              "target_minutes": clock.target_minutes},
                                   "after": {"policy": None, "target_minutes": None}}
            timer.stop(clock, cals[clock.calendar_id], now, cancel=True)
            save(conn, clock)
        record_event(conn, row.id, "sla_retargeted", now, changes, actor_id)
        refresh_due(conn, [row.id])
        return True
    if policy is None or clocks or row.status not in OPEN_TICKET:
        return False
    if conn.execute(sa.select(sla_clocks.c.id).where(sla_clocks.c.ticket_id == row.id)
                    .limit(1)).first() is not None:
        return False  # its clocks ran and stopped (met): nothing starts again
    on_created(conn, row.id, now)
    started = _open_clocks(conn, row.id)
    if started:
        record_event(conn, row.id, "sla_retargeted", now, {
            c.kind: {"before": {"policy": None, "target_minutes": None},
                     "after": {"policy": c.policy_name, "target_minutes": c.target_minutes}}
            for c in started}, actor_id)
    return True


def on_conditions_changed(conn: Connection, ticket_id: int, now: dt.datetime,
                          actor_id: int | None, *, kind_changed: bool = False) -> None:
    """Re-match the policy after a kind, priority or category change; re-target open clocks.

    After a kind change the new kind's targets apply in full (see :func:`_kind_changed`).
    """
    row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).one()
    clocks = _open_clocks(conn, ticket_id)
    policy = match(conn, row)
    if kind_changed and _kind_changed(conn, row, policy, clocks, now, actor_id):
        return
    if policy is None or not clocks:
        return
    before = {c.kind: (c.policy_name, c.target_minutes) for c in clocks}
    cals = load_calendars(conn)
    changes: dict[str, Any] = {}
    for clock in clocks:
        if apply_policy(clock, policy, cals, now):
            save(conn, clock)
            after = (policy.name, None if clock.state == "cancelled" else clock.target_minutes)
            if after != before[clock.kind]:
                changes[clock.kind] = {"before": {"policy": before[clock.kind][0],
                                                  "target_minutes": before[clock.kind][1]},
                                       "after": {"policy": after[0],
                                                 "target_minutes": after[1]}}
    if changes:
        record_event(conn, ticket_id, "sla_retargeted", now, changes, actor_id)
    refresh_due(conn, [ticket_id])


def remaining_minutes(clock: timer.Clock, elapsed: dt.timedelta) -> float:
    """Return the business minutes left (negative when overdue)."""
    return round(clock.target_minutes - elapsed.total_seconds() / 60, 1)


_CLOCKS = (sa.select(sla_clocks)
           .where(sla_clocks.c.ticket_id.in_(sa.bindparam("ids", expanding=True)))
           .order_by(sla_clocks.c.ticket_id, sla_clocks.c.id))  # built once


def ticket_sla(conn: Connection, ticket_ids: list[int], now: dt.datetime
               ) -> dict[int, TicketSla]:
    """Return the SLA state of tickets that have clocks."""
    if not ticket_ids:
        return {}
    rows = conn.execute(_CLOCKS, {"ids": ticket_ids}).all()
    if not rows:
        return {}
    cals = load_calendars(conn, {r.calendar_id for r in rows})
    per: dict[int, list[SlaClock]] = defaultdict(list)
    for row in rows:
        clock = clock_from_row(row)
        elapsed = clock.elapsed(cals[row.calendar_id], now)
        per[row.ticket_id].append(SlaClock(
            id=row.id, kind=row.kind, policy_id=row.policy_id, policy_name=row.policy_name,
            target_minutes=row.target_minutes, state=row.state, started_at=row.started_at,
            due_at=row.due_at, elapsed_minutes=round(elapsed.total_seconds() / 60, 1),
            remaining_minutes=remaining_minutes(clock, elapsed),
            counting=row.running_since is not None, breached_at=row.breached_at,
            stopped_at=row.stopped_at, warnings_fired=row.warnings_fired))
    result = {}
    for ticket_id, clocks in per.items():
        open_due = [c.due_at for c in clocks if c.stopped_at is None and c.due_at is not None]
        result[ticket_id] = TicketSla(
            due_at=min(open_due) if open_due else None,
            breached=any(c.state == "breached" for c in clocks),
            paused=any(c.state == "paused" for c in clocks), clocks=clocks)
    return result
