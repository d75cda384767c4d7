"""Measure knowledge-base search over many articles against plain SQLite FTS5; print figures.

Usage: ``python bench/kb.py [--articles 100000] [--queries 200] [--edits 50] [--no-http]``

Builds (once, then reuses from ``--cache``) a data directory holding a Deskmate database
with N generated IT-help articles (bench/kb_corpus.py: Zipf-distributed words, ~3 KB
each) and their search index, plus a separate SQLite file with the same text in a plain
FTS5 table — the baseline, ranked by bm25 with the same column weights. Then, in one
run, for rare, common, prefix, phrase and two-word queries it times:

- the real search code path (``server.kb.store.search_articles``: index query, rows,
  tags, snippets) as a technician and as a requester;
- the baseline: FTS5 ``ORDER BY bm25(...) LIMIT 20`` with snippets;
- the HTTP API (``GET /api/v1/kb/search`` on ``deskmate-server run``, one client);

and the cost per edit: ``store.update_article`` plus the index sync, against replacing
the row in the FTS5 table. It is a benchmark, not a test: it prints, it never fails.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import random
import secrets
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb_corpus import IT_WORDS, Corpus, asset_tag  # noqa: E402

from server.app import open_database  # noqa: E402
from server.bootstrap import ensure_admin  # noqa: E402
from server.db.database import Database  # noqa: E402
from server.db.schema import utcnow  # noqa: E402
from server.kb import search, store  # noqa: E402
from server.kb.search_index import SCHEMA_VERSION, Doc, SearchIndex  # noqa: E402
from server.kb.tables import kb_article_tags, kb_articles, kb_categories  # noqa: E402
from server.settings import Settings, load  # noqa: E402

BATCH = 2000
CORPUS_VERSION = "2"  # bump when kb_corpus.py changes what it generates
WEIGHTS = "10.0, 4.0, 1.0"  # the same title/summary/body weights as the index


def percentile(values: list[float], pct: int) -> float:
    """Return the ``pct``-th percentile (inclusive method)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- building the data ---------------------------------------------------------------


def settings_for(data: Path, password: str) -> Settings:
    """Return server settings for the bench's data directory."""
    return load(environ={}, overrides={"data": str(data), "admin_password": password})


