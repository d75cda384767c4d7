"""SQL for tickets, their timeline and full-text index (functions over a Connection)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.api.pagination import DATETIME, FLAG, FLOAT, INT, OPTIONAL_DATETIME, KeyKind
from server.auth.identity import STAFF_ROLES
from server.db.names import fold, fold_tags
from server.db.schema import (
    categories,
    devices,
    groups,
    ticket_counters,
    ticket_devices,
    ticket_events,
    ticket_links,
    ticket_tags,
    tickets,
    users,
    utcnow,
)
from server.errors import Conflict, NotFound, ValidationFailed
from server.mail import outbox as mail_outbox
from server.sla import tracking as sla_tracking
from server.tickets import kind_change, lifecycle
from server.tickets.assignment import auto_assignee
from server.tickets.priority import priority_for
from server.tickets.schemas import DeviceRef, ReportedBy, Ticket, TicketEvent, UserRef
from server.tickets.visibility import REQUESTER_EVENTS, for_requester

TITLE_WEIGHT = 10.0  # column weights: a title match outranks a body match
BODY_WEIGHT = 1.0
# A search considers the newest MAX_HITS matching documents (rowid order is time order).
# bm25() costs time in proportion to the documents that contain each query word (FTS5
# counts them for the IDF on every call) and to the candidates it scores: when a word is
# in more than COMMON_WORD_DOCS documents, matches come newest first instead of by
# relevance. See docs/tickets.md, "Search".
MAX_HITS = 2_000
COMMON_WORD_DOCS = 20_000


@dataclass(frozen=True)
class _TextSearch:
    """How one database matches and ranks documents of ``tickets_fts``.

    The table has the same name and columns on both (rowid = event id, title, body,
    ticket_id, event_id, public as 0/1), so documents are written and read with the same
    SQL; these two expressions and the query syntax are all that differ.
    """

    match: str  # SQL condition: the document matches :match
    rank: str  # SQL of a document's rank for :match, lower is better
    quote: str  # one word of a query, {} replaced by the word
    prefix: str  # suffix making the last word a prefix
    join: str  # between words (every word must match)


# SQLite: the FTS5 virtual table (revision 0003), bm25 with per-column weights.
_FTS5 = _TextSearch(
    match="tickets_fts MATCH :match",
    rank=f"bm25(tickets_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})",
    quote='"{}"', prefix="*", join=" ")
# PostgreSQL: a tsvector column with a GIN index (revision 0013_postgres_search). The
# weights array is {D, C, B, A}: titles are weight A, bodies B; normalization 1 divides
# by the log of the document's length, as bm25 favours short documents. ts_rank reads no
# corpus statistics, but common words still list newest first, as on SQLite.
_TSVECTOR = _TextSearch(
    match="document @@ to_tsquery('deskmate', :match)",
    rank=(f"-CAST(ts_rank('{{0, 0, {BODY_WEIGHT / TITLE_WEIGHT}, 1}}', document, "
          "to_tsquery('deskmate', :match), 1) AS double precision)"),
    quote="'{}'", prefix=":*", join=" & ")


def _text_search(conn: Connection) -> _TextSearch:
    return _FTS5 if conn.dialect.name == "sqlite" else _TSVECTOR


# bm25() is only allowed in a plain full-text query: rank in a subquery that SQLite
# cannot flatten into the join (it has a LIMIT), then group per ticket. Only constants
# are formatted into these strings; the user's words travel as :match.
_PUBLIC = " AND public = 1"


def _ranked_sql(ts: _TextSearch, *, public_only: bool) -> str:
    """Return SQL ranking the newest MAX_HITS matches, one row per ticket."""
    extra = _PUBLIC if public_only else ""
    cutoff = (f"coalesce((SELECT rowid FROM tickets_fts WHERE {ts.match}{extra} "  # noqa: S608
              f"ORDER BY rowid DESC LIMIT 1 OFFSET {MAX_HITS - 1}), 0)")
    return ("SELECT ticket_id, min(rank) AS rank FROM ("  # noqa: S608 - constants only
            f"SELECT ticket_id, {ts.rank} AS rank "
            f"FROM tickets_fts WHERE {ts.match}{extra} AND rowid >= {cutoff} "
            f"ORDER BY rank LIMIT {MAX_HITS}) AS hits GROUP BY ticket_id")


def _recent_sql(ts: _TextSearch, *, public_only: bool) -> str:
    """Return SQL ordering matches newest document first (rank = -rowid), one row per ticket."""
    extra = _PUBLIC if public_only else ""
    return ("SELECT ticket_id, min(rank) AS rank FROM ("  # noqa: S608 - constants only
            "SELECT ticket_id, -rowid AS rank FROM tickets_fts "
            f"WHERE {ts.match}{extra} ORDER BY rowid DESC LIMIT {MAX_HITS}) AS hits "
            "GROUP BY ticket_id")


def next_number(conn: Connection, kind: lifecycle.Kind) -> str:
    """Take the next human number of a kind (inside the writer's transaction)."""
    row = conn.execute(sa.select(ticket_counters.c.last)
                       .where(ticket_counters.c.kind == kind)).first()
    if row is None:
        conn.execute(ticket_counters.insert().values(kind=kind, last=1))
        return lifecycle.number(kind, 1)
    conn.execute(ticket_counters.update().where(ticket_counters.c.kind == kind)
                 .values(last=ticket_counters.c.last + 1))
    return lifecycle.number(kind, row.last + 1)


def check_refs(conn: Connection, *, user_ids: dict[str, int | None] | None = None,
               group_id: int | None = None, category_id: int | None = None,
               device_ids: list[int] | None = None, problem_id: int | None = None) -> None:
    """Refuse references to rows that do not exist (422 naming the field).

    An assignee must be active staff: whoever holds a ticket reads all of it, internal
    notes included, and is mailed about it (server/mail/outbox.py checks again).
    """
    for field, user_id in (user_ids or {}).items():
        if user_id is None:
            continue
        role = conn.execute(sa.select(users.c.role).where(
            users.c.id == user_id, users.c.active.is_(True))).scalar()
        if role is None:
            raise ValidationFailed(f"{field}: no active user with id {user_id}")
        if field == "assignee_id" and role not in STAFF_ROLES:
            raise ValidationFailed(f"{field}: user {user_id} is a {role}; only technicians "
                                   "and admins can be assigned")
    if group_id is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise ValidationFailed(f"group_id: no group with id {group_id}")
    if category_id is not None and conn.execute(
            sa.select(categories.c.id).where(categories.c.id == category_id)).first() is None:
        raise ValidationFailed(f"category_id: no category with id {category_id}")
    if device_ids:
        found = {r.id for r in conn.execute(sa.select(devices.c.id)
                                            .where(devices.c.id.in_(device_ids)))}
        missing = sorted(set(device_ids) - found)
        if missing:
            raise ValidationFailed(f"device_ids: no device with id {missing[0]}")
    if problem_id is not None:
        row = conn.execute(sa.select(tickets.c.kind).where(tickets.c.id == problem_id)).first()
        if row is None or row.kind != "problem":
            raise ValidationFailed(f"problem_id: ticket {problem_id} is not a problem")


def add_event(conn: Connection, ticket_id: int, *, actor_id: int | None, type: str,
              public: bool, now: dt.datetime, body: str | None = None,
              changes: dict[str, Any] | None = None) -> int:
    """Append one timeline event; index its text for search."""
    event_id = int(conn.execute(ticket_events.insert().values(
        ticket_id=ticket_id, at=now, actor_id=actor_id, type=type, public=public, body=body,
        changes=changes or {})).inserted_primary_key[0])  # type: ignore[index]
    if body:
        # A document's rowid is its event's id: found again without a scan, and newer
        # documents have larger rowids (search bounds its candidates by them).
        conn.execute(sa.text("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, "
                             "public) VALUES (:eid, '', :body, :tid, :eid, :public)"),
                     {"body": body, "tid": ticket_id, "eid": event_id, "public": int(public)})
    # E-mail notifications commit with the event that causes them (server/mail/outbox.py).
    mail_outbox.on_ticket_event(conn, ticket_id, type=type, public=public, actor_id=actor_id,
                                body=body, changes=changes, now=now)
    return event_id


def _index_ticket(conn: Connection, ticket_id: int, title: str, description: str, *,
                  doc_id: int | None = None) -> None:
    """(Re)index a ticket's title and description as the document of its "created" event."""
    if doc_id is None:
        doc_id = conn.execute(sa.select(sa.func.min(ticket_events.c.id))
                              .where(ticket_events.c.ticket_id == ticket_id)).scalar_one()
    conn.execute(sa.text("DELETE FROM tickets_fts WHERE rowid = :doc"), {"doc": doc_id})
    conn.execute(sa.text("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, "
                         "public) VALUES (:doc, :title, :body, :tid, NULL, 1)"),
                 {"doc": doc_id, "title": title, "body": description, "tid": ticket_id})


def _set_devices(conn: Connection, ticket_id: int, device_ids: list[int]) -> None:
    conn.execute(ticket_devices.delete().where(ticket_devices.c.ticket_id == ticket_id))
    if device_ids:
        conn.execute(ticket_devices.insert(),
                     [{"ticket_id": ticket_id, "device_id": d} for d in sorted(set(device_ids))])


def _set_tags(conn: Connection, ticket_id: int, tags: list[str]) -> None:
    conn.execute(ticket_tags.delete().where(ticket_tags.c.ticket_id == ticket_id))
    clean = fold_tags(tags)
    if clean:
        conn.execute(ticket_tags.insert(), [{"ticket_id": ticket_id, "tag": t} for t in clean])


@dataclass(frozen=True)
class NewTicket:
    """Validated values of a ticket about to be created."""

    kind: lifecycle.Kind
    title: str
    description: str
    impact: int
    urgency: int
    priority: int
    category_id: int | None
    requester_id: int
    assignee_id: int | None
    group_id: int | None
    device_ids: list[int]
    tags: list[str]
    source: lifecycle.Source
    reported_device_id: int | None = None  # raised on a device: which one,
    reported_login: str | None = None  # and the OS login it reported (as reported)


def create_ticket(conn: Connection, new: NewTicket, *, actor_id: int | None,
                  now: dt.datetime) -> int:
    """Insert a ticket with its first timeline event; return its id."""
    check_refs(conn, user_ids={"requester_id": new.requester_id,
                               "assignee_id": new.assignee_id},
               group_id=new.group_id, category_id=new.category_id, device_ids=new.device_ids)
    assignee_id = new.assignee_id
    if assignee_id is None and new.group_id is not None:
        assignee_id = auto_assignee(conn, new.group_id)
    status = lifecycle.status_after_assignment("new", assignee_id)
    ticket_id = int(conn.execute(tickets.insert().values(
        number=next_number(conn, new.kind), kind=new.kind, title=new.title,
        description=new.description, status=status, impact=new.impact, urgency=new.urgency,
        priority=new.priority, category_id=new.category_id, requester_id=new.requester_id,
        assignee_id=assignee_id, group_id=new.group_id, source=new.source,
        created_by=actor_id, created_at=now, updated_at=now,
        reported_device_id=new.reported_device_id, reported_login=new.reported_login,
    )).inserted_primary_key[0])  # type: ignore[index]
    _set_devices(conn, ticket_id, new.device_ids)
    _set_tags(conn, ticket_id, new.tags)
    changes: dict[str, Any] = {"status": {"before": None, "after": status},
                               "priority": {"before": None, "after": new.priority}}
    if assignee_id is not None and new.assignee_id is None:
        changes["assignee_id"] = {"before": None, "after": assignee_id, "auto": True}
    if new.reported_login is not None:  # the desk's timeline: "reported by pc-7 for 'bob'"
        changes["reported"] = reported_change(conn, new.reported_device_id, new.reported_login)
    created = add_event(conn, ticket_id, actor_id=actor_id, type="created", public=True,
                        now=now, changes=changes)
    _index_ticket(conn, ticket_id, new.title, new.description, doc_id=created)
    sla_tracking.on_created(conn, ticket_id, now)
    return ticket_id


def reported_change(conn: Connection, device_id: int | None, login: str) -> dict[str, Any]:
    """Return the created event's record of what a device reported."""
    hostname = conn.execute(sa.select(devices.c.hostname).where(
        devices.c.id == device_id)).scalar() if device_id is not None else None
    return {"device_id": device_id, "hostname": hostname, "login": login}


def _user_refs(conn: Connection, ids: set[int]) -> dict[int, UserRef]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(users.c.id, users.c.display_name)
                        .where(users.c.id.in_(sorted(ids))))
    return {r.id: UserRef(id=r.id, display_name=r.display_name) for r in rows}


