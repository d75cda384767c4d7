"""SLA reports: compliance over a period, breached clocks, and their CSV form."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import groups, tickets
from server.sla.schemas import Breach, ComplianceRow
from server.sla.tables import sla_clocks

DECIDED = ("met", "breached")


def compliance(conn: Connection, *, start: dt.datetime, end: dt.datetime, by: str,
               clock: str | None) -> list[ComplianceRow]:
    """Count clocks decided in ``[start, end)``: met when they stopped in time, breached
    when they breached; grouped by the policy snapshot, the ticket's priority or group.

    A clock is decided when it breaches (``breached_at``) or when it stops in time
    (``stopped_at`` of a met clock). Cancelled clocks and clocks still running in time
    are not counted.
    """
    decided_at = sa.case((sla_clocks.c.state == "breached", sla_clocks.c.breached_at),
                         else_=sla_clocks.c.stopped_at)
    if by == "policy":
        key: Any = sla_clocks.c.policy_name
    elif by == "priority":
        # A literal, not a bound "P": PostgreSQL must see the same expression in SELECT
        # and GROUP BY (concat() is missing from SQLite before 3.44).
        key = sa.literal_column("'P'") + sa.cast(tickets.c.priority, sa.String)
    else:
        key = sa.func.coalesce(groups.c.name, "(no group)")
    query = (sa.select(key.label("key"), sla_clocks.c.kind,
                       sa.func.count().label("total"),
                       sa.func.sum(sa.case((sla_clocks.c.state == "met", 1), else_=0))
                       .label("met"))
             .select_from(sla_clocks.join(tickets, tickets.c.id == sla_clocks.c.ticket_id)
                          .outerjoin(groups, groups.c.id == tickets.c.group_id))
             .where(sla_clocks.c.state.in_(DECIDED), decided_at >= start, decided_at < end)
             .group_by(key, sla_clocks.c.kind).order_by(key, sla_clocks.c.kind))
    if clock is not None:
        query = query.where(sla_clocks.c.kind == clock)
    rows = []
    for r in conn.execute(query):
        met = int(r.met or 0)
        rows.append(ComplianceRow(key=str(r.key), clock=r.kind, total=r.total, met=met,
                                  breached=r.total - met,
                                  compliance_percent=round(100 * met / r.total, 1)
                                  if r.total else None))
    return rows


def breaches(conn: Connection, *, start: dt.datetime, end: dt.datetime,
             after: tuple[dt.datetime, int] | None, limit: int
             ) -> tuple[list[Breach], tuple[dt.datetime, int] | None]:
    """Return clocks breached in ``[start, end)``, oldest breach first, keyset-paged."""
    query = (sa.select(sla_clocks, tickets.c.number, tickets.c.title, tickets.c.priority,
                       tickets.c.group_id, tickets.c.status.label("ticket_status"))
             .join(tickets, tickets.c.id == sla_clocks.c.ticket_id)
             .where(sla_clocks.c.breached_at >= start, sla_clocks.c.breached_at < end))
    if after is not None:
        query = query.where(sa.or_(sla_clocks.c.breached_at > after[0], sa.and_(
            sla_clocks.c.breached_at == after[0], sla_clocks.c.id > after[1])))
    rows = conn.execute(query.order_by(sla_clocks.c.breached_at, sla_clocks.c.id)
                        .limit(limit + 1)).all()
    items = [Breach(clock_id=r.id, ticket_id=r.ticket_id, number=r.number, title=r.title,
                    priority=r.priority, group_id=r.group_id, status=r.ticket_status,
                    clock=r.kind, policy_name=r.policy_name, target_minutes=r.target_minutes,
                    due_at=r.due_at, breached_at=r.breached_at, stopped_at=r.stopped_at)
             for r in rows[:limit]]
    more = len(rows) > limit
    return items, ((items[-1].breached_at, items[-1].clock_id) if more else None)


def _cell(value: Any) -> str:
    text = "" if value is None else (value.isoformat() if isinstance(value, dt.datetime)
                                     else str(value))
    # A cell that a spreadsheet would run as a formula is quoted as text (OWASP CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(header: list[str], rows: list[list[Any]]) -> str:
    """Return CSV text (RFC 4180, CRLF line ends) with formula-like cells defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
