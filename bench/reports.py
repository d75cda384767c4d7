"""Measure the dashboards at 1,000,000 tickets through the API, beside full scans; print figures.

Usage: ``python bench/reports.py [--tickets 1000000] [--requests 100] [--cache-dir DIR]``

1. Data: ``deskmate-server init`` makes a data directory; ``bench/tickets_data.py`` loads N
   tickets (one every 3 minutes: 1M span 5.7 years, 10 groups, 50 technicians); this
   script adds what reports read — a status event for every resolution, closure and
   cancellation, a few reopenings, categories, SLA clocks met or breached, ratings and
   remote sessions — then ``deskmate-server reports-rebuild`` computes the roll-ups (timed).
   The prepared directory is cached under ``--cache-dir``.
2. The API: ``deskmate-server run`` on it; every chart over 30, 90 and 366 days, for all
   groups and for one group, one request after another (latency): p50 and p99.
3. The same figures by a full scan of tickets, events and clocks (raw sqlite3, same file,
   same run), timed, and checked equal to what the API answered.

A benchmark, not a test: it prints figures and never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api as api_bench
import tickets_data
from tickets import PASSWORD, _schema_key, server_command, server_env

CHARTS = ("volume", "times", "sla", "quality", "remote", "satisfaction", "deflection")
PERIODS = (30, 90, 366)
TARGET_P99_MS = 200.0
SEED = 20261207


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def augment(db_path: Path) -> dict[str, int]:
    """Add what reports read to the loaded tickets (one transaction, executemany)."""
    rng = random.Random(SEED)
    db = sqlite3.connect(db_path, isolation_level=None)
    counts = {"status events": 0, "reopened": 0, "clocks": 0, "ratings": 0, "remote": 0}
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        now = _stamp(dt.datetime.now(dt.UTC))
        db.executemany("INSERT INTO categories (name, name_key, active) VALUES (?, ?, 1)",
                       [(f"Bench category {i}", f"bench category {i}") for i in range(8)])
        cats = [r[0] for r in db.execute("SELECT id FROM categories WHERE name LIKE 'Bench%'")]
        db.execute(f"UPDATE tickets SET category_id = {cats[0]} + (id % 8)")  # noqa: S608
        db.execute("INSERT INTO devices (uid, public_key, hostname, os_name, os_version, serial,"
                   " logged_in_users, agent_version, enrolled_at, last_address) VALUES "
                   "('bench-device', zeroblob(32), 'ws-bench', '', '', '', '', '', ?, '')",
                   (now,))
        device = db.execute("SELECT id FROM devices WHERE uid = 'bench-device'").fetchone()[0]
        events: list[tuple[Any, ...]] = []
        clocks: list[tuple[Any, ...]] = []
        sessions: list[tuple[Any, ...]] = []

        def flush() -> None:
            db.executemany("INSERT INTO ticket_events (ticket_id, at, actor_id, type, public, "
                           "body, changes) VALUES (?, ?, ?, ?, ?, NULL, ?)", events)
            db.executemany(
                "INSERT INTO sla_clocks (ticket_id, kind, policy_name, calendar_id, "
                "target_minutes, warn_percents, pause_statuses, state, started_at, "
                "elapsed_seconds, warnings_fired, breached_at, stopped_at) VALUES "
                "(?, ?, 'Bench', 1, ?, '[]', '[\"pending\"]', ?, ?, 0, 0, ?, ?)", clocks)
            db.executemany("INSERT INTO remote_sessions (ticket_id, device_id, technician_id, "
                           "mode, reason, state, created_at, started_at, ended_at, summary,"
                           " end_reason) VALUES (?, ?, ?, 'control', 'bench', 'ended', ?, ?,"
                           " ?, '{}', '')", sessions)
            counts["status events"] += len(events)
            events.clear()
            clocks.clear()
            sessions.clear()

        for tid, status, created, updated, assignee, requester in db.execute(
                "SELECT id, status, created_at, updated_at, assignee_id, requester_id "
                "FROM tickets ORDER BY id").fetchall():
            start, end = _parse(created), _parse(updated)
            if status in ("resolved", "closed", "cancelled"):
                if status != "cancelled" and rng.random() < 0.05:
                    mid = start + (end - start) / 3
                    events.append((tid, _stamp(mid), assignee, "status_changed", 1, json.dumps(
                        {"status": {"before": "in_progress", "after": "resolved"}})))
                    events.append((tid, _stamp(mid + (end - start) / 3), assignee,
                                   "status_changed", 1, json.dumps(
                                       {"status": {"before": "resolved",
                                                   "after": "in_progress"}})))
                    counts["reopened"] += 1
                events.append((tid, _stamp(end), assignee, "status_changed", 1, json.dumps(
                    {"status": {"before": "in_progress", "after": status}})))
                if status != "cancelled":
                    target = 24 * 60
                    late = (end - start).total_seconds() > target * 60
                    clocks.append((tid, "resolution", target, "breached" if late else "met",
                                   created, _stamp(start + dt.timedelta(minutes=target))
                                   if late else None, _stamp(end)))
                    if rng.random() < 0.2:
                        events.append((tid, _stamp(end + dt.timedelta(hours=1)), requester,
                                       "rating", 0, json.dumps(
                                           {"rating": {"score": rng.randint(1, 5),
                                                       "scale": 5}})))
                        counts["ratings"] += 1
                    if rng.random() < 0.05:
                        sessions.append((tid, device, assignee, _stamp(start), _stamp(start),
                                         _stamp(start + dt.timedelta(minutes=10))))
                        counts["remote"] += 1
            if len(events) > 50_000:
                flush()
        flush()
        counts["clocks"] = db.execute("SELECT count(*) FROM sla_clocks").fetchone()[0]
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return counts


def prepare(cache: Path, n: int, *, fresh: bool) -> tuple[Path, dict[str, Any]]:
    """Return a data directory with n tickets, report data and built roll-ups (cached)."""
    root = cache / f"{n}-{_schema_key()}"
    data, marker = root / "data", root / "prepared.json"
    if marker.exists() and not fresh:
        return data, {**json.loads(marker.read_text()), "how": f"cached in {root}"}
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = server_env({"DESKMATE_DATA": str(data), "DESKMATE_ADMIN_PASSWORD": PASSWORD,
                      "DESKMATE_REPORT_TIME_ZONE": "UTC"})
    subprocess.run(server_command("init"), env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print(f"loading {n:,} tickets ...", flush=True)
    loaded = tickets_data.load(data / "deskmate.db", n)
    print("adding status events, clocks, ratings, sessions ...", flush=True)
    t0 = time.perf_counter()
    counts = augment(data / "deskmate.db")
    augmented = time.perf_counter() - t0
    print("rebuilding the roll-ups (deskmate-server reports-rebuild) ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run(server_command("reports-rebuild"), env=env, check=True)
    info = {"load_seconds": loaded.seconds, "augment_seconds": augmented,
            "rebuild_seconds": time.perf_counter() - t0, "counts": counts,
            "events": loaded.events + counts["status events"]}
    marker.write_text(json.dumps(info))
    return data, {**info, "how": f"prepared now in {root}"}


# --- full scans (raw sqlite3) ------------------------------------------------------


def _days(end: dt.date, n: int) -> tuple[str, str, str, str]:
    start = end - dt.timedelta(days=n - 1)
    return (start.isoformat(), end.isoformat(), f"{start.isoformat()} 00:00:00",
            f"{(end + dt.timedelta(days=1)).isoformat()} 00:00:00")


def scan_volume(db: sqlite3.Connection, end: dt.date, n: int, group: int | None) -> dict[str, Any]:
    """Created and resolved per day by scanning tickets and events (UTC days)."""
    _, _, lo, hi = _days(end, n)
    g = "" if group is None else f" AND t.group_id = {int(group)}"
    created = dict(db.execute(
        "SELECT substr(t.created_at, 1, 10), count(*) FROM tickets t "  # noqa: S608
        f"WHERE t.created_at >= ? AND t.created_at < ?{g} GROUP BY 1", (lo, hi)).fetchall())
    resolved = dict(db.execute(
        "SELECT substr(e.at, 1, 10), count(*) FROM ticket_events e "  # noqa: S608
        "JOIN tickets t ON t.id = e.ticket_id WHERE e.at >= ? AND e.at < ? "
        "AND json_extract(e.changes, '$.status.before') IN "
        "('new','assigned','in_progress','pending') AND json_extract(e.changes, "
        f"'$.status.after') IN ('resolved','closed'){g} GROUP BY 1", (lo, hi)).fetchall())
    return {"created": sum(created.values()), "resolved": sum(resolved.values())}


def scan_times(db: sqlite3.Connection, end: dt.date, n: int, group: int | None
               ) -> dict[str, Any]:
    """Median resolution time per group of tickets last resolved in the period."""
    _, _, lo, hi = _days(end, n)
    g = "" if group is None else f" AND t.group_id = {int(group)}"
    rows = db.execute(
        "SELECT t.group_id, (julianday(r.at) - julianday(t.created_at)) * 86400 "  # noqa: S608
        "FROM tickets t JOIN (SELECT ticket_id, max(at) AS at FROM ticket_events "
        "WHERE json_extract(changes, '$.status.after') IN ('resolved','closed') "
        "AND json_extract(changes, '$.status.before') IN "
        "('new','assigned','in_progress','pending') GROUP BY ticket_id) r "
        "ON r.ticket_id = t.id WHERE t.status IN ('resolved','closed') "
        f"AND t.merged_into_id IS NULL AND r.at >= ? AND r.at < ?{g}", (lo, hi)).fetchall()
    by: dict[int, list[float]] = {}
    for gid, seconds in rows:
        by.setdefault(gid or 0, []).append(seconds)
    return {"resolved": sum(len(v) for v in by.values()),
            "medians": {k: statistics.median_low(v) for k, v in by.items()}}


def scan_sla(db: sqlite3.Connection, end: dt.date, n: int, group: int | None) -> dict[str, Any]:
    """Resolution clocks met and breached in the period, by scanning the clocks."""
    _, _, lo, hi = _days(end, n)
    g = "" if group is None else f" AND t.group_id = {int(group)}"
    met, breached = db.execute(
        "SELECT sum(c.state = 'met'), sum(c.state = 'breached') FROM sla_clocks c "  # noqa: S608
        "JOIN tickets t ON t.id = c.ticket_id WHERE c.kind = 'resolution' AND "
        "CASE c.state WHEN 'breached' THEN c.breached_at ELSE c.stopped_at END >= ? AND "
        f"CASE c.state WHEN 'breached' THEN c.breached_at ELSE c.stopped_at END < ?{g}",
        (lo, hi)).fetchone()
    return {"met": met or 0, "breached": breached or 0}


SCANS = {"volume": scan_volume, "times": scan_times, "sla": scan_sla}


def _col(data: dict[str, Any], name: str) -> int:
    i = data["columns"].index(name)
    return sum(int(r[i] or 0) for r in data["rows"])


def same(chart: str, api: dict[str, Any], scan: dict[str, Any]) -> bool:
    """Tell whether the API's figure equals the full scan's."""
    if chart == "volume":
        return (_col(api, "created"), _col(api, "resolved")) == (scan["created"],
                                                                  scan["resolved"])
    if chart == "times":
        return _col(api, "resolved") == scan["resolved"]
    return (_col(api, "resolution_met"), _col(api, "resolution_breached")) == (
        scan["met"], scan["breached"])


# --- the API ----------------------------------------------------------------------


def _pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def measure(args: argparse.Namespace, data: Path, end: dt.date, group: int
                  ) -> list[dict[str, Any]]:
    """Run the server; time every chart; time the full scans beside; return rows."""
    port = api_bench.free_port()
    extra = {"DESKMATE_DATA": str(data), "DESKMATE_PORT": str(port),
             "DESKMATE_HOST": api_bench.HOST, "DESKMATE_ADMIN_PASSWORD": PASSWORD,
             "DESKMATE_REPORT_TIME_ZONE": "UTC", "DESKMATE_REPORT_WEEKLY_SUMMARY": "false"}
    log_path = data.parent / "deskmate.log"
    base = f"https://{api_bench.HOST}:{port}"
    make_ctx = api_bench.trusting(data / "tls" / "ca.pem")
    out: list[dict[str, Any]] = []
    db = sqlite3.connect(f"file:{data / 'deskmate.db'}?mode=ro", uri=True)
    with api_bench.subprocess_running(server_command("run"), env=server_env(extra),
                                      log_path=log_path) as proc:
        await api_bench.wait_ready(f"{base}/healthz", proc, ssl_ctx=make_ctx, log_path=log_path)
        ssl_ctx = make_ctx()
        assert ssl_ctx is not None
        token = await api_bench.login_and_token(base, ssl_ctx, PASSWORD)
        connector = aiohttp.TCPConnector(limit=1, ssl=ssl_ctx)
        async with aiohttp.ClientSession(
                connector=connector, headers={"Authorization": f"Bearer {token}"}) as session:
            for days in PERIODS:
                start = (end - dt.timedelta(days=days - 1)).isoformat()
                for gid in (None, group):
                    for chart in CHARTS:
                        query = f"start={start}&end={end.isoformat()}"
                        if gid is not None:
                            query += f"&group_id={gid}"
                        url = f"{base}/api/v1/reports/charts/{chart}?{query}"
                        body: dict[str, Any] = {}
                        for _ in range(2):
                            async with session.get(url) as resp:
                                body = await resp.json()
                                if resp.status != 200:
                                    raise SystemExit(f"{url}: HTTP {resp.status} {body}")
                        lat = []
                        for _ in range(args.requests):
                            t0 = time.perf_counter()
                            async with session.get(url) as resp:
                                await resp.read()
                            lat.append((time.perf_counter() - t0) * 1000)
                        row = {"chart": chart, "days": days, "group": gid is not None,
                               "p50": _pct(lat, 50), "p99": _pct(lat, 99), "scan": None,
                               "same": None}
                        if chart in SCANS:
                            scans = []
                            result: dict[str, Any] = {}
                            for _ in range(args.scans):
                                t0 = time.perf_counter()
                                result = SCANS[chart](db, end, days, gid)
                                scans.append((time.perf_counter() - t0) * 1000)
                            row["scan"] = statistics.median(scans)
                            row["same"] = same(chart, body, result)
                        out.append(row)
    db.close()
    return out


def report(args: argparse.Namespace, info: dict[str, Any], rows: list[dict[str, Any]],
           end: dt.date, load: tuple[float, float, float]) -> None:
    """Print the figures as Markdown."""
    print(f"\n## Dashboards at {args.tickets:,} tickets ({info['events']:,} events)\n")
    print(f"- data: {info['how']}; load {info['load_seconds']:.0f} s, report data "
          f"{info['augment_seconds']:.0f} s, `reports-rebuild` {info['rebuild_seconds']:.0f} s "
          f"({args.tickets / max(info['rebuild_seconds'], 1e-9):,.0f} tickets/s)")
    print(f"- added: {json.dumps(info['counts'])}")
    print(f"- periods end {end}; {args.requests} requests per row, one at a time, over TLS "
          f"with a bearer token; full scans: median of {args.scans} runs, raw sqlite3 on the "
          "same file")
    print(f"- machine: {os.cpu_count()} cores, load average {load[0]:.1f} at the start\n")
    print("| chart | days | filter | API p50 ms | API p99 ms | full scan ms | same figure |")
    print("|---|---:|---|---:|---:|---:|---|")
    for r in rows:
        scan = f"{r['scan']:.0f}" if r["scan"] is not None else "-"
        same_ = "-" if r["same"] is None else ("yes" if r["same"] else "NO")
        print(f"| {r['chart']} | {r['days']} | {'one group' if r['group'] else 'all'} | "
              f"{r['p50']:.1f} | {r['p99']:.1f} | {scan} | {same_} |")
    worst = max(r["p99"] for r in rows)
    print(f"\nworst API p99: {worst:.1f} ms (target under {TARGET_P99_MS:.0f} ms)")


async def run(args: argparse.Namespace) -> None:
    """Prepare, measure, print."""
    load = os.getloadavg()
    data, info = prepare(args.cache_dir, args.tickets, fresh=args.fresh)
    db = sqlite3.connect(data / "deskmate.db")
    last = db.execute("SELECT max(created_at), (SELECT min(id) FROM groups "
                      "WHERE name LIKE 'bench-%') FROM tickets").fetchone()
    db.close()
    end = _parse(last[0]).date()
    rows = await measure(args, data, end, int(last[1]))
    report(args, info, rows, end, load)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=api_bench.positive_int, default=1_000_000,
                        help="tickets to load (default: 1,000,000)")
    parser.add_argument("--requests", type=api_bench.positive_int, default=100,
                        help="timed requests per chart and period (default: 100)")
    parser.add_argument("--scans", type=api_bench.positive_int, default=3,
                        help="timed full scans per figure (default: 3)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/deskmate-bench-reports"),  # noqa: S108
                        help="where the prepared data directory is kept between runs")
    parser.add_argument("--fresh", action="store_true", help="prepare the data again")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