def _to_tickets(conn: Connection, rows: list[Any]) -> list[Ticket]:
    ids = [r.id for r in rows]
    sla = sla_tracking.ticket_sla(conn, ids, utcnow())
    tags: dict[int, list[str]] = defaultdict(list)
    devs: dict[int, list[DeviceRef]] = defaultdict(list)
    related: dict[int, list[int]] = defaultdict(list)
    if ids:
        for tid, other in conn.execute(sa.select(ticket_links.c.ticket_id,
                                                 ticket_links.c.related_id)
                                       .where(ticket_links.c.ticket_id.in_(ids))
                                       .order_by(ticket_links.c.related_id)):
            related[tid].append(other)
        for tid, tag in conn.execute(sa.select(ticket_tags.c.ticket_id, ticket_tags.c.tag)
                                     .where(ticket_tags.c.ticket_id.in_(ids))
                                     .order_by(ticket_tags.c.tag)):
            tags[tid].append(tag)
        for tid, did, hostname in conn.execute(
                sa.select(ticket_devices.c.ticket_id, ticket_devices.c.device_id,
                          devices.c.hostname)
                .join(devices, devices.c.id == ticket_devices.c.device_id)
                .where(ticket_devices.c.ticket_id.in_(ids))
                .order_by(ticket_devices.c.device_id)):
            devs[tid].append(DeviceRef(id=did, hostname=hostname))
    reporters = {r.reported_device_id for r in rows if r.reported_device_id is not None}
    hosts = {r.id: r.hostname for r in conn.execute(sa.select(
        devices.c.id, devices.c.hostname).where(devices.c.id.in_(sorted(reporters))))}
    former = kind_change.former_numbers(conn, ids)
    refs = _user_refs(conn, {r.requester_id for r in rows}
                      | {r.assignee_id for r in rows if r.assignee_id is not None}
                      | {r.approver_id for r in rows if r.approver_id is not None})
    return [Ticket(
        id=r.id, number=r.number, former_numbers=former[r.id], kind=r.kind, title=r.title,
        description=r.description, status=r.status, impact=r.impact, urgency=r.urgency,
        priority=r.priority,
        category_id=r.category_id, requester=refs[r.requester_id],
        assignee=refs.get(r.assignee_id) if r.assignee_id is not None else None,
        group_id=r.group_id, problem_id=r.problem_id, merged_into_id=r.merged_into_id,
        related_ids=related[r.id], catalog_item_id=r.catalog_item_id, form=r.form,
        approval=r.approval,
        approver=refs.get(r.approver_id) if r.approver_id is not None else None,
        source=r.source, tags=tags[r.id],
        device_ids=[d.id for d in devs[r.id]], devices=devs[r.id],
        resolution_code=r.resolution_code,
        resolution_note=r.resolution_note, created_at=r.created_at, updated_at=r.updated_at,
        resolved_at=r.resolved_at, closed_at=r.closed_at, sla=sla.get(r.id),
        reported=None if r.reported_login is None else ReportedBy(
            login=r.reported_login, device=None if r.reported_device_id not in hosts else
            DeviceRef(id=r.reported_device_id, hostname=hosts[r.reported_device_id])),
    ) for r in rows]


