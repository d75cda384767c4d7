"""The ticket list: filters, search, sort orders and keyset cursors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.api.pagination import DATETIME, FLAG, FLOAT, INT, OPTIONAL_DATETIME, KeyKind
from server.db.names import fold
from server.db.schema import ticket_devices, ticket_tags, tickets
from server.tickets import kind_change, lifecycle
from server.tickets.reading import ROWS, to_tickets
from server.tickets.schemas import Ticket
from server.tickets.search import fts_words, own_search, search_plan


@dataclass(frozen=True)
class ListFilters:
    """What the ticket list is narrowed by."""

    statuses: list[str] | None = None
    kind: str | None = None
    priority: int | None = None
    assignee: str | None = None  # "me", "none" or an id
    group_id: int | None = None
    requester_id: int | None = None
    device_id: int | None = None
    category_id: int | None = None
    tag: str | None = None
    q: str | None = None
    only_requester: int | None = None  # a requester sees only their own tickets
    public_only: bool = False  # search public text only (any caller who is not staff)
    viewer_id: int = 0
    viewer_group_ids: tuple[int, ...] = ()
    view: str | None = None


def cursor_kinds(sort: str, *, searching: bool) -> tuple[KeyKind, ...]:
    """Return the kinds of the values of a page's sort key (see :func:`list_tickets`)."""
    if searching:
        return (FLOAT, INT)  # search rank, id
    return {"priority": (INT, INT), "due": (FLAG, OPTIONAL_DATETIME, INT),
            "-updated": (DATETIME, INT)}.get(sort, (INT,))


