"""The roll-ups kept in step with tickets: refresh changed tickets, rebuild all (SQL).

Every timeline event marks its ticket (``mark``); just before the write transaction
commits, ``server.db.database`` runs the connection's ``before_commit`` hooks and
``flush`` refreshes the marked tickets — so the roll-ups commit with the events that
change them and see the SLA clocks as the same transaction left them. Refreshing a ticket
subtracts the items it added before (``report_facts``) and adds its new ones
(``facts.contribution``): the cost follows the tickets changed, never the table.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_events, tickets
from server.remote.tables import remote_sessions
from server.reports import facts, histogram
from server.reports.tables import report_daily, report_facts, report_open, report_state
from server.sla.tables import sla_clocks

DIRTY = "reports_dirty"
HOOKS = "before_commit"
EVENT_TYPES = ("created", "status_changed", "merged", "comment", "rating", "health_recovered")
CHUNK = 2000  # tickets read per query when rebuilding
Key = tuple[str, str, int, int, str]  # dim, day, group, category, dim value


# Changes to one roll-up row: item name -> amount ("created", "hist:fr:12", ...).
Delta = dict[str, int]


def mark(conn: Connection, ticket_id: int) -> None:
    """Note that a ticket changed in this transaction; it is refreshed before commit."""
    dirty: set[int] | None = conn.info.get(DIRTY)
    if dirty is None:
        dirty = conn.info[DIRTY] = set()
        conn.info.setdefault(HOOKS, {})[DIRTY] = flush
    dirty.add(ticket_id)


def flush(conn: Connection) -> None:
    """Refresh the tickets marked in this transaction (a ``before_commit`` hook)."""
    dirty: set[int] = conn.info.pop(DIRTY, set())
    zone = built_zone(conn)
    if dirty and zone is not None:
        refresh(conn, sorted(dirty), zone)


def built_zone(conn: Connection) -> zoneinfo.ZoneInfo | None:
    """Return the time zone the roll-ups were built in, or None before the first build."""
    tz = conn.execute(sa.select(report_state.c.tz).where(report_state.c.id == 1)).scalar()
    return None if tz is None else zoneinfo.ZoneInfo(tz)


@dataclass(frozen=True)
class Fact:
    """A ticket's dimensions and items, as stored in ``report_facts``."""

    ticket_id: int
    group_id: int
    category_id: int
    assignee_id: int
    priority: int
    source: str
    is_open: bool
    items: list[facts.Item]

    def row(self) -> dict[str, Any]:
        """Return the ``report_facts`` row."""
        return {"ticket_id": self.ticket_id, "group_id": self.group_id,
                "category_id": self.category_id, "assignee_id": self.assignee_id,
                "priority": self.priority, "source": self.source, "is_open": self.is_open,
                "items": [list(i) for i in self.items]}


def compute(conn: Connection, ticket_ids: Sequence[int],
            zone: zoneinfo.ZoneInfo) -> list[Fact]:
    """Read the tickets and what reports need of them; return their facts."""
    if not ticket_ids:
        return []
    ids = list(ticket_ids)
    rows = conn.execute(sa.select(
        tickets.c.id, tickets.c.created_at, tickets.c.status, tickets.c.requester_id,
        tickets.c.merged_into_id, tickets.c.group_id, tickets.c.category_id,
        tickets.c.assignee_id, tickets.c.priority, tickets.c.source)
        .where(tickets.c.id.in_(ids))).all()
    events: dict[int, list[facts.EventIn]] = defaultdict(list)
    for e in conn.execute(sa.select(ticket_events.c.ticket_id, ticket_events.c.at,
                                    ticket_events.c.type, ticket_events.c.actor_id,
                                    ticket_events.c.public, ticket_events.c.changes)
                          .where(ticket_events.c.ticket_id.in_(ids),
                                 ticket_events.c.type.in_(EVENT_TYPES))
                          .order_by(ticket_events.c.ticket_id, ticket_events.c.id)):
        events[e.ticket_id].append(facts.EventIn(at=e.at, type=e.type, actor_id=e.actor_id,
                                                 public=e.public, changes=e.changes or {}))
    clocks: dict[int, list[facts.ClockIn]] = defaultdict(list)
    for c in conn.execute(sa.select(sla_clocks.c.ticket_id, sla_clocks.c.kind,
                                    sla_clocks.c.state, sla_clocks.c.breached_at,
                                    sla_clocks.c.stopped_at)
                          .where(sla_clocks.c.ticket_id.in_(ids),
                                 sla_clocks.c.state.in_(("met", "breached")))):
        clocks[c.ticket_id].append(facts.ClockIn(kind=c.kind, state=c.state,
                                                 breached_at=c.breached_at,
                                                 stopped_at=c.stopped_at))
    remote = {r.ticket_id for r in conn.execute(
        sa.select(remote_sessions.c.ticket_id).where(
            remote_sessions.c.ticket_id.in_(ids), remote_sessions.c.started_at.is_not(None)))}
    out = []
    for r in rows:
        ticket = facts.TicketIn(id=r.id, created_at=r.created_at, status=r.status,
                                requester_id=r.requester_id, merged_into_id=r.merged_into_id)
        out.append(Fact(
            ticket_id=r.id, group_id=r.group_id or 0, category_id=r.category_id or 0,
            assignee_id=r.assignee_id or 0, priority=r.priority, source=r.source,
            is_open=facts.is_open(r.status),
            items=facts.contribution(ticket, events[r.id], clocks[r.id],
                                     remote=r.id in remote, zone=zone)))
    return out