def get_row(conn: Connection, ticket_id: int) -> Any:
    """Return a ticket row.

    Raises:
        NotFound: no such ticket.
    """
    row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).one_or_none()
    if row is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return row


def get_ticket(conn: Connection, ticket_id: int) -> Ticket:
    """Return one ticket.

    Raises:
        NotFound: no such ticket.
    """
    return _to_tickets(conn, [get_row(conn, ticket_id)])[0]


def fts_words(text: str) -> list[str]:
    """Return the words of user text that a search matches (at most 12, lower case)."""
    return re.findall(r"\w+", text.lower())[:12]


def fts_match(words: list[str], *, prefix: bool, syntax: _TextSearch = _FTS5) -> str:
    """Turn words into a safe query: every word must match (optionally prefix on the last).

    The words come from :func:`fts_words` (letters, digits, underscores), so quoting
    each one leaves no operator of either query language in them.
    """
    quoted = [syntax.quote.format(w) for w in words]
    if prefix:
        quoted[-1] += syntax.prefix  # the word being typed
    return syntax.join.join(quoted)


def fts_query(text: str) -> str | None:
    """Turn user text into a safe FTS5 query: every word must match (prefix on the last)."""
    words = fts_words(text)
    return fts_match(words, prefix=True) if words else None


def _more_matches_than(conn: Connection, match: str, count: int) -> bool:
    """Tell whether ``match`` finds more than ``count`` documents (reads rowids only)."""
    return conn.execute(sa.text(
        f"SELECT rowid FROM tickets_fts WHERE {_text_search(conn).match} "  # noqa: S608
        "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"), {"match": match, "skip": count},
    ).first() is not None