def build(data: Path, articles: int, password: str) -> None:
    """Create the database, the index and the baseline FTS5 file for ``articles``."""
    data.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data, password)
    db = open_database(settings)
    ensure_admin(db, settings)
    db.write_sync(lambda c: c.execute(kb_categories.insert(), [
        {"id": i, "parent_id": None, "name": f"Category {i}"} for i in range(1, 41)]))
    index = SearchIndex(data / "kb-index")
    base = sqlite3.connect(data.parent / "baseline-fts5.db")
    base.execute("PRAGMA journal_mode=WAL")
    base.execute("CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, "
                 "tokenize = 'porter unicode61')")
    corpus = Corpus()
    now = utcnow()
    started = time.perf_counter()
    batch: list[tuple[int, Any]] = []

    def flush() -> None:
        rows = [{"id": i, "title": a.title[:200], "summary": a.summary[:1000],
                 "body": a.body,
                 # Rendering 100k bodies would take minutes and search never reads it.
                 "body_html": f"<p>{html.escape(a.text[:200])}</p>",
                 "category_id": a.category, "visibility": "internal" if i % 4 == 0
                 else "public", "status": "draft" if i % 10 == 0 else "published",
                 "owner_id": None, "review_date": None, "version": 1, "views": 0,
                 "created_at": now, "updated_at": now} for i, a in batch]
        tags = [{"article_id": i, "tag": t} for i, a in batch for t in a.tags]

        def run(conn: Any) -> None:
            conn.execute(kb_articles.insert(), rows)
            if tags:
                conn.execute(kb_article_tags.insert(), tags)
        db.write_sync(run)
        index.apply([Doc(article_id=r["id"], title=r["title"], summary=r["summary"],
                         text=a.text, visibility=r["visibility"], status=r["status"],
                         category_id=r["category_id"], tags=a.tags)
                     for r, (_, a) in zip(rows, batch, strict=True)], [])
        base.executemany("INSERT INTO fts (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                         [(i, a.title, a.summary, a.text) for i, a in batch])
        base.commit()
        batch.clear()

    for i, article in enumerate(corpus.articles(articles), 1):
        batch.append((i, article))
        if len(batch) == BATCH:
            flush()
            print(f"\r  built {i:,} articles ({time.perf_counter() - started:.0f} s)",
                  end="", flush=True)
    if batch:
        flush()
    print()
    index.close()
    db.close()
    base.close()


def prepare(cache: Path, articles: int) -> tuple[Path, str]:
    """Return the data directory for ``articles`` (built if not cached) and the password."""
    root = cache / f"kb-{articles}-v{CORPUS_VERSION}-index{SCHEMA_VERSION}"
    data = root / "data"
    marker = root / "complete.json"
    if marker.exists():
        return data, json.loads(marker.read_text())["password"]
    if root.exists():
        import shutil
        shutil.rmtree(root)
    password = secrets.token_urlsafe(18)
    print(f"building {articles:,} articles in {root} (once; reused by later runs)")
    build(data, articles, password)
    marker.write_text(json.dumps({"password": password}))
    return data, password


# --- the queries ---------------------------------------------------------------------


def queries(count: int, articles: int, seed: int = 7) -> dict[str, list[str]]:
    """Return user query texts per kind."""
    rng = random.Random(seed)
    corpus = Corpus()
    common = list(dict.fromkeys(IT_WORDS))[:40]  # each in ~15-60 % of the articles
    phrases = []
    while len(phrases) < count:
        words = corpus.article(2000).text.split()
        at = rng.randrange(len(words) - 3)
        phrase = " ".join(w.strip(".,`").lower() for w in words[at:at + rng.choice((2, 3))])
        phrases.append(f'"{phrase}"')
    return {
        "rare": [asset_tag(rng.randint(1, articles)) + " " for _ in range(count)],
        "common": [rng.choice(common) + " " for _ in range(count)],
        "prefix": [rng.choice(common)[:rng.choice((3, 4))] for _ in range(count)],
        "phrase": phrases,
        "two words": [f"{rng.choice(common)} {rng.choice(common)} " for _ in range(count)],
    }


def fts5_match(kind: str, text: str) -> str:
    """Return the baseline's FTS5 query for a user query of ``kind``."""
    if kind == "phrase":
        return text
    words = [f'"{w}"' for w in text.split()]
    if kind == "prefix":
        words[-1] += "*"
    return " ".join(words)


def timed(fn: Callable[[], Any]) -> float:
    """Return how long ``fn()`` took, in ms."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def row(label: str, kind: str, times: list[float], hits: float) -> str:
    """Return one report line."""
    return (f"| {label} | {kind} | {len(times)} | {percentile(times, 50):.2f} | "
            f"{percentile(times, 99):.2f} | {max(times):.2f} | {hits:.1f} |")


def bench_search(db: Database, index: SearchIndex, base: sqlite3.Connection,
                 qs: dict[str, list[str]]) -> list[str]:
    """Time the real search path and the FTS5 baseline per query kind."""
    staff = store.Viewer(user_id=1, is_staff=True)
    requester = store.Viewer(user_id=2, is_staff=False)
    lines = []
    for kind, texts in qs.items():
        for label, who in (("deskmate (technician)", staff), ("deskmate (requester)",
                                                               requester)):
            times, counts = [], []
            for text in texts:
                start = time.perf_counter()
                found, _ = db.read_sync(lambda c, t=text, w=who: store.search_articles(  # type: ignore[misc]
                    c, index, t, w, public_only=False, category_id=None, tag=None,
                    status=None, offset=0, limit=20))
                times.append((time.perf_counter() - start) * 1000)
                counts.append(len(found))
            lines.append(row(label, kind, times, statistics.mean(counts)))
        times, counts = [], []
        sql = (f"SELECT rowid, snippet(fts, -1, '[', ']', '…', 16) FROM fts "  # noqa: S608
               f"WHERE fts MATCH ? ORDER BY bm25(fts, {WEIGHTS}) LIMIT 20")
        for text in texts:
            match = fts5_match(kind, text)
            start = time.perf_counter()
            found = base.execute(sql, (match,)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
            counts.append(len(found))
        lines.append(row("baseline: FTS5 bm25", kind, times, statistics.mean(counts)))
    return lines


def bench_edits(db: Database, index: SearchIndex, base: sqlite3.Connection, edits: int,
                articles: int) -> list[str]:
    """Time an edit with its index update against replacing the FTS5 row."""
    rng = random.Random(11)
    corpus = Corpus(seed=99)
    run = time.time_ns()  # the cached data keeps earlier runs' edits: make each one new
    ours, theirs = [], []
    for n in range(edits):
        aid = rng.randint(1, articles)
        art = corpus.article()
        body = f"{art.body}\n\nChecked again (run {run}, edit {n})."

        def edit(conn: Any, aid: int = aid, art: Any = art, body: str = body) -> None:
            if not store.update_article(conn, aid, {"title": art.title[:200], "body": body},
                                        editor_id=1, now=utcnow()):
                raise SystemExit(f"edit of article {aid} changed nothing")

        def ours_once(edit: Any = edit, aid: int = aid) -> None:
            db.write_sync(edit)
            search.sync_blocking(db, index, only=[aid])

        ours.append(timed(ours_once))

        def theirs_once(aid: int = aid, art: Any = art) -> None:
            base.execute("DELETE FROM fts WHERE rowid = ?", (aid,))
            base.execute("INSERT INTO fts (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                         (aid, art.title, art.summary, art.text))
            base.commit()

        theirs.append(timed(theirs_once))
    return [
        f"| deskmate: update_article + index sync | {edits} | {percentile(ours, 50):.2f} | "
        f"{percentile(ours, 99):.2f} | {max(ours):.2f} |",
        f"| baseline: FTS5 row replaced | {edits} | {percentile(theirs, 50):.2f} | "
        f"{percentile(theirs, 99):.2f} | {max(theirs):.2f} |"]


async def bench_http(data: Path, password: str, qs: dict[str, list[str]]) -> list[str]:
    """Time GET /api/v1/kb/search on the real server, one request at a time."""
    from api import (
        HOST,
        clean_env,
        free_port,
        login_and_token,
        subprocess_running,
        trusting,
        wait_ready,
    )
    port = free_port()
    # This checkout's server (python -m), whichever one the venv has installed.
    extra = {"DESKMATE_DATA": str(data), "DESKMATE_PORT": str(port),
             "DESKMATE_HOST": HOST, "DESKMATE_ADMIN_PASSWORD": password,
             "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "server.cli", "run"]
    log_path = data.parent / "deskmate.log"
    base = f"https://{HOST}:{port}"
    make_ctx = trusting(data / "tls" / "ca.pem")
    lines = []
    with subprocess_running(command, env=clean_env(extra), log_path=log_path) as proc:
        await wait_ready(f"{base}/healthz", proc, ssl_ctx=make_ctx, log_path=log_path)
        ssl_ctx = make_ctx()
        assert ssl_ctx is not None
        token = await login_and_token(base, ssl_ctx, password)
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for kind, texts in qs.items():
                times = []
                for text in texts:
                    start = time.perf_counter()
                    async with session.get(f"{base}/api/v1/kb/search",
                                           params={"q": text, "limit": "20"},
                                           ssl=ssl_ctx) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise SystemExit(f"search {text!r}: {resp.status}")
                    times.append((time.perf_counter() - start) * 1000)
                lines.append(f"| HTTP GET /api/v1/kb/search (admin token) | {kind} | "
                             f"{len(times)} | {percentile(times, 50):.2f} | "
                             f"{percentile(times, 99):.2f} | {max(times):.2f} | |")
    return lines


def main() -> None:
    """Parse arguments, build or reuse the data, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--cache", type=Path, default=Path("var/bench-kb"))
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    data, password = prepare(args.cache.resolve(), args.articles)
    settings = settings_for(data, password)
    db = open_database(settings)
    index = SearchIndex(data / "kb-index")
    base = sqlite3.connect(data.parent / "baseline-fts5.db")
    qs = queries(args.queries, args.articles)
    for kind, texts in qs.items():  # warm the page cache and the index files
        for text in texts[:10]:
            db.read_sync(lambda c, t=text: store.search_articles(  # type: ignore[misc]
                c, index, t, store.Viewer(1, True), public_only=False, category_id=None,
                tag=None, status=None, offset=0, limit=20))
            base.execute("SELECT count(*) FROM fts WHERE fts MATCH ?",
                          (fts5_match(kind, text),)).fetchall()
    print(f"\n{args.articles:,} articles; Python {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}\n")
    print("| path | query kind | queries | p50 ms | p99 ms | max ms | hits |")
    print("|---|---|---|---|---|---|---|")
    for line in bench_search(db, index, base, qs):
        print(line, flush=True)
    print("\n| edit | edits | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for line in bench_edits(db, index, base, args.edits, args.articles):
        print(line, flush=True)
    index.close()
    db.close()
    base.close()
    if not args.no_http:
        http = asyncio.run(bench_http(data, password, {k: v[:100] for k, v in qs.items()}))
        print("\n| path | query kind | queries | p50 ms | p99 ms | max ms | |")
        print("|---|---|---|---|---|---|---|")
        for line in http:
            print(line)


if __name__ == "__main__":
    main()
