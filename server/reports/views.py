"""HTTP handlers for the dashboards: one chart's data as JSON or CSV, portal suggestions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Connection

from server.api.routing import ANY_USER, STAFF, ApiRequest, Router
from server.db.schema import groups, utcnow
from server.errors import Forbidden, ValidationFailed
from server.keys import DATABASE, SETTINGS
from server.reports import queries, rollup
from server.reports.schemas import (
    CHARTS,
    ChartData,
    ChartQuery,
    GroupRef,
    ReportScope,
    SuggestionsShown,
)
from server.sla.reports import to_csv
from server.tickets import scope as ticket_scope

router = Router("reports")
MAX_DAYS = 366
DEFAULT_DAYS = 30


def report_zone_name(req: ApiRequest) -> str:
    """Return the time zone days are counted in (the setting, else the default zone)."""
    s = req.app[SETTINGS]
    return s.report_time_zone or s.default_time_zone


def _scope(q: ChartQuery, today: dt.date, visible: tuple[int, ...] | None) -> queries.Scope:
    end = q.end or today
    start = q.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationFailed("end must not be before start", field="end")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed("a report covers at most {n} days", field="start", n=MAX_DAYS)
    if visible is not None and q.group_id is not None and q.group_id not in visible:
        raise Forbidden("you may not see the reports of group {group_id}", group_id=q.group_id)
    return queries.Scope(start=start, end=end, group_id=q.group_id, category_id=q.category_id,
                         visible_groups=visible)


def visible_groups(conn: Connection, *, user_id: int, admin: bool) -> tuple[int, ...] | None:
    """Return the groups whose tickets a caller's reports count besides those without a
    group (None: all of them); the rule of server/tickets/scope.py."""
    mine = ticket_scope.group_ids(conn, user_id, "admin" if admin else "technician")
    return None if mine is None else tuple(sorted(mine))


def build(conn: Connection, chart: str, q: ChartQuery, *, user_id: int, admin: bool,
          tz: str, now: dt.datetime) -> ChartData:
    """Compute one chart for a caller (on a reader thread)."""
    zone = rollup.built_zone(conn) or zoneinfo.ZoneInfo(tz)
    visible = visible_groups(conn, user_id=user_id, admin=admin)
    scope = _scope(q, now.astimezone(zone).date(), visible)
    table = table_of(conn, chart, scope, q.by, zone)
    return ChartData(chart=chart, start=scope.start, end=scope.end, time_zone=str(zone),
                     by=q.by if chart == "times" else None, columns=table.columns,
                     rows=table.rows)


def table_of(conn: Connection, chart: str, scope: queries.Scope, by: str,
             zone: zoneinfo.ZoneInfo) -> queries.Table:
    """Return one chart's table."""
    if chart == "volume":
        return queries.volume(conn, scope)
    if chart == "times":
        return queries.times(conn, scope, by)
    if chart == "sla":
        return queries.sla(conn, scope)
    if chart == "quality":
        return queries.quality(conn, scope)
    if chart == "remote":
        return queries.remote(conn, scope)
    if chart == "satisfaction":
        return queries.satisfaction(conn, scope)
    start_at = dt.datetime.combine(scope.start, dt.time(), zone)
    end_at = dt.datetime.combine(scope.end + dt.timedelta(days=1), dt.time(), zone)
    return queries.deflection(conn, scope, day_of=lambda at: at.astimezone(zone).date()
                              .isoformat(), start_at=start_at, end_at=end_at)


async def _chart(req: ApiRequest, chart: str) -> ChartData:
    q: ChartQuery = req.query
    me = req.user
    tz, now = report_zone_name(req), utcnow()
    return await req.app[DATABASE].read(lambda c: build(
        c, chart, q, user_id=me.user_id, admin=me.role == "admin", tz=tz, now=now))


@router.route("GET", "/api/v1/reports/scope", roles=STAFF,
              summary="The groups the caller's dashboards may show, and the days' time zone",
              response=ReportScope)
async def scope(req: ApiRequest) -> ReportScope:
    me = req.user
    tz, now = report_zone_name(req), utcnow()

    def run(conn: Connection) -> ReportScope:
        zone = rollup.built_zone(conn) or zoneinfo.ZoneInfo(tz)
        visible = visible_groups(conn, user_id=me.user_id, admin=me.role == "admin")
        query = sa.select(groups.c.id, groups.c.name).order_by(groups.c.name_key)
        if visible is not None:
            query = query.where(groups.c.id.in_(visible))
        return ReportScope(groups=[GroupRef(id=r.id, name=r.name) for r in conn.execute(query)],
                           all_groups=visible is None, time_zone=str(zone),
                           today=now.astimezone(zone).date())

    return await req.app[DATABASE].read(run)


def _declare(name: str) -> None:
    """Declare one chart's two endpoints: its table as JSON, and as CSV."""

    async def as_json(req: ApiRequest) -> ChartData:
        return await _chart(req, name)

    async def as_csv(req: ApiRequest) -> web.Response:
        data = await _chart(req, name)
        text = to_csv(data.columns, [list(r) for r in data.rows])
        filename = f"{name}{'-' + data.by if data.by else ''}-{data.start}-{data.end}.csv"
        return web.Response(body=text.encode(), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff"})

    # Distinct names: the OpenAPI document's operationId is the handler's name.
    as_json.__name__, as_csv.__name__ = f"chart_{name}", f"chart_{name}_csv"
    router.route("GET", f"/api/v1/reports/charts/{name}", roles=STAFF,
                 summary=f"Dashboard chart '{name}': its data as a table over a period",
                 query=ChartQuery, response=ChartData)(as_json)
    router.route("GET", f"/api/v1/reports/charts/{name}.csv", roles=STAFF,
                 summary=f"Dashboard chart '{name}' as CSV (the chart's own table)",
                 query=ChartQuery, produces="text/csv")(as_csv)


for _name in CHARTS:
    _declare(_name)


@router.route("POST", "/api/v1/reports/suggestions", roles=ANY_USER,
              summary="Count a new-ticket form that showed suggestions, or was filed after",
              body=SuggestionsShown, status=204)
async def suggestions(req: ApiRequest) -> None:
    body: SuggestionsShown = req.body
    tz, now = report_zone_name(req), utcnow()

    def run(conn: Any) -> None:
        zone = rollup.built_zone(conn) or zoneinfo.ZoneInfo(tz)
        queries.record_suggestions(conn, day=now.astimezone(zone).date().isoformat(),
                                   outcome=body.outcome)

    await req.app[DATABASE].write(run)