def search_plan(conn: Connection, words: list[str], *, page: int,
                public_only: bool) -> tuple[str, str]:
    """Choose the FTS5 query and its ordering for a search; return (sql, match).

    The last word is a prefix only when the exact words find fewer than a page of
    documents (a word still being typed): a prefix merges the postings of every word it
    covers. Matches are ranked by bm25 unless a word (or the prefix) is common: bm25 would
    read all its postings, so matches come newest first instead.
    """
    ts = _text_search(conn)
    match = fts_match(words, prefix=False, syntax=ts)
    prefix = not _more_matches_than(conn, match, page - 1)
    if prefix:
        match = fts_match(words, prefix=True, syntax=ts)
    # One word at a time, as bm25 counts them; a prefix counts every word it covers.
    singles = {fts_match([w], prefix=False, syntax=ts) for w in words[:-1]}
    singles.add(fts_match(words[-1:], prefix=prefix, syntax=ts))
    common = any(_more_matches_than(conn, single, COMMON_WORD_DOCS) for single in singles)
    sql = _recent_sql if common else _ranked_sql
    return sql(ts, public_only=public_only), match


# A requester's own documents are few: match them by rowid (= event id) instead of
# bounding the whole desk's matches, so none of theirs is missed. No bm25 here: its IDF
# count would read every posting of each word again for each document looked up.
def _own_sql(ts: _TextSearch) -> str:
    return ("SELECT ticket_id, min(rank) AS rank FROM ("  # noqa: S608 - constants only
            "SELECT ticket_id, -rowid AS rank FROM tickets_fts "
            f"WHERE {ts.match} AND public = 1 AND rowid IN :own) AS hits "
            "GROUP BY ticket_id")