def _keys(f: Fact, day: str) -> list[Key]:
    g, c = f.group_id, f.category_id
    return [("all", day, g, c, ""), ("technician", day, g, c, str(f.assignee_id)),
            ("priority", day, g, c, str(f.priority)), ("channel", day, g, c, f.source)]


def add_to(deltas: dict[Key, Delta], f: Fact, sign: int) -> None:
    """Add (or subtract) a fact's items to per-row deltas (flat: a rebuild's hot loop)."""
    keys_of: dict[str, list[Key]] = {}
    for day, name, value in f.items:
        keys = keys_of.get(day)
        if keys is None:
            keys = keys_of[day] = _keys(f, day)
        for key in keys:
            d = deltas.get(key)
            if d is None:
                d = deltas[key] = {}
            d[name] = d.get(name, 0) + sign * value


def _split(d: Delta) -> tuple[dict[str, int], dict[str, dict[int, int]]]:
    """Return a delta's counters and histograms."""
    counters: dict[str, int] = {}
    hists: dict[str, dict[int, int]] = {}
    for name, n in d.items():
        if not n:
            continue
        if name.startswith("hist:"):
            _, hist, bucket = name.split(":")
            hists.setdefault(hist, {})[int(bucket)] = n
        else:
            counters[name] = n
    return counters, hists


def _fact_from_row(r: Any) -> Fact:
    return Fact(ticket_id=r.ticket_id, group_id=r.group_id, category_id=r.category_id,
                assignee_id=r.assignee_id, priority=r.priority, source=r.source,
                is_open=r.is_open, items=[(i[0], i[1], int(i[2])) for i in r.items])


def refresh(conn: Connection, ticket_ids: Sequence[int], zone: zoneinfo.ZoneInfo) -> None:
    """Bring the roll-ups in step with the current state of some tickets."""
    old = {r.ticket_id: _fact_from_row(r) for r in conn.execute(
        sa.select(report_facts).where(report_facts.c.ticket_id.in_(list(ticket_ids))))}
    new = {f.ticket_id: f for f in compute(conn, ticket_ids, zone)}
    deltas: dict[Key, Delta] = {}
    opens: dict[tuple[int, int], int] = defaultdict(int)
    gone: list[int] = []
    rows: list[dict[str, Any]] = []
    for ticket_id in ticket_ids:
        before, after = old.get(ticket_id), new.get(ticket_id)
        if before == after:
            continue
        if before is not None:
            add_to(deltas, before, -1)
            if before.is_open:
                opens[before.group_id, before.category_id] -= 1
            gone.append(ticket_id)
        if after is not None:
            add_to(deltas, after, 1)
            if after.is_open:
                opens[after.group_id, after.category_id] += 1
            rows.append(after.row())
    if gone:
        conn.execute(report_facts.delete().where(report_facts.c.ticket_id.in_(gone)))
    if rows:
        conn.execute(report_facts.insert(), rows)
    _apply(conn, deltas)
    _apply_open(conn, opens)


_PK = ("dim", "day", "group_id", "category_id", "dim_value")


