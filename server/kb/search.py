"""The articles' full-text index (SQLite FTS5) and ranked search with snippets."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.kb.render import MARK_END, MARK_START, clean_text, to_text
from server.kb.tables import kb_articles
from server.tickets.store import fts_query

# bm25 column weights (title, summary, body): a title match outranks a body match.
TITLE_WEIGHT = 10.0
SUMMARY_WEIGHT = 4.0
BODY_WEIGHT = 1.0
MAX_HITS = 2000  # best-ranked text matches considered by one search
SNIPPET_TOKENS = 16
# bm25() is only allowed in a plain full-text query: rank in a subquery that SQLite
# cannot flatten into the join (it has a LIMIT). Only constants are formatted in.
_RANKED = ("SELECT article_id, rank FROM ("  # noqa: S608 - constants only
           "SELECT article_id, "
           f"bm25(kb_articles_fts, {TITLE_WEIGHT}, {SUMMARY_WEIGHT}, {BODY_WEIGHT}) AS rank "
           f"FROM kb_articles_fts WHERE kb_articles_fts MATCH :match ORDER BY rank "
           f"LIMIT {MAX_HITS})")
_SNIPPETS = ("SELECT article_id, snippet(kb_articles_fts, -1, :start, :end, '…', "  # noqa: S608
             f"{SNIPPET_TOKENS}) AS snip FROM kb_articles_fts "
             "WHERE kb_articles_fts MATCH :match AND article_id IN ({ids})")


def has_fts(conn: Connection) -> bool:
    """Tell whether the database has the FTS5 index (SQLite)."""
    return conn.dialect.name == "sqlite"


def index_article(conn: Connection, article_id: int, *, title: str, summary: str,
                  body: str) -> None:
    """Replace an article's entry in the index with its current text."""
    if not has_fts(conn):
        return
    conn.execute(sa.text("DELETE FROM kb_articles_fts WHERE article_id = :aid"),
                 {"aid": article_id})
    conn.execute(sa.text("INSERT INTO kb_articles_fts (title, summary, body, article_id) "
                         "VALUES (:title, :summary, :body, :aid)"),
                 {"title": clean_text(title), "summary": clean_text(summary),
                  "body": to_text(body), "aid": article_id})


def ranked(conn: Connection, text: str) -> Any | None:
    """Return a subquery of (article_id, rank) for ``text``, or None if it has no words."""
    match = fts_query(text)
    if match is None:
        return None
    if has_fts(conn):
        return sa.text(_RANKED).bindparams(match=match).columns(
            article_id=sa.Integer, rank=sa.Float).subquery()
    # PostgreSQL until it gets its own index: substring match, all ranked equal.
    pattern = f"%{text.lower()}%"
    return sa.select(kb_articles.c.id.label("article_id"),
                     sa.literal(0.0, sa.Float).label("rank")).where(sa.or_(
                         sa.func.lower(kb_articles.c.title).like(pattern),
                         sa.func.lower(kb_articles.c.body).like(pattern))).subquery()


def snippets(conn: Connection, text: str, article_ids: list[int],
             fallback: dict[int, str]) -> dict[int, str]:
    """Return a highlighted snippet per article (the fallback text where none is made)."""
    out = dict(fallback)
    match = fts_query(text)
    if not article_ids or match is None or not has_fts(conn):
        return out
    ids = ", ".join(str(int(i)) for i in article_ids)  # integers only
    rows = conn.execute(sa.text(_SNIPPETS.format(ids=ids)),
                        {"match": match, "start": MARK_START, "end": MARK_END})
    for article_id, snip in rows:
        out[int(article_id)] = snip
    return out