def own_documents(conn: Connection, requester_id: int) -> list[int]:
    """Return the rowids of a requester's public documents, newest MAX_HITS first."""
    return [r.id for r in conn.execute(
        sa.select(ticket_events.c.id)
        .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
        .where(tickets.c.requester_id == requester_id, ticket_events.c.public.is_(True))
        .order_by(ticket_events.c.id.desc()).limit(MAX_HITS))]


def own_search(conn: Connection, words: list[str], *, requester_id: int) -> Any | None:
    """Return the hits subquery of a requester's search in their own tickets, newest first.

    None when the whole words find nothing there (a word being typed): prefix lookups by
    rowid would merge the prefix's postings once per document, so that case takes the
    bounded search of public text instead.
    """
    own = own_documents(conn, requester_id)
    ts = _text_search(conn)
    match = fts_match(words, prefix=False, syntax=ts)
    found = own and conn.execute(sa.text(
        f"SELECT rowid FROM tickets_fts WHERE {ts.match} AND public = 1 "  # noqa: S608
        "AND rowid IN :own LIMIT 1").bindparams(sa.bindparam("own", own, expanding=True)),
        {"match": match}).first() is not None
    if not found:
        return None
    return sa.text(_own_sql(ts)).bindparams(
        sa.bindparam("match", match), sa.bindparam("own", own, expanding=True)).columns(
        ticket_id=sa.Integer, rank=sa.Float).subquery()


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
    by_id = {r.id: r for r in conn.execute(
        sa.select(tickets).where(tickets.c.id.in_([r.id for r in rows])))}
    return _to_tickets(conn, [by_id[r.id] for r in rows]), last_key


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


_TRACKED = ("title", "description", "status", "impact", "urgency", "priority", "category_id",
            "assignee_id", "group_id", "problem_id", "resolution_code", "resolution_note")


