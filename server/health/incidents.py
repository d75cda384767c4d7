"""Health results to incidents: one open incident per (device, check), kept up to date.

A failing result opens an incident (source ``monitoring``, linked to the device) or, if
one is open, adds the reading to its timeline and follows its severity. A recovery
resolves it with a note, or only notes it, as the check says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import agent_reports, devices, users
from server.db.schema import tickets as ticket_table
from server.health import policy
from server.health.store import checks_for_device, open_incident
from server.health.tables import device_health
from server.tickets import creation as ticket_creation
from server.tickets import reading as ticket_reading
from server.tickets import timeline as ticket_timeline
from server.tickets import updating as ticket_updating
from server.tickets.priority import priority_for
from server.users import store as user_store
from shared import protocol as p

# The requester of incidents raised by checks: a system user no one can sign in as or be
# mapped to. The ':' is outside both the API's user-name pattern and the agents'
# requester_login pattern, so no person and no device login can ever share it.
MONITORING_USER = "system:monitoring"
RESOLUTION_CODE = "recovered"


@dataclass(frozen=True)
class TicketChange:
    """A ticket this report created or changed (for the live feed)."""

    ticket_id: int
    number: str
    requester_id: int
    change: str  # created or updated
    public: bool  # whether the requester's side changed (not only internal readings)


def _ticket_change(conn: Connection, ticket_id: int, change: str, *,
                   public: bool) -> TicketChange:
    row = ticket_reading.get_row(conn, ticket_id)
    return TicketChange(ticket_id=ticket_id, number=row.number,
                        requester_id=row.requester_id, change=change, public=public)


def _monitoring_user(conn: Connection, now: dt.datetime) -> int:
    row = conn.execute(sa.select(users.c.id).where(users.c.username == MONITORING_USER)).first()
    if row is not None:
        return int(row.id)
    return user_store.create_user(conn, username=MONITORING_USER, display_name="Health monitoring",
                                  role="requester", email=None, password_hash=None, now=now,
                                  system=True)


def _open(conn: Connection, *, device: Any, check: Any, result: p.HealthResult,
          text: str, matrix: Any, now: dt.datetime) -> int:
    impact, urgency = policy.impact_urgency(result.state)
    requester = _monitoring_user(conn, now)
    title = f"{check.name} {result.state} on {device.hostname}"[:200]
    description = (f"The health check {check.name!r} ({check.kind}"
                   f"{' ' + check.target if check.target else ''}) on {device.hostname} "
                   f"reported {result.state}: {result.message or 'no detail'}.\n\n"
                   "This incident is updated with new readings and "
                   + ("resolved" if check.on_recovery == "resolve" else "noted")
                   + " when the check recovers.")
    ticket_id = ticket_creation.create_ticket(conn, ticket_creation.NewTicket(
        kind="incident", title=title, description=description, impact=impact,
        urgency=urgency, priority=priority_for(impact, urgency, matrix), category_id=None,
        requester_id=requester, assignee_id=None, group_id=None, device_ids=[device.id],
        tags=["monitoring"], source="monitoring"), actor_id=None, now=now)
    ticket_timeline.add_event(conn, ticket_id, actor_id=None, type="health_reading", public=False,
                              now=now, body=text, changes=_reading(check, result))
    return ticket_id


def _reading(check: Any, result: p.HealthResult) -> dict[str, Any]:
    return {"check": {"id": check.id, "name": check.name}, "state": result.state,
            "value": result.value,
            "at": dt.datetime.fromtimestamp(result.at, dt.UTC).isoformat()}


def _apply_one(conn: Connection, *, device: Any, check: Any, result: p.HealthResult,
               matrix: Any, now: dt.datetime) -> TicketChange | None:
    at = dt.datetime.fromtimestamp(result.at, dt.UTC)
    state = conn.execute(sa.select(device_health).where(
        device_health.c.device_id == device.id,
        device_health.c.check_id == check.id)).first()
    if state is not None and at < state.at:
        return None  # older than what is stored: the state moved on
    incident = open_incident(conn, state.incident_id if state is not None else None)
    action = policy.decide(result.state, incident_open=incident is not None,
                           on_recovery=check.on_recovery)
    text = policy.reading_text(check.name, result.state, result.message, result.value)
    incident_id = incident.id if incident is not None else None
    change: TicketChange | None = None
    if action == "open":
        incident_id = _open(conn, device=device, check=check, result=result, text=text,
                            matrix=matrix, now=now)
        change = _ticket_change(conn, incident_id, "created", public=True)
    elif action == "update":
        assert incident is not None
        ticket_timeline.add_event(conn, incident.id, actor_id=None, type="health_reading",
                                  public=False, now=now, body=text, changes=_reading(check, result))
        impact, urgency = policy.impact_urgency(result.state)
        if (impact, urgency) != (incident.impact, incident.urgency):
            ticket_updating.update_ticket(conn, incident.id, {"impact": impact, "urgency": urgency},
                                          actor_id=None, now=now, matrix=matrix)
        conn.execute(ticket_table.update().where(ticket_table.c.id == incident.id)
                     .values(updated_at=now))
        change = _ticket_change(conn, incident.id, "updated", public=False)
    elif action == "resolve":
        assert incident is not None
        ticket_updating.update_ticket(conn, incident.id, {
            "status": "resolved", "resolution_code": RESOLUTION_CODE,
            "resolution_note": f"Recovered automatically. {text}"},
            actor_id=None, now=now, matrix=matrix)
        change = _ticket_change(conn, incident.id, "updated", public=True)
        incident_id = None
    elif action == "note":
        assert incident is not None
        ticket_timeline.add_event(conn, incident.id, actor_id=None, type="health_recovered",
                                  public=False, now=now,
                                  body=f"The check recovered; the incident stays open. {text}",
                                  changes=_reading(check, result))
        conn.execute(ticket_table.update().where(ticket_table.c.id == incident.id)
                     .values(updated_at=now))
        change = _ticket_change(conn, incident.id, "updated", public=False)
    values = {"state": result.state, "value": result.value, "message": result.message,
              "at": at, "incident_id": incident_id}
    if state is None:
        conn.execute(device_health.insert().values(device_id=device.id, check_id=check.id,
                                                   changed_at=at, **values))
    else:
        if state.state != result.state:
            values["changed_at"] = at
        conn.execute(device_health.update().where(
            device_health.c.device_id == device.id,
            device_health.c.check_id == check.id).values(**values))
    return change


def apply_report(conn: Connection, *, device_id: int, report: p.HealthReport, matrix: Any,
                 now: dt.datetime) -> list[TicketChange]:
    """Apply a report's results in order, once per report id; return ticket changes.

    Results for checks that no longer exist or no longer apply to the device are
    skipped: the agent acted on an older configuration.
    """
    seen = conn.execute(sa.select(agent_reports.c.report_id).where(
        agent_reports.c.device_id == device_id,
        agent_reports.c.report_id == report.id)).first()
    if seen is not None:
        return []
    conn.execute(agent_reports.insert().values(device_id=device_id, report_id=report.id,
                                               received_at=now))
    device = conn.execute(sa.select(devices).where(devices.c.id == device_id)).one()
    checks = {r.id: r for r in checks_for_device(conn, device_id)}
    changes: dict[int, TicketChange] = {}
    for result in report.results:
        check = checks.get(result.check_id)
        if check is None:
            continue
        change = _apply_one(conn, device=device, check=check, result=result, matrix=matrix,
                            now=now)
        if change is not None:
            previous = changes.get(change.ticket_id)
            if previous is None or previous.change != "created":
                changes[change.ticket_id] = change
    return list(changes.values())
