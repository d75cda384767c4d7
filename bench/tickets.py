"""Measure tickets at scale: list and search through the API at 1,000,000 tickets; print figures.

Usage: ``python bench/tickets.py [--tickets 1000000] [--requests 200] [--cache-dir DIR]``

1. Data: ``deskmate-server init`` makes a real data directory; ``bench/tickets_data.py``
   bulk-loads N realistic tickets (events, replies, the FTS index) with ``executemany``.
   The loaded directory is cached under ``--cache-dir`` (keyed by N and the migrations),
   so later runs start in seconds; rows a run adds are removed before the next.
2. Raw sqlite3, same run, same file: the list query, the naive full bm25 search the
   server used before, the server's bounded search SQL, and one-ticket write
   transactions (ticket + event + FTS document, WAL, synchronous=FULL).
3. The API: ``deskmate-server run`` on that directory, one client over TLS with a bearer
   token, requests one after another (latency, not throughput); then ticket creation
   with several concurrent clients (throughput).

A benchmark, not a test: it prints figures and never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api as api_bench
import tickets_data

from server.tickets import listing, search

PASSWORD = "bench-admin-password-1"  # noqa: S105 - a throwaway data directory under /tmp
OPEN = ("assigned", "in_progress", "new", "pending")
PAGE = 50
TARGET_LIST_P99_MS = 20.0
TARGET_SEARCH_P99_MS = 50.0
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """Latencies of one measured operation."""

    side: str  # "api" or "raw"
    label: str
    latencies_ms: list[float] = field(default_factory=list)
    rows: int = 0
    note: str = ""

    def pct(self, p: int) -> float:
        """Return the p-th percentile in ms."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


def server_command(verb: str) -> list[str]:
    """Return the argv of ``deskmate-server VERB`` from this checkout (not the installed one)."""
    return [sys.executable, "-c", "import sys; from server.cli import main; sys.exit(main())",
            verb]


def server_env(extra: dict[str, str]) -> dict[str, str]:
    """Return a clean environment that imports the server from this checkout."""
    return api_bench.clean_env({**extra, "PYTHONPATH": str(REPO)})


# --- data ---------------------------------------------------------------------------