def update_ticket(conn: Connection, ticket_id: int, changes: dict[str, Any], *,
                  actor_id: int | None, now: dt.datetime,
                  matrix: tuple[tuple[int, int, int], ...]) -> dict[str, Any]:
    """Apply changes with the lifecycle's rules; record one event; return what changed.

    Raises:
        NotFound: no such ticket.
        ValidationFailed: a forbidden transition, a missing resolution, a bad reference.
    """
    row = get_row(conn, ticket_id)
    values = {k: v for k, v in changes.items() if k not in ("device_ids", "tags", "kind")}
    check_refs(conn, user_ids={"assignee_id": values.get("assignee_id")},
               group_id=values.get("group_id"), category_id=values.get("category_id"),
               device_ids=changes.get("device_ids"), problem_id=values.get("problem_id"))
    if values.get("problem_id") == ticket_id:
        raise ValidationFailed("problem_id: a ticket cannot be its own problem")
    new_kind = changes.get("kind", row.kind)
    if new_kind != row.kind:
        kind_change.check(conn, row, new_kind,
                          problem_id=values.get("problem_id", row.problem_id))
    if ("group_id" in values and values["group_id"] is not None
            and values["group_id"] != row.group_id
            and values.get("assignee_id", row.assignee_id) is None):
        chosen = auto_assignee(conn, values["group_id"])
        if chosen is not None:
            values["assignee_id"] = chosen
    if "assignee_id" in values and "status" not in values:
        implied = lifecycle.status_after_assignment(row.status, values["assignee_id"])
        if implied != row.status:
            values["status"] = implied
    new_status = values.get("status", row.status)
    if new_status != row.status:
        try:
            lifecycle.check_transition(row.status, new_status)
        except lifecycle.TransitionError as exc:
            raise ValidationFailed(str(exc), code="invalid_transition") from exc
        if new_status == "resolved":
            if not (values.get("resolution_code") and values.get("resolution_note")):
                raise ValidationFailed("resolving needs resolution_code and resolution_note")
            values["resolved_at"] = now
        if new_status == "closed":
            values["closed_at"] = now
        if row.status == "resolved" and new_status != "closed":
            values.update(resolved_at=None, resolution_code=None, resolution_note=None)
    elif row.status in lifecycle.FINAL_STATUSES and values:
        raise ValidationFailed(f"a {row.status} ticket cannot be changed",
                               code="invalid_transition")
    if "impact" in values or "urgency" in values:
        values["priority"] = priority_for(values.get("impact", row.impact),
                                          values.get("urgency", row.urgency), matrix)
    diff = {k: {"before": getattr(row, k), "after": values[k]}
            for k in _TRACKED if k in values and values[k] != getattr(row, k)}
    if "device_ids" in changes:
        before = sorted(r.device_id for r in conn.execute(
            sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == ticket_id)))
        after = sorted(set(changes["device_ids"]))
        if before != after:
            diff["device_ids"] = {"before": before, "after": after}
            _set_devices(conn, ticket_id, after)
    if "tags" in changes:
        before_tags = sorted(r.tag for r in conn.execute(
            sa.select(ticket_tags.c.tag).where(ticket_tags.c.ticket_id == ticket_id)))
        after_tags = fold_tags(changes["tags"])
        if before_tags != after_tags:
            diff["tags"] = {"before": before_tags, "after": after_tags}
            _set_tags(conn, ticket_id, after_tags)
    kind_diff: dict[str, Any] = {}
    if new_kind != row.kind:
        # Its own public event: the requester's ticket number changes.
        kind_diff = kind_change.renumber(conn, row, new_kind,
                                         number=next_number(conn, new_kind), now=now)
        add_event(conn, ticket_id, actor_id=actor_id, type=kind_change.EVENT_TYPE, public=True,
                  now=now, body=kind_change.note(kind_diff), changes=kind_diff)
        if not diff:
            sla_tracking.on_conditions_changed(conn, ticket_id, now, actor_id, kind_changed=True)
            return kind_diff
    if not diff:
        return {}
    conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                 .values(**{k: v for k, v in values.items()
                            if k in diff or k in ("resolved_at", "closed_at")},
                         updated_at=now))
    if "title" in diff or "description" in diff:
        _index_ticket(conn, ticket_id, values.get("title", row.title),
                      values.get("description", row.description))
    # A status change is news for the requester; a change of fields alone is the desk's.
    type_ = "status_changed" if "status" in diff else "updated"
    note = values.get("resolution_note") if diff.get("status", {}).get("after") == "resolved" \
        else None
    add_event(conn, ticket_id, actor_id=actor_id, type=type_, public=type_ == "status_changed",
              now=now, body=note, changes=diff)
    kind_changed = new_kind != row.kind
    if "priority" in diff or "category_id" in diff or kind_changed:
        sla_tracking.on_conditions_changed(conn, ticket_id, now, actor_id,
                                           kind_changed=kind_changed)
    if "status" in diff:
        sla_tracking.on_status(conn, ticket_id, row.status, diff["status"]["after"], now)
    if kind_changed:
        diff.update(kind_diff)
    return diff


