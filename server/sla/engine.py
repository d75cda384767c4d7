"""The SLA engine: fire warnings and breaches that fell due, once, and escalate.

One pass selects the clocks whose ``next_event_at`` has come (an indexed range scan, so
its cost follows the events due, not the open tickets), fires each event once — the
clock rows record what fired, in the same transaction as the timeline events — and then
runs the policies' escalation rules. Events that fell due while the server was down fire
on the first pass after start, once. The pass works in batches: one query for the due
clocks, their calendars, policies and tickets, one prepared statement for the updates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_events, tickets
from server.errors import ApiError
from server.i18n.messages import N_, Message
from server.mail import outbox as mail_outbox
from server.reports import rollup as report_rollup
from server.sla import timer, tracking
from server.sla.policy import Policy, policy_from_row
from server.sla.tables import sla_clocks, sla_policies
from server.tickets import reading as ticket_reading
from server.tickets import timeline as ticket_timeline
from server.tickets import updating as ticket_updating
from server.tickets.lifecycle import FINAL_STATUSES

log = logging.getLogger("deskmate.sla")


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
    # Whom the notify rules name: a user id, or None for the assignee / the group's staff.
    notify_users: tuple[int | None, ...] = ()


def next_event_at(conn: Connection) -> dt.datetime | None:
    """Return the earliest pending event time (uses the index)."""
    row = conn.execute(sa.select(sla_clocks.c.next_event_at)
                       .where(sla_clocks.c.next_event_at.is_not(None))
                       .order_by(sla_clocks.c.next_event_at).limit(1)).first()
    return None if row is None else row.next_event_at


def matching_rules(policy: Policy | None, clock: str, event: str,
                   percent: int | None) -> list[Mapping[str, Any]]:
    """Return the policy's escalation rules for this event, in their order."""
    if policy is None:
        return []
    return [rule for rule in policy.escalations
            if rule["on"] == event and rule.get("clock") in (None, clock)
            and (rule.get("percent") is None or rule["percent"] == percent)]


def _escalate(conn: Connection, ticket_id: int, rule: Mapping[str, Any], now: dt.datetime,
              matrix: tuple[tuple[int, int, int], ...]) -> None:
    ticket = ticket_reading.get_row(conn, ticket_id)  # fresh: an earlier rule may have acted
    if ticket.status in FINAL_STATUSES:
        return
    action = rule["action"]
    if action == "timeline":
        ticket_timeline.add_event(conn, ticket_id, actor_id=None, type="sla_escalation",
                                  public=False, now=now, body=rule["note"],
                                  changes={"rule": dict(rule)})
    elif action == "reassign" and ticket.group_id != rule["group_id"]:
        ticket_updating.update_ticket(conn, ticket_id, {"group_id": rule["group_id"],
                                                        "assignee_id": None},
                                      actor_id=None, now=now, matrix=matrix)
    elif action == "raise_priority" and ticket.priority > 1:
        ticket_updating.update_ticket(conn, ticket_id, {"priority": ticket.priority - 1},
                                      actor_id=None, now=now, matrix=matrix)


def run_pass(conn: Connection, now: dt.datetime, *, limit: int,
             matrix: tuple[tuple[int, int, int], ...]) -> list[Fired]:
    """Fire the due events of up to ``limit`` clocks, soonest first; return what fired."""
    rows = conn.execute(sa.select(sla_clocks).where(sla_clocks.c.next_event_at <= now)
                        .order_by(sla_clocks.c.next_event_at).limit(limit)).all()
    if not rows:
        return []
    cals = tracking.load_calendars(conn, {r.calendar_id for r in rows})
    policy_ids = sorted({r.policy_id for r in rows if r.policy_id is not None})
    policies = {r.id: policy_from_row(r) for r in conn.execute(
        sa.select(sla_policies).where(sla_policies.c.id.in_(policy_ids)))}
    ticket_ids = sorted({r.ticket_id for r in rows})
    owners = {r.id: r for r in conn.execute(
        sa.select(tickets.c.id, tickets.c.number, tickets.c.requester_id, tickets.c.status)
        .where(tickets.c.id.in_(ticket_ids)))}
    changed: list[timer.Clock] = []
    timeline: list[dict[str, Any]] = []
    actions: list[tuple[int, Mapping[str, Any]]] = []
    fired: list[Fired] = []
    for row in rows:
        clock = tracking.clock_from_row(row)
        events = timer.fire(clock, cals[row.calendar_id], now)
        changed.append(clock)
        owner = owners[row.ticket_id]
        for event, percent in events:
            timeline.append({
                "ticket_id": row.ticket_id, "at": now, "actor_id": None, "public": False,
                "type": "sla_breached" if event == "breach" else "sla_warning", "body": None,
                "changes": {"clock": row.kind, "policy": row.policy_name, "percent": percent,
                            "due_at": _iso(clock.due_at),
                            "at": _iso(clock.breached_at if event == "breach" else now)}})
            rules = matching_rules(policies.get(row.policy_id) if row.policy_id else None,
                                   row.kind, event, percent)
            if owner.status not in FINAL_STATUSES:
                actions += [(row.ticket_id, r) for r in rules if r["action"] != "notify"]
            fired.append(Fired(ticket_id=row.ticket_id, number=owner.number,
                               requester_id=owner.requester_id, clock=row.kind,
                               event=event, percent=percent,
                               notify=any(r["action"] == "notify" for r in rules),
                               notify_users=tuple(dict.fromkeys(
                                   r.get("user_id") for r in rules
                                   if r["action"] == "notify"))))
    tracking.save_many(conn, changed)
    if timeline:
        conn.execute(ticket_events.insert(), timeline)
        report_rollup.mark_many(conn, {e["ticket_id"] for e in timeline})
    tracking.refresh_due(conn, ticket_ids)
    # Escalations go through the ticket store, which sees the clocks saved above. Each
    # runs in a savepoint: a rule that cannot run (its group was deleted since) is noted
    # on the ticket and must not undo the warnings and breaches of the whole batch.
    for ticket_id, rule in actions:
        try:
            with conn.begin_nested():
                _escalate(conn, ticket_id, rule, now, matrix)
        except ApiError as exc:
            log.warning("SLA escalation %s on ticket %d could not run: %s", rule["action"],
                        ticket_id, exc.message)
            ticket_timeline.add_event(
                conn, ticket_id, actor_id=None, type="sla_escalation", public=False, now=now,
                body=f"Escalation rule '{rule['action']}' could not run: {exc.message}",
                changes={"rule": dict(rule), "failed": True})
    # After the escalations, so a mail goes to whoever holds the ticket now.
    for done in fired:
        if done.notify and owners[done.ticket_id].status not in FINAL_STATUSES:
            for user_id in done.notify_users:
                mail_outbox.on_sla_notify(conn, done.ticket_id, text=notice_text(done), now=now,
                                          user_id=user_id)
    return fired


_CLOCKS: dict[str, Message] = {
    "first_response": N_("first response"),
    "resolution": N_("resolution"),
    "next_update": N_("next update"),
}


def notice_text(event: Fired) -> Message:
    """Return the one-line notice of an escalation: ``resolution breached`` (str() gives the
    English; mail translates it for its reader)."""
    clock = _CLOCKS.get(event.clock) or event.clock.replace("_", " ")
    if event.event == "breach":
        return N_("{clock} breached", clock=clock)
    return N_("{clock} reached {percent}% of its target", clock=clock, percent=event.percent)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
