"""Ticket full-text search: the index's documents and the queries over them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_events, tickets

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


def index_event(conn: Connection, event_id: int, ticket_id: int, body: str, *,
                public: bool) -> None:
    """Index a timeline event's text as a document of ``tickets_fts``."""
    # A document's rowid is its event's id: found again without a scan, and newer
    # documents have larger rowids (search bounds its candidates by them).
    conn.execute(sa.text("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, "
                         "public) VALUES (:eid, '', :body, :tid, :eid, :public)"),
                 {"body": body, "tid": ticket_id, "eid": event_id, "public": int(public)})


def index_ticket(conn: Connection, ticket_id: int, title: str, description: str, *,
                 doc_id: int | None = None) -> None:
    """(Re)index a ticket's title and description as the document of its "created" event."""
    if doc_id is None:
        doc_id = conn.execute(sa.select(sa.func.min(ticket_events.c.id))
                              .where(ticket_events.c.ticket_id == ticket_id)).scalar_one()
    conn.execute(sa.text("DELETE FROM tickets_fts WHERE rowid = :doc"), {"doc": doc_id})
    conn.execute(sa.text("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, "
                         "public) VALUES (:doc, :title, :body, :tid, NULL, 1)"),
                 {"doc": doc_id, "title": title, "body": description, "tid": ticket_id})


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