def _schema_key() -> str:
    """Return a digest of the migrations: a cached database from other ones is stale."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "server" / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def prepare(cache: Path, n: int, *, fresh: bool) -> tuple[Path, tickets_data.Loaded, str]:
    """Return the data directory holding n loaded tickets, its load record and how it came."""
    root = cache / f"{n}-{_schema_key()}"
    data, marker = root / "data", root / "loaded.json"
    if marker.exists() and not fresh:
        loaded = tickets_data.Loaded.from_json(marker.read_text())
        tickets_data.trim(data / "deskmate.db", loaded)
        return data, loaded, f"cached in {root}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = server_env({"DESKMATE_DATA": str(data), "DESKMATE_ADMIN_PASSWORD": PASSWORD})
    subprocess.run(server_command("init"), env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print(f"loading {n:,} tickets into {data / 'deskmate.db'} ...", flush=True)
    loaded = tickets_data.load(data / "deskmate.db", n)
    marker.write_text(loaded.to_json())
    rate = n / loaded.seconds
    return data, loaded, f"loaded now in {loaded.seconds:.0f} s ({rate:,.0f} tickets/s)"


def pick_terms(db_path: Path) -> dict[str, str]:
    """Return the searches to run: rare and common words, a host name, a typed prefix."""
    db = sqlite3.connect(db_path)
    try:
        # A hex error code that occurs once, near the middle of the history.
        rare = db.execute("SELECT description FROM tickets WHERE id >= "
                          "(SELECT max(id) / 2 FROM tickets) AND description LIKE '%0x%' "
                          "LIMIT 1").fetchone()[0]
        code = next(w.strip(".") for w in rare.split() if w.startswith("0x"))
    finally:
        db.close()
    return {"rare code": code, "host name": "ws-01234", "common word": "printer",
            "very common word": "error", "two words": "vpn disconnect",
            "typed prefix": "disconn"}


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    out: Any = None
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


def raw_reads(db_path: Path, terms: dict[str, str], repeat: int) -> list[Row]:
    """Measure the list query and searches with sqlite3 directly on the same file."""
    rows: list[Row] = []
    db = sqlite3.connect(db_path)
    engine = sa.create_engine(f"sqlite:///{db_path}")
    try:
        marks = ", ".join("?" * len(OPEN))
        page_sql = (f"SELECT * FROM tickets WHERE status IN ({marks}) "  # noqa: S608
                    f"ORDER BY priority, id LIMIT {PAGE + 1}")
        db.execute(page_sql, OPEN).fetchall()
        times, out = _timed(lambda: db.execute(page_sql, OPEN).fetchall(), repeat)
        rows.append(Row("raw", "page of 50 open by priority", times, len(out)))
        naive = ("SELECT t.id"  # noqa: S608 - constants only
                 ", h.rank FROM tickets t JOIN (SELECT ticket_id, min(rank) AS rank "
                 "FROM (SELECT ticket_id, bm25(tickets_fts, 10.0, 1.0) AS rank FROM tickets_fts "
                 "WHERE tickets_fts MATCH ? ORDER BY rank LIMIT 5000) GROUP BY ticket_id) h "
                 f"ON h.ticket_id = t.id ORDER BY h.rank, t.id LIMIT {PAGE + 1}")
        for label, text in terms.items():
            words = search.fts_words(text)
            with engine.connect() as conn:
                plan_sql, match = search.search_plan(conn, words, page=PAGE, public_only=False)
            mode = "bm25" if "bm25" in plan_sql else "recency"
            planned = (f"SELECT t.id, h.rank FROM tickets t JOIN ({plan_sql}) h "  # noqa: S608
                       f"ON h.ticket_id = t.id ORDER BY h.rank, t.id LIMIT {PAGE + 1}")
            old_match = search.fts_match(words, prefix=True)
            # The naive query takes up to seconds: a few runs show its scale.
            times, out = _timed(lambda m=old_match: db.execute(naive, (m,)).fetchall(),  # type: ignore[misc]
                                max(3, repeat // 20))
            rows.append(Row("raw", f"search {label}: full bm25 (before)", times, len(out)))
            times, out = _timed(lambda s=planned, m=match: db.execute(s, {"match": m}).fetchall(),  # type: ignore[misc]
                                repeat)
            rows.append(Row("raw", f"search {label}: bounded ({mode})", times, len(out)))
        # A requester's search runs over their own documents (no API login for the
        # loaded requesters): the store's code in process, on the same file.
        requester = db.execute("SELECT requester_id FROM tickets ORDER BY id DESC LIMIT 1"
                               ).fetchone()[0]
        for label in ("common word", "very common word", "typed prefix"):
            filters = listing.ListFilters(q=terms[label], only_requester=requester,
                                          public_only=True)
            with engine.connect() as conn:
                times, out = _timed(lambda f=filters, c=conn: listing.list_tickets(  # type: ignore[misc]
                    c, f, sort="-id", after=None, limit=PAGE)[0], repeat)
            rows.append(Row("raw", f"store: a requester searches {label}", times, len(out)))
    finally:
        db.close()
        engine.dispose()
    return rows


def raw_writes(db_path: Path, seconds: float, start_id: int) -> Row:
    """Insert tickets one transaction each (ticket, event, FTS document), WAL, FULL."""
    db = sqlite3.connect(db_path, isolation_level=None)
    row = Row("raw", "create: 1 ticket + event + FTS per commit")
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        requester = db.execute(
            "SELECT id FROM users WHERE role = 'requester' LIMIT 1").fetchone()[0]
        deadline = time.monotonic() + seconds
        tid = start_id
        while time.monotonic() < deadline:
            tid += 1
            t0 = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO tickets (id, number, kind, title, description, status, impact, "
                "urgency, priority, requester_id, approval, source, created_at, updated_at) "
                "VALUES (?, ?, 'incident', ?, ?, 'new', 3, 3, 5, ?, 'not_required', 'api', ?, ?)",
                (tid, f"BENCH-{tid}", "Printer jams on floor 3",
                 "The printer on floor 3 jams on every second page.", requester, now, now))
            event = db.execute("INSERT INTO ticket_events (ticket_id, at, type, public, changes) "
                               "VALUES (?, ?, 'created', 1, '{}')", (tid, now)).lastrowid
            db.execute("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, public) "
                       "VALUES (?, ?, ?, ?, NULL, 1)",
                       (event, "Printer jams on floor 3",
                        "The printer on floor 3 jams on every second page.", tid))
            db.execute("COMMIT")
            row.latencies_ms.append((time.perf_counter() - t0) * 1000)
        row.rows = len(row.latencies_ms)
    finally:
        db.close()
    return row


# --- through the API ----------------------------------------------------------------


async def api_reads(base: str, session: aiohttp.ClientSession, terms: dict[str, str],
                    repeat: int) -> list[Row]:
    """Measure list pages and searches, one request at a time."""
    rows: list[Row] = []

    async def run(label: str, path: str, note: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {}
        for _ in range(3):  # warm-up: connection, caches
            async with session.get(base + path) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise SystemExit(f"{path}: HTTP {resp.status} {body}")
        row = Row("api", label, note=note)
        for _ in range(repeat):
            t0 = time.perf_counter()
            async with session.get(base + path) as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"{path}: HTTP {resp.status}")
            row.latencies_ms.append((time.perf_counter() - t0) * 1000)
        row.rows = len(body["items"])
        rows.append(row)
        return body

    page = f"/api/v1/tickets?view=open&sort=priority&limit={PAGE}"
    first = await run("page of 50 open by priority", page)
    if first["next_cursor"]:
        await run("next page (cursor)", f"{page}&cursor={first['next_cursor']}")
    await run("page of 50 newest (all statuses)", f"/api/v1/tickets?limit={PAGE}")
    for label, text in terms.items():
        await run(f"search {label}: {text!r}",
                  f"/api/v1/tickets?limit={PAGE}&q={urllib.parse.quote(text)}")
    return rows


async def api_creates(base: str, token: str, ssl_ctx: Any, server: Any, *,
                      concurrency: int, seconds: float) -> api_bench.Result:
    """Create tickets with several concurrent clients; return throughput figures."""

    def body(worker: int, seq: int) -> dict[str, Any]:
        return {"title": f"Printer jams on floor {worker} ({seq})",
                "description": "The printer jams on every second page since this morning.",
                "impact": 2, "urgency": 2, "tags": ["printer"]}

    return await api_bench.measure(
        "deskmate", "POST /api/v1/tickets", server=server, url=f"{base}/api/v1/tickets",
        ssl_ctx=ssl_ctx, headers={"Authorization": f"Bearer {token}"}, body=body,
        concurrency=concurrency, seconds=seconds)


async def through_api(args: argparse.Namespace, data: Path, terms: dict[str, str],
                      ) -> tuple[list[Row], api_bench.Result, str]:
    """Run the real server on the loaded directory and measure it."""
    # The first start on fresh data builds the report roll-ups of every ticket (minutes
    # at 1,000,000 on a busy machine); later starts find them built.
    api_bench.START_TIMEOUT = 1800.0
    port = api_bench.free_port()
    extra = {"DESKMATE_DATA": str(data), "DESKMATE_PORT": str(port),
             "DESKMATE_HOST": api_bench.HOST, "DESKMATE_ADMIN_PASSWORD": PASSWORD}
    log_path = data.parent / "deskmate.log"
    base = f"https://{api_bench.HOST}:{port}"
    make_ctx = api_bench.trusting(data / "tls" / "ca.pem")
    with api_bench.subprocess_running(server_command("run"), env=server_env(extra),
                                      log_path=log_path) as proc:
        await api_bench.wait_ready(f"{base}/healthz", proc, ssl_ctx=make_ctx, log_path=log_path)
        ssl_ctx = make_ctx()
        assert ssl_ctx is not None
        token = await api_bench.login_and_token(base, ssl_ctx, PASSWORD)
        connector = aiohttp.TCPConnector(limit=1, ssl=ssl_ctx)
        async with aiohttp.ClientSession(
                connector=connector, headers={"Authorization": f"Bearer {token}"}) as session:
            rows = await api_reads(base, session, terms, args.requests)
        created = await api_creates(base, token, ssl_ctx, proc,
                                    concurrency=args.create_concurrency,
                                    seconds=args.create_seconds)
    return rows, created, api_bench.log_summary(log_path)


# --- report -------------------------------------------------------------------------


def report(args: argparse.Namespace, *, how: str, loaded: tickets_data.Loaded,
           raw: list[Row], api: list[Row], raw_create: Row, created: api_bench.Result,
           log_line: str, load: tuple[float, float, float]) -> None:
    """Print the settings, both tables and the targets."""
    print(f"Deskmate tickets benchmark: {loaded.tickets:,} tickets, {loaded.events:,} events, "
          f"{loaded.fts_docs:,} full-text documents; data {how}")
    print(f"cpu_count={os.cpu_count()}, load average before the run: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; python {platform.python_version()}, "
          f"sqlite {sqlite3.sqlite_version}")
    print(f"reads: one client, one request at a time, {args.requests} timed requests per row "
          "after 3 warm-ups (TLS, bearer token)")
    print()
    header = f"{'side':<4} {'operation':<52} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'rows':>5}"
    print(header)
    print("-" * len(header))
    for r in [*api, *raw]:
        print(f"{r.side:<4} {r.label[:52]:<52} {r.pct(50):>8.2f} {r.pct(99):>8.2f} "
              f"{max(r.latencies_ms):>8.2f} {r.rows:>5}")
    print()
    print(f"create through the API: {created.rate:,.0f} tickets/s with "
          f"{args.create_concurrency} clients for {created.seconds:.1f} s, "
          f"p50 {created.percentile(50):.1f} ms, p99 {created.percentile(99):.1f} ms, "
          f"errors {sum(created.errors.values())}, server CPU "
          f"{created.cpu_ms_per_request(created.server_cpu):.2f} ms/ticket")
    rate = len(raw_create.latencies_ms) / (sum(raw_create.latencies_ms) / 1000)
    print(f"create with raw sqlite3 (one writer, commit per ticket, synchronous=FULL): "
          f"{rate:,.0f} tickets/s, p50 {raw_create.pct(50):.2f} ms, "
          f"p99 {raw_create.pct(99):.2f} ms")
    print()
    lists = [r for r in api if r.label.startswith("page of 50 open")]
    searches = [r for r in api if r.label.startswith("search")]
    for name, rows, target in (("page of 50 open by priority", lists, TARGET_LIST_P99_MS),
                               ("full-text search (worst row)", searches,
                                TARGET_SEARCH_P99_MS)):
        worst = max(r.pct(99) for r in rows)
        verdict = "met" if worst < target else "MISSED"
        print(f"target {name}: p99 < {target:g} ms through the API: {worst:.1f} ms, {verdict}")
    print(f"deskmate server log: {log_line}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


async def run(args: argparse.Namespace) -> None:
    """Prepare the data, measure raw and through the API, print the report."""
    load = os.getloadavg()
    data, loaded, how = prepare(args.cache_dir, args.tickets, fresh=args.fresh)
    db_path = data / "deskmate.db"
    terms = pick_terms(db_path)
    raw = raw_reads(db_path, terms, args.requests)
    api, created, log_line = await through_api(args, data, terms)
    raw_create = raw_writes(db_path, args.create_seconds, start_id=10 ** 9)
    tickets_data.trim(db_path, loaded)
    report(args, how=how, loaded=loaded, raw=raw, api=api, raw_create=raw_create,
           created=created, log_line=log_line, load=load)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=api_bench.positive_int, default=1_000_000,
                        help="tickets to load (default: 1,000,000)")
    parser.add_argument("--requests", type=api_bench.positive_int, default=200,
                        help="timed requests per read row (default: 200)")
    parser.add_argument("--create-seconds", type=api_bench.positive_float, default=5.0,
                        help="seconds of ticket creation (default: 5)")
    parser.add_argument("--create-concurrency", type=api_bench.positive_int, default=8,
                        help="concurrent clients creating tickets (default: 8)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/deskmate-bench-tickets"),  # noqa: S108
                        help="where the loaded data directory is kept between runs")
    parser.add_argument("--fresh", action="store_true", help="load the data again")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