def add_comment(conn: Connection, ticket_id: int, *, actor_id: int, body: str, public: bool,
                now: dt.datetime) -> int:
    """Add a reply or internal note; return the event id.

    Raises:
        ValidationFailed: the ticket is closed or cancelled.
    """
    row = get_row(conn, ticket_id)
    if row.status in lifecycle.FINAL_STATUSES:
        raise ValidationFailed(f"a {row.status} ticket takes no more comments",
                               code="invalid_transition")
    event_id = add_event(conn, ticket_id, actor_id=actor_id,
                         type="comment" if public else "internal_note", public=public,
                         now=now, body=body)
    conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(updated_at=now))
    if public:
        sla_tracking.on_public_reply(conn, ticket_id, actor_id, now)
    return event_id


def events_of(conn: Connection, ticket_id: int, *, public_only: bool) -> list[TicketEvent]:
    """Return a ticket's timeline, oldest first (for requesters: only what is meant for them)."""
    query = (sa.select(ticket_events).where(ticket_events.c.ticket_id == ticket_id)
             .order_by(ticket_events.c.id))
    if public_only:
        query = query.where(ticket_events.c.public.is_(True),
                            ticket_events.c.type.in_(sorted(REQUESTER_EVENTS)))
    rows = conn.execute(query).all()
    refs = _user_refs(conn, {r.actor_id for r in rows if r.actor_id is not None})
    events = [TicketEvent(id=r.id, at=r.at, actor=refs.get(r.actor_id) if r.actor_id else None,
                          type=r.type, public=r.public, body=r.body, changes=r.changes)
              for r in rows]
    if public_only:
        return [e for e in map(for_requester, events) if e is not None]
    return events


def list_categories(conn: Connection) -> list[Any]:
    """Return all categories ordered by name."""
    return list(conn.execute(sa.select(categories).order_by(categories.c.name)).all())


def create_category(conn: Connection, name: str, parent_id: int | None) -> int:
    """Insert a category.

    Raises:
        ValidationFailed: the parent does not exist.
        Conflict: the name is taken under it (compared case-folded).
    """
    if parent_id is not None and conn.execute(
            sa.select(categories.c.id).where(categories.c.id == parent_id)).first() is None:
        raise ValidationFailed(f"parent_id: no category with id {parent_id}")
    taken = conn.execute(sa.select(categories.c.id).where(
        categories.c.name_key == fold(name), categories.c.parent_id.is_(None)
        if parent_id is None else categories.c.parent_id == parent_id)).first()
    if taken is not None:
        raise Conflict(f"a category {name!r} exists there already")
    return int(conn.execute(categories.insert().values(name=name, parent_id=parent_id))
               .inserted_primary_key[0])  # type: ignore[index]


def link(conn: Connection, a: int, b: int, *, actor_id: int | None, now: dt.datetime) -> bool:
    """Relate two tickets both ways; return False if they already were.

    Raises:
        NotFound: either ticket does not exist.
        ValidationFailed: a ticket cannot relate to itself.
    """
    if a == b:
        raise ValidationFailed("a ticket cannot be related to itself")
    row_a, row_b = get_row(conn, a), get_row(conn, b)
    exists = conn.execute(sa.select(ticket_links.c.ticket_id).where(
        ticket_links.c.ticket_id == a, ticket_links.c.related_id == b)).first()
    if exists is not None:
        return False
    conn.execute(ticket_links.insert(), [{"ticket_id": a, "related_id": b},
                                         {"ticket_id": b, "related_id": a}])
    add_event(conn, a, actor_id=actor_id, type="linked", public=False, now=now,
              changes={"related": {"before": None, "after": row_b.number}})
    add_event(conn, b, actor_id=actor_id, type="linked", public=False, now=now,
              changes={"related": {"before": None, "after": row_a.number}})
    return True