def _apply(conn: Connection, deltas: dict[Key, Delta]) -> None:
    """Add the deltas to their rows: one read of the rows, one batch of updates, one of
    inserts (a ticket change touches a dozen rows; statements are compiled once)."""
    keys = [k for k, d in deltas.items() if any(d.values())]
    if not keys:
        return
    pk = [getattr(report_daily.c, name) for name in _PK]
    found = {tuple(getattr(r, name) for name in _PK): r for r in conn.execute(
        sa.select(report_daily).where(sa.tuple_(*pk).in_(keys)))}
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for key in keys:
        row = found.get(key)
        if row is None:
            inserts.append(_row(key, deltas[key]))
            continue
        counters, changes = _split(deltas[key])
        hists = {name: {int(b): n for b, n in h.items()} for name, h in row.hists.items()}
        for name, h in changes.items():
            histogram.merge(hists.setdefault(name, {}), h)
        values = {f"k_{name}": v for name, v in zip(_PK, key, strict=True)}
        values.update({name: getattr(row, name) + counters.get(name, 0)
                       for name in facts.COUNTERS})
        values["hists"] = _stored(hists)
        updates.append(values)
    if updates:
        conn.execute(report_daily.update().where(
            *(col == sa.bindparam(f"k_{col.name}") for col in pk)), updates)
    if inserts:
        conn.execute(report_daily.insert(), inserts)


def _stored(hists: dict[str, dict[int, int]]) -> dict[str, dict[str, int]]:
    return {name: {str(b): n for b, n in sorted(h.items())} for name, h in hists.items() if h}


def _row(key: Key, d: Delta) -> dict[str, Any]:
    counters, hists = _split(d)
    row: dict[str, Any] = dict(zip(_PK, key, strict=True))
    row.update({name: counters.get(name, 0) for name in facts.COUNTERS})
    row["hists"] = _stored(hists)
    return row


def _apply_open(conn: Connection, opens: dict[tuple[int, int], int]) -> None:
    for (group_id, category_id), n in opens.items():
        if not n:
            continue
        where = (report_open.c.group_id == group_id, report_open.c.category_id == category_id)
        if conn.execute(sa.select(report_open.c.n).where(*where)).first() is None:
            conn.execute(report_open.insert().values(group_id=group_id,
                                                     category_id=category_id, n=n))
        else:
            conn.execute(report_open.update().where(*where).values(n=report_open.c.n + n))


def rebuild(conn: Connection, *, tz: str, now: dt.datetime, chunk: int = CHUNK) -> int:
    """Compute every roll-up afresh in time zone ``tz``; return the tickets counted."""
    zone = zoneinfo.ZoneInfo(tz)
    for table in (report_daily, report_facts, report_open, report_state):
        conn.execute(table.delete())
    deltas: dict[Key, Delta] = {}
    opens: dict[tuple[int, int], int] = defaultdict(int)
    done = 0
    last = 0
    while True:
        ids = list(conn.execute(sa.select(tickets.c.id).where(tickets.c.id > last)
                                .order_by(tickets.c.id).limit(chunk)).scalars())
        if not ids:
            break
        last = ids[-1]
        batch = compute(conn, ids, zone)
        for f in batch:
            add_to(deltas, f, 1)
            if f.is_open:
                opens[f.group_id, f.category_id] += 1
        conn.execute(report_facts.insert(), [f.row() for f in batch])
        done += len(batch)
    rows = [_row(k, d) for k, d in deltas.items() if any(d.values())]
    for i in range(0, len(rows), 5000):
        conn.execute(report_daily.insert(), rows[i:i + 5000])
    if opens:
        conn.execute(report_open.insert(), [
            {"group_id": g, "category_id": c, "n": n} for (g, c), n in opens.items() if n])
    conn.execute(report_state.insert().values(id=1, tz=tz, built_at=now))
    return done


def ensure_built(conn: Connection, *, tz: str, now: dt.datetime) -> int | None:
    """Rebuild when the roll-ups were never built or in another time zone; return the count."""
    row = conn.execute(sa.select(report_state.c.tz, report_state.c.weekly_sent)
                       .where(report_state.c.id == 1)).first()
    if row is not None and row.tz == tz:
        return None
    sent = row.weekly_sent if row is not None else None
    n = rebuild(conn, tz=tz, now=now)
    conn.execute(report_state.update().where(report_state.c.id == 1).values(weekly_sent=sent))
    return n


def mark_many(conn: Connection, ticket_ids: Iterable[int]) -> None:
    """Mark several tickets (events written without ``timeline.add_event``)."""
    for ticket_id in ticket_ids:
        mark(conn, ticket_id)