def list_tickets(conn: Connection, f: ListFilters, *, sort: str, after: list[Any] | None,
                 limit: int) -> tuple[list[Ticket], list[Any] | None]:
    """Return a page of tickets and the sort key of its last row (None at the end).

    ``after`` is a sort key returned before, of :func:`cursor_kinds` (decoded and checked).
    """
    # Sort and page over the key columns only; whole rows are read for the page alone
    # (a search may sort thousands of candidates).
    query = sa.select(tickets.c.id, tickets.c.priority, tickets.c.updated_at,
                      tickets.c.sla_due_at)
    rank = None
    number = lifecycle.parse_number(f.q) if f.q else None
    if number is not None:
        # A ticket number (current or former) finds that ticket, not words in texts.
        query = query.where(kind_change.has_number(number))
    elif f.q:
        words = fts_words(f.q)
        if not words:
            return [], None
        hits = None
        if f.only_requester is not None:
            hits = own_search(conn, words, requester_id=f.only_requester)
        if hits is None:
            sql, match = search_plan(
                conn, words, page=limit,
                public_only=f.public_only or f.only_requester is not None)
            hits = sa.text(sql).bindparams(match=match).columns(
                ticket_id=sa.Integer, rank=sa.Float).subquery()
        query = query.add_columns(hits.c.rank).join(hits, hits.c.ticket_id == tickets.c.id)
        rank = hits.c.rank
    if f.only_requester is not None:
        query = query.where(tickets.c.requester_id == f.only_requester)
    statuses = list(f.statuses or [])
    if f.view in ("my_open", "unassigned", "open"):
        # A view means open tickets; a status filter narrows it further.
        statuses = sorted(set(statuses or lifecycle.OPEN_STATUSES) & lifecycle.OPEN_STATUSES)
        if not statuses:
            return [], None
    if f.view == "my_open":
        query = query.where(tickets.c.assignee_id == f.viewer_id)
    if f.view == "awaiting_my_approval":
        query = query.where(tickets.c.approval == "requested",
                            tickets.c.approver_id == f.viewer_id)
    if f.view == "unassigned":
        query = query.where(tickets.c.assignee_id.is_(None))
        if f.viewer_group_ids:
            query = query.where(sa.or_(tickets.c.group_id.in_(f.viewer_group_ids),
                                       tickets.c.group_id.is_(None)))
    if statuses:
        # Known statuses go into the SQL as literals, sorted: a list equal to the open
        # statuses then matches the partial index ix_tickets_open_priority_id.
        known = sorted(set(statuses)) if set(statuses) <= set(lifecycle.STATUSES) else None
        condition: Any = tickets.c.status.in_(
            sa.bindparam("statuses", known, expanding=True, literal_execute=True)
            if known else statuses)
        narrowed = any(v is not None for v in (
            f.q, f.only_requester, f.assignee, f.group_id, f.requester_id, f.device_id,
            f.category_id, f.tag)) or f.view in ("my_open", "unassigned")
        if (sort == "priority" and not narrowed and conn.dialect.name == "sqlite"
                and known == sorted(lifecycle.OPEN_STATUSES)):
            # The queue's first screen: read the partial index in order and stop after a
            # page. Without statistics (no ANALYZE) SQLite guesses that few tickets are
            # open and would sort them all; likelihood() says most rows pass, and SQLite
            # still matches the wrapped term to the index's WHERE. likelihood() is
            # SQLite's; PostgreSQL's autovacuum keeps statistics, so it needs no hint.
            condition = sa.func.likelihood(condition, sa.literal_column("0.9"))
        query = query.where(condition)
    if f.kind:
        query = query.where(tickets.c.kind == f.kind)
    if f.priority is not None:
        query = query.where(tickets.c.priority == f.priority)
    if f.assignee == "me":
        query = query.where(tickets.c.assignee_id == f.viewer_id)
    elif f.assignee == "none":
        query = query.where(tickets.c.assignee_id.is_(None))
    elif f.assignee is not None:
        query = query.where(tickets.c.assignee_id == int(f.assignee))
    for column, value in ((tickets.c.group_id, f.group_id),
                          (tickets.c.requester_id, f.requester_id),
                          (tickets.c.category_id, f.category_id)):
        if value is not None:
            query = query.where(column == value)
    if f.device_id is not None:
        query = query.where(tickets.c.id.in_(sa.select(ticket_devices.c.ticket_id).where(
            ticket_devices.c.device_id == f.device_id)))
    if f.tag is not None:
        query = query.where(tickets.c.id.in_(sa.select(ticket_tags.c.ticket_id).where(
            ticket_tags.c.tag == fold(f.tag))))
    # Keyset pagination: the sort key always ends in the unique id.
    if rank is not None:
        keys: list[Any] = [rank, tickets.c.id]
        order = [rank.asc(), tickets.c.id.asc()]
        ascending = [True, True]
    elif sort == "id":
        keys, order, ascending = [tickets.c.id], [tickets.c.id.asc()], [True]
    elif sort == "priority":
        keys = [tickets.c.priority, tickets.c.id]
        order = [tickets.c.priority.asc(), tickets.c.id.asc()]
        ascending = [True, True]
    elif sort == "due":
        # Earliest SLA due time first; tickets without a running clock last.
        keys = [_NO_DUE, tickets.c.sla_due_at, tickets.c.id]
        order = [_NO_DUE.asc(), tickets.c.sla_due_at.asc(), tickets.c.id.asc()]
        ascending = [True, True, True]
    elif sort == "-updated":
        keys = [tickets.c.updated_at, tickets.c.id]
        order = [tickets.c.updated_at.desc(), tickets.c.id.desc()]
        ascending = [False, False]
    else:
        keys, order, ascending = [tickets.c.id], [tickets.c.id.desc()], [False]
    if after is not None:
        # Checked against cursor_kinds(sort, searching) by the caller.
        if len(after) != len(keys):  # pragma: no cover - a caller's mistake
            raise ValueError(f"cursor {after!r} does not fit sort {sort!r}")
        if sort == "due" and rank is None:
            query = query.where(_after_due(after[1], after[2]))
        else:
            query = query.where(_after(keys, after, ascending))
    rows = list(conn.execute(query.order_by(*order).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last_key = None
    if more and rows:
        last = rows[-1]
        if rank is not None:
            last_key = [last.rank, last.id]
        elif sort == "due":
            due = last.sla_due_at
            last_key = [int(due is None), due.isoformat() if due else None, last.id]
        else:
            last_key = [getattr(last, k.key) for k in keys]
        if keys[0] is tickets.c.updated_at:
            last_key[0] = last_key[0].isoformat()
    by_id = {r.id: r for r in conn.execute(ROWS, {"ids": [r.id for r in rows]})
             } if rows else {}
    return to_tickets(conn, [by_id[r.id] for r in rows]), last_key


_NO_DUE = sa.case((tickets.c.sla_due_at.is_(None), 1), else_=0)


def _after_due(due: dt.datetime | None, ticket_id: int) -> Any:
    """Return "row sorts after (due, id)" with tickets without a due time last."""
    due_col, id_col = tickets.c.sla_due_at, tickets.c.id
    if due is None:
        return sa.and_(due_col.is_(None), id_col > ticket_id)
    return sa.or_(due_col.is_(None), due_col > due, sa.and_(due_col == due, id_col > ticket_id))


def _after(keys: list[Any], values: list[Any], ascending: list[bool]) -> Any:
    """Return the keyset condition "row sorts after values" for mixed-direction keys."""
    clauses = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        prefix = [keys[j] == values[j] for j in range(i)]
        step = key > value if ascending[i] else key < value
        clauses.append(sa.and_(*prefix, step))
    return sa.or_(*clauses)
