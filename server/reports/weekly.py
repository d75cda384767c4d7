"""The weekly summary each group manager gets by mail, in their own language.

Once a week (the first check on or after Monday 00:00 in the report time zone) the
server mails every group's manager the last week's figures for that group, computed
from the same roll-ups as the dashboards. ``report_state.weekly_sent`` names the week
done, so a restart or a second node's pass sends nothing twice; mail is queued in one
transaction with that mark.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Connection

from server.db.schema import groups, users
from server.i18n.catalogues import Translator, translator
from server.keys import DATABASE
from server.mail import compose
from server.mail import outbox as mail_outbox
from server.mail.tables import mail_opt_outs, mail_reason_opt_outs
from server.mail.tables import mail_outbox as outbox_table
from server.reports import histogram, queries, rollup
from server.reports.service import zone_name
from server.reports.tables import report_state


@dataclass(frozen=True)
class Summary:
    """One group's week."""

    group: str
    start: dt.date
    end: dt.date
    created: int
    resolved: int
    backlog: int
    first_response_median: float | None
    resolution_median: float | None
    sla_percent: float | None
    reopen_percent: float | None
    rating: float | None


def summarise(conn: Connection, group_id: int, name: str, start: dt.date) -> Summary:
    """Compute one group's figures for the week starting on ``start`` (a Monday)."""
    scope = queries.Scope(start=start, end=start + dt.timedelta(days=6), group_id=group_id)
    volume = queries.volume(conn, scope).rows
    sla = queries.sla(conn, scope).rows
    quality = queries.quality(conn, scope).rows
    sat = queries.satisfaction(conn, scope).rows
    hists: dict[str, dict[int, int]] = {}
    for h in queries._hists(conn, scope, "all", sa.literal(1)).values():
        for key in ("fr", "res"):
            histogram.merge(hists.setdefault(key, {}), h.get(key, {}))
    met = sum(int(r[1] or 0) + int(r[4] or 0) for r in sla)
    decided = met + sum(int(r[2] or 0) + int(r[5] or 0) for r in sla)
    done = sum(int(r[1] or 0) for r in quality)
    rated = sum(int(r[1] or 0) for r in sat)
    return Summary(
        group=name, start=scope.start, end=scope.end,
        created=sum(int(r[1] or 0) for r in volume), resolved=sum(int(r[2] or 0) for r in volume),
        backlog=int(volume[-1][3] or 0),
        first_response_median=histogram.percentile(hists.get("fr", {}), 50),
        resolution_median=histogram.percentile(hists.get("res", {}), 50),
        sla_percent=round(100 * met / decided, 1) if decided else None,
        reopen_percent=round(100 * sum(int(r[2] or 0) for r in quality) / done, 1)
        if done else None,
        rating=round(sum(float(r[2] or 0) * int(r[1] or 0) for r in sat) / rated, 2)
        if rated else None)


def _hours(tr: Translator, seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return tr.gettext("{hours} hours", hours=f"{seconds / 3600:.1f}")


def render(tr: Translator, s: Summary, *, name: str, link: str, product: str
           ) -> tuple[str, str]:
    """Return the subject and body of one manager's summary (pure)."""
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} %"

    subject = tr.gettext("Weekly summary of {group}: {start} to {end}", group=s.group,
                         start=s.start.isoformat(), end=s.end.isoformat())
    lines = [
        tr.gettext("Hello {name},", name=name), "",
        tr.gettext("Last week in {group}:", group=s.group), "",
        tr.gettext("Tickets created: {n}", n=s.created),
        tr.gettext("Tickets resolved: {n}", n=s.resolved),
        tr.gettext("Open at the end of the week: {n}", n=s.backlog),
        tr.gettext("Median first response: {time}",
                   time=_hours(tr, s.first_response_median)),
        tr.gettext("Median resolution: {time}", time=_hours(tr, s.resolution_median)),
        tr.gettext("SLA clocks met: {percent}", percent=pct(s.sla_percent)),
        tr.gettext("Reopened: {percent}", percent=pct(s.reopen_percent)),
        tr.gettext("Average rating: {rating}",
                   rating="-" if s.rating is None else f"{s.rating:.2f} / 5"),
        "", tr.gettext("The dashboards: {link}", link=link), "",
        "-- \n" + tr.gettext("This message was sent automatically by {product}.",
                             product=product)]
    return subject, "\n".join(lines) + "\n"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def queue_due(conn: Connection, *, tz: str, now: dt.datetime) -> int:
    """Queue last week's summaries if not done yet; return the mails queued."""
    config = mail_outbox.config_of(conn)
    zone = rollup.built_zone(conn) or zoneinfo.ZoneInfo(tz)
    this_monday = _monday(now.astimezone(zone).date())
    week = this_monday - dt.timedelta(days=7)
    sent = conn.execute(sa.select(report_state.c.weekly_sent)
                        .where(report_state.c.id == 1)).scalar()
    if config is None:
        return 0  # mail is off: nothing is marked, the week goes out once mail is on
    if sent is not None and sent >= week.isoformat():
        return 0
    managers = conn.execute(
        sa.select(groups.c.id, groups.c.name, users.c.id.label("user_id"), users.c.display_name,
                  users.c.email, users.c.language)
        .join(users, users.c.id == groups.c.manager_id)
        .where(users.c.active.is_(True), users.c.email.is_not(None),
               users.c.role.in_(sorted(compose.STAFF_ROLES)),
               ~sa.exists().where(mail_opt_outs.c.user_id == users.c.id),
               ~sa.exists().where(mail_reason_opt_outs.c.user_id == users.c.id,
                                  mail_reason_opt_outs.c.reason == "report"))
        .order_by(groups.c.id)).all()
    rows: list[dict[str, Any]] = []
    for m in managers:
        if not compose.valid_address(m.email):
            continue
        tr = translator(m.language or config.language)
        subject, body = render(tr, summarise(conn, m.id, m.name, week), name=m.display_name,
                               link=f"{config.base_url.rstrip('/')}/#/reports",
                               product=config.product)
        rows.append({"created_at": now, "ticket_id": None, "recipient_id": m.user_id,
                     "reason": "report", "to_addr": m.email, "subject": subject[:300],
                     "body": body, "message_id":
                     f"<{secrets.token_hex(12)}.report@{config.domain}>", "thread_id": None,
                     "status": "queued", "attempts": 0, "next_attempt_at": now})
    if rows:
        conn.execute(outbox_table.insert(), rows)
    conn.execute(report_state.update().where(report_state.c.id == 1)
                 .values(weekly_sent=week.isoformat()))
    return len(rows)


async def send_due(app: web.Application, *, now: dt.datetime) -> int:
    """Queue the weekly summaries that are due (the mail sender delivers them)."""
    tz = zone_name(app)
    return await app[DATABASE].write(lambda c: queue_due(c, tz=tz, now=now))
