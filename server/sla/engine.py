"""The SLA engine: fire warnings and breaches that fell due, once, and escalate.

One pass selects the clocks whose ``next_event_at`` has come (an indexed range scan, so
its cost follows the events due, not the open tickets), fires each event once — the
clock row records what fired, in the same transaction as the timeline events — and runs
the policy's escalation rules. Events that fell due while the server was down fire on
the first pass after start, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.sla import timer, tracking
from server.sla.policy import policy_from_row
from server.sla.tables import sla_clocks, sla_policies
from server.tickets import store as ticket_store
from server.tickets.lifecycle import FINAL_STATUSES


@dataclass(frozen=True)
class Fired:
    """One event fired, for notifying the console after the transaction commits."""

    ticket_id: int
    number: str
    requester_id: int
    clock: str
    event: str  # warning | breach
    percent: int | None
    notify: bool


def due_clock_ids(conn: Connection, now: dt.datetime, limit: int) -> list[int]:
    """Return ids of clocks with an event due by ``now``, soonest first (uses the index)."""
    return [r.id for r in conn.execute(
        sa.select(sla_clocks.c.id).where(sla_clocks.c.next_event_at <= now)
        .order_by(sla_clocks.c.next_event_at).limit(limit))]


def next_event_at(conn: Connection) -> dt.datetime | None:
    """Return the earliest pending event time (uses the index)."""
    row = conn.execute(sa.select(sla_clocks.c.next_event_at)
                       .where(sla_clocks.c.next_event_at.is_not(None))
                       .order_by(sla_clocks.c.next_event_at).limit(1)).first()
    return None if row is None else row.next_event_at


def _rules(conn: Connection, policy_id: int | None, clock: str, event: str,
           percent: int | None) -> list[dict[str, Any]]:
    if policy_id is None:
        return []
    row = conn.execute(sa.select(sla_policies).where(sla_policies.c.id == policy_id)).first()
    if row is None:
        return []
    return [dict(rule) for rule in policy_from_row(row).escalations
            if rule["on"] == event and rule.get("clock") in (None, clock)
            and (rule.get("percent") is None or rule["percent"] == percent)]


def _escalate(conn: Connection, ticket: Any, rule: dict[str, Any], now: dt.datetime,
              matrix: tuple[tuple[int, int, int], ...]) -> None:
    action = rule["action"]
    if action == "timeline":
        ticket_store.add_event(conn, ticket.id, actor_id=None, type="sla_escalation",
                               public=False, now=now, body=rule["note"],
                               changes={"rule": rule})
    elif action == "reassign" and ticket.group_id != rule["group_id"]:
        ticket_store.update_ticket(conn, ticket.id, {"group_id": rule["group_id"],
                                                     "assignee_id": None},
                                   actor_id=None, now=now, matrix=matrix)
    elif action == "raise_priority" and ticket.priority > 1:
        ticket_store.update_ticket(conn, ticket.id, {"priority": ticket.priority - 1},
                                   actor_id=None, now=now, matrix=matrix)


def run_pass(conn: Connection, now: dt.datetime, *, limit: int,
             matrix: tuple[tuple[int, int, int], ...]) -> list[Fired]:
    """Fire up to ``limit`` clocks' due events; return what fired."""
    fired: list[Fired] = []
    for clock_id in due_clock_ids(conn, now, limit):
        # Re-read: an escalation earlier in this pass may have changed this clock.
        row = conn.execute(sa.select(sla_clocks).where(sla_clocks.c.id == clock_id)).one()
        if row.next_event_at is None or row.next_event_at > now:
            continue
        clock = tracking.clock_from_row(row)
        cal = tracking.load_calendars(conn, [row.calendar_id])[row.calendar_id]
        events = timer.fire(clock, cal, now)
        tracking.save(conn, clock)
        if not events:
            continue
        ticket = ticket_store.get_row(conn, row.ticket_id)
        for event, percent in events:
            at = clock.breached_at if event == "breach" else now
            tracking.record_event(conn, row.ticket_id, "sla_breached" if event == "breach"
                                  else "sla_warning", now, {
                                      "clock": row.kind, "policy": row.policy_name,
                                      "percent": percent, "due_at": _iso(clock.due_at),
                                      "at": _iso(at)})
            rules = _rules(conn, row.policy_id, row.kind, event, percent)
            if ticket.status not in FINAL_STATUSES:
                for rule in rules:
                    _escalate(conn, ticket, rule, now, matrix)
                    ticket = ticket_store.get_row(conn, row.ticket_id)
            fired.append(Fired(ticket_id=ticket.id, number=ticket.number,
                               requester_id=ticket.requester_id, clock=row.kind,
                               event=event, percent=percent,
                               notify=any(r["action"] == "notify" for r in rules)))
        tracking.refresh_due(conn, [row.ticket_id])
    return fired


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
