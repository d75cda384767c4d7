"""The dashboards' figures, read from the roll-ups (SQL); each returns a table.

Every chart is a table — columns and rows — and the CSV download is the same table, so
a chart and its CSV cannot disagree. Rows are limited to what the caller may see
(``Scope``): an admin sees every group; a technician the tickets of their groups and
those without a group, as the desk's "unassigned" view shows them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import categories, groups, users
from server.kb.tables import kb_deflections
from server.reports import histogram
from server.reports.tables import report_daily, report_kb_daily, report_open

Cell = str | int | float | None
BY = ("group", "category", "technician", "priority", "channel")


@dataclass(frozen=True)
class Scope:
    """What a caller asks for and may see: period, filters, visible groups."""

    start: dt.date
    end: dt.date  # inclusive
    group_id: int | None = None
    category_id: int | None = None
    visible_groups: tuple[int, ...] | None = None  # None: all; else these and "no group"


@dataclass(frozen=True)
class Table:
    """A chart's data: column names and rows."""

    columns: list[str]
    rows: list[list[Cell]]


def _days(scope: Scope) -> list[str]:
    n = (scope.end - scope.start).days + 1
    return [(scope.start + dt.timedelta(days=i)).isoformat() for i in range(n)]


def _where(table: Any, scope: Scope) -> list[Any]:
    out = []
    if scope.group_id is not None:
        out.append(table.c.group_id == scope.group_id)
    if scope.category_id is not None:
        out.append(table.c.category_id == scope.category_id)
    if scope.visible_groups is not None:
        out.append(table.c.group_id.in_([0, *scope.visible_groups]))
    return out


def _daily(conn: Connection, scope: Scope, names: tuple[str, ...], *,
           until: str | None = None) -> dict[str, dict[str, int]]:
    """Sum counters per day over the scope ("all" rows)."""
    rd = report_daily
    query = (sa.select(rd.c.day, *(sa.func.sum(getattr(rd.c, n)).label(n) for n in names))
             .where(rd.c.dim == "all", rd.c.day >= scope.start.isoformat(),
                    rd.c.day <= (until or scope.end.isoformat()), *_where(rd, scope))
             .group_by(rd.c.day))
    return {r.day: {n: int(getattr(r, n) or 0) for n in names} for r in conn.execute(query)}


def volume(conn: Connection, scope: Scope) -> Table:
    """Tickets created and resolved per day, and the backlog (open) at each day's end."""
    sums = _daily(conn, scope, ("created", "resolved", "entered", "left"), until="9999-12-31")
    open_now = int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(report_open.c.n), 0))
                                .where(*_where(report_open, scope))).scalar() or 0)
    # Walk back from now: the backlog at a day's end is today's, less what came in after.
    backlog: dict[str, int] = {}
    level = open_now
    for day in sorted(sums, reverse=True):
        if day <= scope.end.isoformat():
            break
        level -= sums[day]["entered"] - sums[day]["left"]
    for day in reversed(_days(scope)):
        backlog[day] = level
        s = sums.get(day)
        if s:
            level -= s["entered"] - s["left"]
    return Table(["day", "created", "resolved", "backlog"], [
        [d, sums.get(d, {}).get("created", 0), sums.get(d, {}).get("resolved", 0), backlog[d]]
        for d in _days(scope)])


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def sla(conn: Connection, scope: Scope) -> Table:
    """SLA clocks decided per day: met, breached, and compliance, per clock kind."""
    names = ("fr_met", "fr_breached", "res_met", "res_breached")
    sums = _daily(conn, scope, names)
    rows: list[list[Cell]] = []
    for d in _days(scope):
        s = sums.get(d, dict.fromkeys(names, 0))
        rows.append([d, s["fr_met"], s["fr_breached"],
                     _rate(s["fr_met"], s["fr_met"] + s["fr_breached"]),
                     s["res_met"], s["res_breached"],
                     _rate(s["res_met"], s["res_met"] + s["res_breached"])])
    return Table(["day", "first_response_met", "first_response_breached",
                  "first_response_percent", "resolution_met", "resolution_breached",
                  "resolution_percent"], rows)


def quality(conn: Connection, scope: Scope) -> Table:
    """Per day: tickets resolved for good, the share reopened and first-contact resolved."""
    sums = _daily(conn, scope, ("done", "reopened", "fcr"))
    rows: list[list[Cell]] = []
    for d in _days(scope):
        s = sums.get(d, {"done": 0, "reopened": 0, "fcr": 0})
        rows.append([d, s["done"], s["reopened"], _rate(s["reopened"], s["done"]), s["fcr"],
                     _rate(s["fcr"], s["done"])])
    return Table(["day", "resolved", "reopened", "reopen_percent", "first_contact",
                  "first_contact_percent"], rows)


def satisfaction(conn: Connection, scope: Scope) -> Table:
    """Ratings given per day and their average (1-5)."""
    sums = _daily(conn, scope, ("rated", "rating_sum"))
    rows: list[list[Cell]] = []
    for d in _days(scope):
        s = sums.get(d, {"rated": 0, "rating_sum": 0})
        rows.append([d, s["rated"],
                     round(s["rating_sum"] / s["rated"], 2) if s["rated"] else None])
    return Table(["day", "ratings", "average"], rows)


