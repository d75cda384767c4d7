"""HTTP handlers for business calendars, SLA policies and SLA reports."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from server.api.pagination import DATETIME, INT, decode_cursor, encode_cursor
from server.api.routing import ADMIN, STAFF, ApiRequest, Router, page_limit
from server.db.schema import utcnow
from server.errors import ValidationFailed
from server.keys import DATABASE, SLA_ENGINE
from server.sla import reports, store
from server.sla.policy import calendar_from_parts, calendar_from_row
from server.sla.preview import preview as preview_clocks
from server.sla.schemas import (
    BreachPage,
    BreachQuery,
    Calendar,
    CalendarCreate,
    CalendarList,
    CalendarUpdate,
    ComplianceReport,
    PeriodQuery,
    PolicyCreate,
    PolicyList,
    PolicyOut,
    PolicyUpdate,
    PreviewOut,
    PreviewRequest,
    ReportQuery,
)
from server.users import store as audit
from server.users.schemas import to_builtins

router = Router("sla")
CID = r"{calendar_id:\d{1,18}}"
PID = r"{policy_id:\d{1,18}}"
MAX_PERIOD = dt.timedelta(days=366)


def _fields(body: Any) -> dict[str, Any]:
    """Return the fields given in a body, keeping nested structs as structs."""
    names = to_builtins(body).keys()
    return {name: getattr(body, name) for name in names}


@router.route("GET", "/api/v1/sla/calendars", roles=STAFF, summary="List business calendars",
              response=CalendarList)
async def list_calendars(req: ApiRequest) -> CalendarList:
    return CalendarList(items=await req.app[DATABASE].read(store.list_calendars))


@router.route("POST", "/api/v1/sla/calendars", roles=ADMIN,
              summary="Create a business calendar", body=CalendarCreate, response=Calendar,
              status=201)
async def create_calendar(req: ApiRequest) -> Calendar:
    changes = _fields(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Calendar:
        now = utcnow()
        created = store.save_calendar(conn, None, changes, now)
        audit.record(conn, actor_id=actor, action="sla_calendar.create",
                     target_type="sla_calendar", target_id=created.id, now=now,
                     name=created.name)
        return created

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/sla/calendars/{CID}", roles=STAFF,
              summary="Get a business calendar", response=Calendar)
async def get_calendar(req: ApiRequest) -> Calendar:
    calendar_id = int(req.params["calendar_id"])
    return store.to_calendar(await req.app[DATABASE].read(
        lambda c: store.calendar_row(c, calendar_id)))


@router.route("PATCH", f"/api/v1/sla/calendars/{CID}", roles=ADMIN,
              summary="Update a business calendar", body=CalendarUpdate, response=Calendar)
async def update_calendar(req: ApiRequest) -> Calendar:
    calendar_id = int(req.params["calendar_id"])
    changes = _fields(req.body)
    if not changes:
        raise ValidationFailed("nothing to change")
    actor = req.user.user_id

    def run(conn: Any) -> Calendar:
        now = utcnow()
        updated = store.save_calendar(conn, calendar_id, changes, now)
        audit.record(conn, actor_id=actor, action="sla_calendar.update",
                     target_type="sla_calendar", target_id=calendar_id, now=now,
                     fields=sorted(changes))
        return updated

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/sla/calendars/{CID}", roles=ADMIN,
              summary="Delete an unused business calendar", status=204)
async def delete_calendar(req: ApiRequest) -> None:
    calendar_id = int(req.params["calendar_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.delete_calendar(conn, calendar_id)
        audit.record(conn, actor_id=actor, action="sla_calendar.delete",
                     target_type="sla_calendar", target_id=calendar_id, now=utcnow())

    await req.app[DATABASE].write(run)


@router.route("GET", "/api/v1/sla/policies", roles=STAFF,
              summary="List SLA policies in match order", response=PolicyList)
async def list_policies(req: ApiRequest) -> PolicyList:
    return PolicyList(items=await req.app[DATABASE].read(store.list_policies))


@router.route("POST", "/api/v1/sla/policies", roles=ADMIN, summary="Create an SLA policy",
              body=PolicyCreate, response=PolicyOut, status=201)
async def create_policy(req: ApiRequest) -> PolicyOut:
    body: PolicyCreate = req.body
    changes = {name: getattr(body, name) for name in body.__struct_fields__}
    actor = req.user.user_id

    def run(conn: Any) -> PolicyOut:
        now = utcnow()
        created = store.save_policy(conn, None, changes, now)
        audit.record(conn, actor_id=actor, action="sla_policy.create",
                     target_type="sla_policy", target_id=created.id, now=now,
                     name=created.name)
        return created

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/sla/policies/{PID}", roles=STAFF, summary="Get an SLA policy",
              response=PolicyOut)
async def get_policy(req: ApiRequest) -> PolicyOut:
    policy_id = int(req.params["policy_id"])
    return await req.app[DATABASE].read(lambda c: store.get_policy(c, policy_id))


@router.route("PATCH", f"/api/v1/sla/policies/{PID}", roles=ADMIN,
              summary="Update an SLA policy (open tickets are re-targeted in the background)",
              body=PolicyUpdate, response=PolicyOut)
async def update_policy(req: ApiRequest) -> PolicyOut:
    policy_id = int(req.params["policy_id"])
    changes = _fields(req.body)
    if not changes:
        raise ValidationFailed("nothing to change")
    actor = req.user.user_id

    def run(conn: Any) -> PolicyOut:
        now = utcnow()
        updated = store.save_policy(conn, policy_id, changes, now)
        audit.record(conn, actor_id=actor, action="sla_policy.update",
                     target_type="sla_policy", target_id=policy_id, now=now,
                     fields=sorted(changes), retarget_pending=updated.retarget_pending)
        return updated

    updated = await req.app[DATABASE].write(run)
    if updated.retarget_pending and (sla := req.app.get(SLA_ENGINE)) is not None:
        sla.retarget_wake.set()  # re-target the open clocks in chunks, in the background
    return updated


@router.route("DELETE", f"/api/v1/sla/policies/{PID}", roles=ADMIN,
              summary="Delete an SLA policy (running clocks keep their targets)", status=204)
async def delete_policy(req: ApiRequest) -> None:
    policy_id = int(req.params["policy_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.delete_policy(conn, policy_id)
        audit.record(conn, actor_id=actor, action="sla_policy.delete",
                     target_type="sla_policy", target_id=policy_id, now=utcnow())

    await req.app[DATABASE].write(run)


@router.route("POST", "/api/v1/sla/preview", roles=ADMIN,
              summary="Preview when a ticket created now would warn and be due under unsaved "
                      "targets and a saved or unsaved calendar",
              body=PreviewRequest, response=PreviewOut)
async def preview_policy(req: ApiRequest) -> PreviewOut:
    body: PreviewRequest = req.body
    if (body.calendar_id is None) == (body.calendar is None):
        raise ValidationFailed("give either calendar_id or calendar")
    start = body.start or utcnow()
    if start.tzinfo is None:
        raise ValidationFailed("start needs a time zone (e.g. 2026-11-01T09:00:00Z)")
    row = None
    if body.calendar_id is not None:
        calendar_id = body.calendar_id
        row = await req.app[DATABASE].read(lambda c: store.calendar_row(c, calendar_id))
    targets = {"first_response": body.targets.first_response,
               "resolution": body.targets.resolution, "next_update": body.targets.next_update}

    def compute() -> PreviewOut:
        # Off the loop: building a zone reads the tz database, and a long target walks
        # many days of the calendar.
        if row is not None:
            cal = calendar_from_row(row)
        else:
            draft = body.calendar
            assert draft is not None
            try:
                cal = calendar_from_parts(
                    name="preview", tz=draft.tz, hours=store.hours_of(draft.hours),
                    holidays=draft.holidays, recurring_holidays=draft.recurring_holidays)
            except ValueError as exc:
                raise ValidationFailed(str(exc)) from exc
        return PreviewOut(start=start, calendar_name=cal.name, tz=cal.tz,
                          priority=body.priority, kind=body.kind,
                          clocks=preview_clocks(cal, targets, body.warn_percents, start))

    return await asyncio.to_thread(compute)


def _period(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("start and end need a time zone (e.g. 2026-11-01T00:00:00Z)")
    if end <= start:
        raise ValidationFailed("end must be after start")
    if end - start > MAX_PERIOD:
        raise ValidationFailed("a report covers at most 366 days")
    return start, end


async def _compliance(req: ApiRequest) -> ComplianceReport:
    q: ReportQuery = req.query
    start, end = _period(q.start, q.end)
    rows = await req.app[DATABASE].read(lambda c: reports.compliance(
        c, start=start, end=end, by=q.by, clock=q.clock))
    return ComplianceReport(start=start, end=end, by=q.by, rows=rows)


@router.route("GET", "/api/v1/sla/reports/compliance", roles=STAFF,
              summary="SLA compliance per policy, priority or group over a period",
              query=ReportQuery, response=ComplianceReport)
async def compliance(req: ApiRequest) -> ComplianceReport:
    return await _compliance(req)


def _csv_response(text: str, filename: str) -> web.Response:
    return web.Response(body=text.encode(), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff"})


@router.route("GET", "/api/v1/sla/reports/compliance.csv", roles=STAFF,
              summary="SLA compliance as CSV", query=ReportQuery, produces="text/csv")
async def compliance_csv(req: ApiRequest) -> web.Response:
    report = await _compliance(req)
    text = reports.to_csv([report.by, "clock", "total", "met", "breached", "compliance_percent"],
                          [[r.key, r.clock, r.total, r.met, r.breached, r.compliance_percent]
                           for r in report.rows])
    return _csv_response(text, f"sla-compliance-{report.by}.csv")


def _after(cursor: str | None) -> tuple[dt.datetime, int] | None:
    if cursor is None:
        return None
    breached_at, clock_id = decode_cursor(cursor, DATETIME, INT)
    return breached_at, clock_id


@router.route("GET", "/api/v1/sla/reports/breaches", roles=STAFF,
              summary="Clocks breached in a period", query=BreachQuery, response=BreachPage)
async def breaches(req: ApiRequest) -> BreachPage:
    q: BreachQuery = req.query
    start, end = _period(q.start, q.end)
    after = _after(q.cursor)
    limit = page_limit(req.app, q.limit)
    items, last = await req.app[DATABASE].read(lambda c: reports.breaches(
        c, start=start, end=end, after=after, limit=limit))
    return BreachPage(items=items, next_cursor=encode_cursor(last[0].isoformat(), last[1])
                      if last else None)


CSV_MAX_ROWS = 100_000


@router.route("GET", "/api/v1/sla/reports/breaches.csv", roles=STAFF,
              summary="Clocks breached in a period as CSV", query=PeriodQuery,
              produces="text/csv")
async def breaches_csv(req: ApiRequest) -> web.Response:
    q: PeriodQuery = req.query
    start, end = _period(q.start, q.end)

    def build(conn: Connection) -> str:
        # Up to CSV_MAX_ROWS rows: formatted on the reader thread, not the event loop.
        items, _ = reports.breaches(conn, start=start, end=end, after=None,
                                    limit=CSV_MAX_ROWS)
        return reports.to_csv(
            ["ticket", "title", "priority", "group_id", "status", "clock", "policy",
             "target_minutes", "due_at", "breached_at", "stopped_at"],
            [[b.number, b.title, f"P{b.priority}", b.group_id, b.status, b.clock,
              b.policy_name, b.target_minutes, b.due_at, b.breached_at, b.stopped_at]
             for b in items])

    text = await req.app[DATABASE].read(build)
    return _csv_response(text, "sla-breaches.csv")
