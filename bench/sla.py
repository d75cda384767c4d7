"""Benchmark: the SLA engine's pass and a policy re-target over many open tickets.

Prints figures, never passes or fails. For each size it builds a fresh SQLite database
through the real migrations, inserts N open tickets with one running resolution clock
each straight into the schema (executemany, as a fixture), with due times spread evenly
over a month, and then measures with the real code:

* one engine pass (``server.sla.engine.run_pass``) that fires the next K breaches — the
  same K at every size, so the figures show whether a pass grows with the open tickets;
* beside it, in the same run, the baseline an engine without the due-time index would
  pay: a scan of every open clock for the ones due (``NOT INDEXED``);
* a policy edit (``server.sla.store.save_policy``): the time to its answer (the edit
  only records a pending re-target), then the background re-target in chunks
  (``server.sla.retarget.run_chunk``, ``--chunk`` clocks per write transaction): the
  writer hold time per chunk (median / max) and the total; beside it, in the same run,
  the old way — a second edit re-targeting every open clock in one write transaction
  (skip it with ``--no-single``).

Issue target: a pass costs the same with 10,000 or 1,000,000 open tickets when the same
number of events fall due.

    .venv/bin/python bench/sla.py [--tickets 10000 1000000] [--due 500] [--passes 3]
        [--chunk 2000] [--no-single]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.db import migrate
from server.db.database import Database, create_engine
from server.sla import engine, retarget, store
from server.sla.schemas import Conditions, EscalationRule, Targets
from server.tickets.priority import ITIL_MATRIX

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
MONTH = dt.timedelta(days=30)
TARGET = 8 * 60  # minutes


def _ts(value: dt.datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage format (naive UTC).
    return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, n: int) -> tuple[int, list[dt.datetime]]:
    """Create the schema, a policy and n open tickets with one clock each; return dues."""
    db = Database(create_engine(f"sqlite:///{path}", synchronous="NORMAL"))
    db.write_sync(migrate.upgrade)
    policy = db.write_sync(lambda c: store.save_policy(c, None, {
        "name": "Default", "calendar_id": 1, "position": None, "fallback": True,
        "active": True, "conditions": Conditions(), "targets": Targets(resolution=TARGET),
        "warn_percents": [], "pause_statuses": ["pending"],
        "escalations": [EscalationRule(on="breach", action="notify")]}, START))
    db.close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous=OFF")
    now = _ts(START)
    raw.execute("INSERT INTO users (username, display_name, role, active, created_at, "
                "updated_at) VALUES ('req', 'Req', 'requester', 1, ?, ?)", (now, now))
    step = MONTH / n
    dues = [START + step * (i + 1) for i in range(n)]
    chunk = 50_000
    for lo in range(0, n, chunk):
        ids = range(lo + 1, min(n, lo + chunk) + 1)
        raw.executemany(
            "INSERT INTO tickets (id, number, kind, title, description, status, impact, "
            "urgency, priority, requester_id, approval, source, created_at, updated_at, "
            "sla_due_at) VALUES (?, ?, 'incident', 'Bench', '', 'in_progress', 3, 3, 5, 1, "
            "'not_required', 'api', ?, ?, ?)",
            [(i, f"INC-{i:07d}", now, now, _ts(dues[i - 1])) for i in ids])
        raw.executemany(
            "INSERT INTO sla_clocks (ticket_id, kind, policy_id, policy_name, calendar_id, "
            "target_minutes, warn_percents, pause_statuses, state, started_at, "
            "elapsed_seconds, running_since, warnings_fired, due_at, next_event_at) "
            "VALUES (?, 'resolution', ?, 'Default', 1, ?, '[]', '[\"pending\"]', 'running', "
            "?, 0, ?, 0, ?, ?)",
            [(i, policy.id, TARGET, _ts(dues[i - 1] - dt.timedelta(minutes=TARGET)),
              _ts(dues[i - 1] - dt.timedelta(minutes=TARGET)), _ts(dues[i - 1]),
              _ts(dues[i - 1])) for i in ids])
    raw.commit()
    raw.execute("ANALYZE")
    raw.close()
    return policy.id, dues


def measure(n: int, due: int, passes: int, chunk: int, single: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sla.db"
        t0 = time.perf_counter()
        policy_id, dues = build(path, n)
        load_s = time.perf_counter() - t0
        db = Database(create_engine(f"sqlite:///{path}", synchronous="NORMAL"))
        pass_ms, scan_ms = [], []
        for k in range(1, passes + 1):
            now = dues[k * due - 1]  # exactly `due` more clocks fall due
            t = time.perf_counter()
            fired = db.write_sync(lambda c, now=now: engine.run_pass(
                c, now, limit=10 * due, matrix=ITIL_MATRIX))
            pass_ms.append((time.perf_counter() - t) * 1000)
            assert len(fired) == due, (len(fired), due)
            t = time.perf_counter()
            found = db.read_sync(lambda c, now=now: c.exec_driver_sql(
                "SELECT id FROM sla_clocks NOT INDEXED WHERE next_event_at <= ? "
                "ORDER BY next_event_at LIMIT ?", (_ts(now), 10 * due)).all())
            scan_ms.append((time.perf_counter() - t) * 1000)
            assert found == []  # the pass left nothing due
        plan = db.read_sync(lambda c: " / ".join(r[3] for r in c.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM sla_clocks WHERE next_event_at <= ? "
            "ORDER BY next_event_at LIMIT 10", (_ts(START),))))
        at = dues[passes * due]
        t = time.perf_counter()
        out = db.write_sync(lambda c: store.save_policy(
            c, policy_id, {"targets": Targets(resolution=TARGET + 60)}, at))
        edit_ms = (time.perf_counter() - t) * 1000
        assert out.retarget_pending
        chunk_ms: list[float] = []
        retargeted = 0
        t0 = time.perf_counter()
        while True:
            t = time.perf_counter()
            done = db.write_sync(lambda c: retarget.run_chunk(c, at, limit=chunk))
            if done is None:
                break
            chunk_ms.append((time.perf_counter() - t) * 1000)
            retargeted += done.retargeted
        chunked_s = time.perf_counter() - t0
        single_s = float("nan")
        if single:  # the old way: the edit and every clock in one write transaction
            t = time.perf_counter()
            db.write_sync(lambda c: (store.save_policy(
                c, policy_id, {"targets": Targets(resolution=TARGET + 120)}, at),
                retarget.run_chunk(c, at, limit=n + 1)))
            single_s = time.perf_counter() - t
        db.close()
        size_mb = os.path.getsize(path) / 1e6
    return {"n": n, "load_s": load_s, "pass_ms": statistics.median(pass_ms),
            "pass_max_ms": max(pass_ms), "scan_ms": statistics.median(scan_ms),
            "edit_ms": edit_ms, "chunk_ms": statistics.median(chunk_ms or [0.0]),
            "chunk_max_ms": max(chunk_ms or [0.0]), "chunks": len(chunk_ms),
            "chunked_s": chunked_s, "single_s": single_s, "retargeted": retargeted,
            "db_mb": size_mb,
            "plan": plan}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=int, default=500, help="events due per pass")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=retarget.CHUNK,
                        help="clocks per re-target write transaction")
    parser.add_argument("--no-single", action="store_true",
                        help="skip the one-transaction re-target baseline")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"each pass fires {args.due} breaches (notify rule, timeline event each); "
          f"median of {args.passes} passes")
    print(json.dumps({"columns": ["open tickets", "engine pass ms (median/max)",
                                  "baseline unindexed scan ms", "load s", "db MB"]}))
    for n in args.tickets:
        r = measure(n, args.due, args.passes, args.chunk, not args.no_single)
        print(f"{r['n']:>9,} open | pass {r['pass_ms']:7.1f} / {r['pass_max_ms']:7.1f} ms | "
              f"baseline scan {r['scan_ms']:8.1f} ms | load {r['load_s']:6.1f} s | "
              f"{r['db_mb']:7.1f} MB")
        print(f"          policy edit: answer {r['edit_ms']:6.1f} ms | re-target "
              f"{r['retargeted']:,} clocks in {r['chunks']} chunks of {args.chunk}: writer "
              f"held {r['chunk_ms']:6.1f} / {r['chunk_max_ms']:6.1f} ms per chunk "
              f"(median/max), total {r['chunked_s']:6.2f} s | baseline one transaction "
              + ("skipped" if math.isnan(r["single_s"]) else f"{r['single_s']:6.2f} s"))
        print(f"          plan: {r['plan']}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
