"""Keeping the search index in step with the database, and opening it with the app.

Each article write queues the article's id in ``kb_search_queue`` inside the same
transaction; :func:`sync` then reads the queue, writes those articles to the index and
deletes the queue rows it handled. A crash between the database commit and the index
commit leaves the rows queued, and the next start replays them, so the index never
misses an acknowledged edit. Handlers that change articles await :func:`sync` before
answering, so a search right after an edit sees it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Connection

from server.db.database import Database
from server.kb.render import clean_text, to_text
from server.kb.search_index import Doc, SearchIndex
from server.kb.tables import kb_article_tags, kb_articles, kb_search_queue
from server.keys import DATABASE, SETTINGS

log = logging.getLogger("deskmate.kb.search")

BATCH = 500  # articles written to the index per commit when catching up
SEARCH_INDEX: web.AppKey[SearchIndex] = web.AppKey("kb_search_index")
SYNC_LOCK: web.AppKey[asyncio.Lock] = web.AppKey("kb_search_sync_lock")
SYNC_STOP: web.AppKey[threading.Event] = web.AppKey("kb_search_sync_stop")


def queue(conn: Connection, article_ids: list[int]) -> None:
    """Mark articles for (re)indexing, in the caller's transaction."""
    if article_ids:
        conn.execute(kb_search_queue.insert(), [{"article_id": a} for a in article_ids])


def queue_all(conn: Connection) -> int:
    """Queue every article (a rebuild); return how many."""
    conn.execute(kb_search_queue.insert().from_select(
        ["article_id"], sa.select(kb_articles.c.id)))
    return int(conn.execute(sa.select(sa.func.count()).select_from(kb_articles)).scalar_one())


def docs_for(conn: Connection, article_ids: list[int]) -> list[Doc]:
    """Return the index documents of the given articles (missing ones left out)."""
    rows = list(conn.execute(sa.select(kb_articles).where(kb_articles.c.id.in_(article_ids))))
    tags: dict[int, list[str]] = {r.id: [] for r in rows}
    for aid, tag in conn.execute(sa.select(kb_article_tags.c.article_id, kb_article_tags.c.tag)
                                 .where(kb_article_tags.c.article_id.in_(article_ids))):
        tags[aid].append(tag)
    return [Doc(article_id=r.id, title=clean_text(r.title), summary=clean_text(r.summary),
                text=to_text(r.body), visibility=r.visibility, status=r.status,
                category_id=r.category_id, tags=tuple(tags[r.id])) for r in rows]


def _pending(conn: Connection, only: list[int] | None) -> tuple[int, list[int]]:
    """Return the highest queue id read and the distinct articles up to it."""
    query = sa.select(kb_search_queue.c.id, kb_search_queue.c.article_id)
    if only is not None:
        query = query.where(kb_search_queue.c.article_id.in_(only))
    rows = list(conn.execute(query.order_by(kb_search_queue.c.id).limit(BATCH * 4)))
    if not rows:
        return 0, []
    ids = list(dict.fromkeys(r.article_id for r in rows))[:BATCH]
    upto = max(r.id for r in rows if r.article_id in set(ids))
    return upto, ids


def _done(conn: Connection, upto: int, article_ids: list[int]) -> None:
    conn.execute(kb_search_queue.delete().where(kb_search_queue.c.id <= upto,
                                                kb_search_queue.c.article_id.in_(article_ids)))


def sync_blocking(db: Database, index: SearchIndex, *, only: list[int] | None = None,
                  batches: int | None = None) -> int:
    """Index what is queued (``only`` these articles, if given; at most ``batches``
    batches); return how many articles were written. Call from a thread."""
    total = 0
    for _ in itertools.count() if batches is None else range(batches):
        upto, ids = db.read_sync(lambda c: _pending(c, only))
        if not ids:
            return total
        docs = db.read_sync(lambda c, ids=ids: docs_for(c, ids))  # type: ignore[misc]
        found = {d.article_id for d in docs}
        index.apply(docs, [a for a in ids if a not in found])
        db.write_sync(lambda c, upto=upto, ids=ids: _done(c, upto, ids))  # type: ignore[misc]
        total += len(ids)
    return total


async def sync(app: web.Application, article_ids: list[int]) -> None:
    """Index the given articles' queued changes now (after the edit's commit).

    A failure is logged, not raised: the edit is saved and stays queued, and the next
    sync or start indexes it.
    """
    try:
        await _sync_batches(app, only=article_ids)
    except Exception:
        log.exception("search index update failed for articles %s; they stay queued",
                      article_ids)


async def _catch_up(app: web.Application) -> None:
    try:
        count = await _sync_batches(app, only=None)
    except Exception:
        log.exception("search index catch-up failed; queued articles stay queued")
    else:
        if count:
            log.info("search index: %d queued articles indexed", count)


async def _sync_batches(app: web.Application, *, only: list[int] | None) -> int:
    """Sync batch by batch, letting other syncs (an edit's) in between batches."""
    total = 0
    while not app[SYNC_STOP].is_set():
        async with app[SYNC_LOCK]:
            done = await asyncio.to_thread(sync_blocking, app[DATABASE], app[SEARCH_INDEX],
                                           only=only, batches=1)
        total += done
        if not done:
            return total
    return total


async def search_index_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the index in the data directory; rebuild it when new; replay the queue."""
    path = app[SETTINGS].data_dir / "kb-index"
    index = await asyncio.to_thread(SearchIndex, path)
    app[SEARCH_INDEX] = index
    app[SYNC_LOCK] = asyncio.Lock()
    app[SYNC_STOP] = threading.Event()
    if index.created:
        count = await app[DATABASE].write(queue_all)
        if count:
            log.info("search index is new: indexing %d articles", count)
    # Catch up in the background: a large rebuild must not hold up the start, and edits
    # made meanwhile are indexed between its batches.
    task = asyncio.create_task(_catch_up(app), name="kb-search-sync")
    yield
    app[SYNC_STOP].set()  # stop after the batch in hand; the rest stays queued
    await task
    await asyncio.to_thread(index.close)