def unlink(conn: Connection, a: int, b: int, *, actor_id: int | None,
           now: dt.datetime) -> None:
    """Remove the relation between two tickets.

    Raises:
        NotFound: they were not related.
    """
    removed = conn.execute(ticket_links.delete().where(sa.or_(
        sa.and_(ticket_links.c.ticket_id == a, ticket_links.c.related_id == b),
        sa.and_(ticket_links.c.ticket_id == b, ticket_links.c.related_id == a)))).rowcount
    if not removed:
        raise NotFound(f"tickets {a} and {b} are not related")
    add_event(conn, a, actor_id=actor_id, type="unlinked", public=False, now=now,
              changes={"related": {"before": get_row(conn, b).number, "after": None}})


def merge(conn: Connection, source_id: int, target_id: int, *, actor_id: int | None,
          now: dt.datetime) -> None:
    """Merge ``source`` into ``target``: the source closes as a reference to the target.

    Raises:
        ValidationFailed: same ticket, a closed or cancelled one, or different kinds.
    """
    source, target = get_row(conn, source_id), get_row(conn, target_id)
    if source_id == target_id:
        raise ValidationFailed("a ticket cannot be merged into itself")
    for row in (source, target):
        if row.status in lifecycle.FINAL_STATUSES:
            raise ValidationFailed(f"{row.number} is {row.status} and cannot be merged",
                                   code="invalid_transition")
    if source.kind != target.kind:
        raise ValidationFailed(f"cannot merge a {source.kind} into a {target.kind}")
    note = f"Merged into {target.number}."
    conn.execute(tickets.update().where(tickets.c.id == source_id).values(
        status="closed", merged_into_id=target_id, resolution_code="merged",
        resolution_note=note, resolved_at=now, closed_at=now, updated_at=now))
    add_event(conn, source_id, actor_id=actor_id, type="merged", public=True, now=now,
              body=note, changes={"status": {"before": source.status, "after": "closed"},
                                  "merged_into": {"before": None, "after": target.number}})
    sla_tracking.on_status(conn, source_id, source.status, "closed", now)
    devices_of_source = [r.device_id for r in conn.execute(
        sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == source_id))]
    have = {r.device_id for r in conn.execute(
        sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == target_id))}
    extra = [d for d in devices_of_source if d not in have]
    if extra:
        conn.execute(ticket_devices.insert(),
                     [{"ticket_id": target_id, "device_id": d} for d in extra])
    add_event(conn, target_id, actor_id=actor_id, type="merged_from", public=True, now=now,
              body=f"{source.number} ({source.title}) was merged into this ticket.",
              changes={"merged_from": {"before": None, "after": source.number}})
    conn.execute(tickets.update().where(tickets.c.id == target_id).values(updated_at=now))
    link(conn, source_id, target_id, actor_id=actor_id, now=now)


AUTO_CLOSE_CHUNK = 500  # tickets closed per write transaction


def auto_close(conn: Connection, *, now: dt.datetime, after: dt.timedelta,
               limit: int = AUTO_CLOSE_CHUNK) -> list[Any]:
    """Close up to ``limit`` tickets resolved longer than ``after`` ago.

    Returns their (id, number, requester_id) rows; fewer than ``limit`` means none is
    left. Callers loop in separate transactions so that a backlog (the first pass after
    an upgrade or a long stop: tens of thousands) never holds the writer for long.
    """
    due = conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.requester_id)
                       .where(tickets.c.status == "resolved",
                              tickets.c.resolved_at <= now - after)
                       .order_by(tickets.c.id).limit(limit)).all()
    for ticket_id in (r.id for r in due):
        conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(
            status="closed", closed_at=now, updated_at=now))
        add_event(conn, ticket_id, actor_id=None, type="status_changed", public=True,
                  now=now, body=f"Closed automatically {after.days} days after resolution.",
                  changes={"status": {"before": "resolved", "after": "closed"}})
    return list(due)