def _hists(conn: Connection, scope: Scope, dim: str, key: Any
           ) -> dict[Any, dict[str, dict[int, int]]]:
    """Merge the histograms of the scope's rows per ``key``: the database adds them up.

    ``json_each`` unnests each row's ``{"fr": {"12": 3}}`` into (name, bucket, count) rows
    on SQLite and on PostgreSQL alike (there it is lateral by default), so a year of rows
    is summed in SQL rather than parsed and merged in Python.
    """
    rd = report_daily
    j = sa.func.json_each(rd.c.hists).table_valued("key", "value").alias("j")
    b = sa.func.json_each(j.c.value).table_valued("key", "value").alias("b")
    n = sa.func.sum(sa.cast(sa.cast(b.c.value, sa.Text), sa.Integer))
    query = (sa.select(key.label("key"), j.c.key.label("name"), b.c.key.label("bucket"),
                       n.label("n"))
             .select_from(rd.join(j, sa.true()).join(b, sa.true()))
             .where(rd.c.dim == dim, rd.c.day >= scope.start.isoformat(),
                    rd.c.day <= scope.end.isoformat(), *_where(rd, scope),
                    sa.or_(rd.c.done != 0, rd.c.responded != 0))
             .group_by(key, j.c.key, b.c.key))
    out: dict[Any, dict[str, dict[int, int]]] = defaultdict(dict)
    for r in conn.execute(query):
        if r.n:
            out[r.key].setdefault(r.name, {})[int(r.bucket)] = int(r.n)
    return out


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _labels(conn: Connection, by: str, keys: list[Any]) -> dict[Any, str]:
    ids = [int(k) for k in keys if str(k).isdigit() and int(k)]
    if by == "group":
        return {r.id: r.name for r in conn.execute(
            sa.select(groups.c.id, groups.c.name).where(groups.c.id.in_(ids)))}
    if by == "category":
        return {r.id: r.name for r in conn.execute(
            sa.select(categories.c.id, categories.c.name).where(categories.c.id.in_(ids)))}
    if by == "technician":
        return {str(r.id): r.display_name for r in conn.execute(
            sa.select(users.c.id, users.c.display_name).where(users.c.id.in_(ids)))}
    if by == "priority":
        return {k: f"P{k}" for k in keys}
    return {k: str(k) for k in keys}


def times(conn: Connection, scope: Scope, by: str) -> Table:
    """First-response and resolution times (median, 90th percentile) by a dimension."""
    rd = report_daily
    if by in ("group", "category"):
        hists = _hists(conn, scope, "all", rd.c.group_id if by == "group" else rd.c.category_id)
    else:
        hists = _hists(conn, scope, by, rd.c.dim_value)
    keys = sorted(hists, key=lambda k: (int(k) if str(k).isdigit() else 0, str(k)))
    labels = _labels(conn, by, keys)
    rows: list[list[Cell]] = []
    for k in keys:
        fr, res = hists[k].get("fr", {}), hists[k].get("res", {})
        rows.append([k, labels.get(k, ""),
                     histogram.count(fr), _seconds(histogram.percentile(fr, 50)),
                     _seconds(histogram.percentile(fr, 90)),
                     histogram.count(res), _seconds(histogram.percentile(res, 50)),
                     _seconds(histogram.percentile(res, 90))])
    return Table([by, "label", "responded", "first_response_median_seconds",
                  "first_response_p90_seconds", "resolved", "resolution_median_seconds",
                  "resolution_p90_seconds"], rows)


def remote(conn: Connection, scope: Scope) -> Table:
    """Tickets resolved with and without a remote session: share and resolution times."""
    merged: dict[str, dict[int, int]] = {"res": {}, "res_remote": {}}
    for h in _hists(conn, scope, "all", sa.literal(1)).values():
        for name in merged:
            histogram.merge(merged[name], h.get(name, {}))
    without = dict(merged["res"])
    histogram.merge(without, merged["res_remote"], -1)
    total = histogram.count(merged["res"])
    rows: list[list[Cell]] = []
    for label, part in (("with_remote", merged["res_remote"]), ("without_remote", without)):
        n = histogram.count(part)
        rows.append([label, n, _rate(n, total), _seconds(histogram.percentile(part, 50)),
                     _seconds(histogram.percentile(part, 90))])
    return Table(["tickets", "resolved", "share_percent", "resolution_median_seconds",
                  "resolution_p90_seconds"], rows)


def deflection(conn: Connection, scope: Scope, *, day_of: Callable[[dt.datetime], str],
               start_at: dt.datetime, end_at: dt.datetime) -> Table:
    """Portal forms that showed suggestions, those filed anyway, and "solved" clicks.

    Desk-wide: a form that was not filed has no group or category.
    """
    kb = {r.day: r for r in conn.execute(sa.select(report_kb_daily).where(
        report_kb_daily.c.day >= scope.start.isoformat(),
        report_kb_daily.c.day <= scope.end.isoformat()))}
    solved: dict[str, int] = defaultdict(int)
    for (at,) in conn.execute(sa.select(kb_deflections.c.at).where(
            kb_deflections.c.at >= start_at, kb_deflections.c.at < end_at)):
        solved[day_of(at)] += 1
    rows: list[list[Cell]] = []
    for d in _days(scope):
        shown = kb[d].shown if d in kb else 0
        filed = kb[d].filed if d in kb else 0
        rows.append([d, shown, filed, max(0, shown - filed), _rate(max(0, shown - filed), shown),
                     solved.get(d, 0)])
    return Table(["day", "shown", "filed", "not_filed", "deflection_percent", "solved"], rows)


def record_suggestions(conn: Connection, *, day: str, outcome: str) -> None:
    """Count one new-ticket form that showed suggestions, or one filed after them."""
    column = report_kb_daily.c.shown if outcome == "shown" else report_kb_daily.c.filed
    done = conn.execute(report_kb_daily.update().where(report_kb_daily.c.day == day)
                        .values({column: column + 1})).rowcount
    if not done:
        conn.execute(report_kb_daily.insert().values(
            day=day, shown=int(outcome == "shown"), filed=int(outcome != "shown")))
