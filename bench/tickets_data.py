"""Generate realistic tickets and bulk-load them into a Deskmate SQLite file (bench only).

Used by ``bench/tickets.py``. Rows go straight into the real schema (made by
``deskmate-server init``) with ``executemany``: tickets, their "created" events, public
replies for some, and the full-text index (``tickets_fts``) exactly as the server fills it
(one document per ticket with title and description, one per event with a body).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = 20261127
BATCH = 20_000
# Statuses in a desk that has run for years: most tickets are done.
STATUS_WEIGHTS = (("closed", 88), ("resolved", 4), ("cancelled", 2), ("new", 1),
                  ("assigned", 2), ("in_progress", 2), ("pending", 1))
KIND_WEIGHTS = (("incident", 70), ("service_request", 27), ("problem", 3))
SOURCE_WEIGHTS = (("portal", 50), ("tray", 20), ("email", 20), ("monitoring", 5), ("api", 5))
MATRIX = ((1, 2, 3), (2, 3, 4), (3, 4, 5))
REPLY_SHARE = 0.3  # tickets with one public reply (also indexed for search)
HOSTS = 100_000  # ws-00000 .. ws-99999: each host name is a rare term (~13 documents)

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Printer on floor {n} does not print", ("printer", "toner", "queue", "paper", "jam",
                                             "spooler", "driver", "tray")),
    ("VPN disconnects every few minutes", ("vpn", "tunnel", "disconnect", "client",
                                           "certificate", "home", "network")),
    ("Outlook cannot connect to the mail server", ("outlook", "mailbox", "exchange",
                                                   "profile", "offline", "sync")),
    ("Laptop is very slow after the update", ("laptop", "slow", "update", "fan", "cpu",
                                              "memory", "restart", "battery")),
    ("Password reset for my account", ("password", "reset", "locked", "account", "login",
                                       "expired", "mfa")),
    ("Second monitor stays black", ("monitor", "screen", "dock", "display", "hdmi",
                                    "cable", "resolution")),
    ("Wi-Fi drops in meeting room {n}", ("wifi", "wireless", "access", "point", "signal",
                                         "meeting", "room")),
    ("Teams calls have no sound", ("teams", "audio", "headset", "microphone", "call",
                                   "speaker", "echo")),
    ("Excel crashes when opening a large file", ("excel", "crash", "spreadsheet", "macro",
                                                 "file", "office")),
    ("Request: new software installation", ("install", "software", "licence", "request",
                                            "approval", "version")),
    ("Shared drive not reachable", ("share", "drive", "folder", "permission", "mapped",
                                    "server", "access")),
    ("Phone cannot sync company email", ("phone", "mobile", "sync", "email", "app",
                                         "device", "enrol")),
    ("Badge reader at entrance {n} rejects cards", ("badge", "reader", "door", "card",
                                                    "entrance", "security")),
    ("Request: access to the finance system", ("access", "finance", "role", "system",
                                               "approval", "manager")),
    ("Blue screen on startup", ("bluescreen", "startup", "driver", "crash", "dump",
                                "boot", "memory")),
    ("Keyboard keys stuck", ("keyboard", "keys", "stuck", "usb", "wireless", "mouse")),
)
COMMON = ("error", "please", "help", "since", "morning", "working", "cannot", "again",
          "urgent", "today", "still", "thanks", "colleague", "office", "issue", "problem")
REPLIES = ("Could you restart the machine and tell us if the error persists?",
           "We have pushed a new driver; please try again after lunch.",
           "Thanks, it works again since this morning.",
           "A technician will visit your desk today.",
           "Please attach a screenshot of the error message.")


@dataclass(frozen=True)
class Loaded:
    """What a load produced: counts, the highest ids, the time it took."""

    tickets: int
    events: int
    fts_docs: int
    max_ticket_id: int
    max_event_id: int
    max_fts_rowid: int
    requester_ids: list[int]
    seconds: float

    def to_json(self) -> str:
        """Return the record as JSON."""
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Loaded:
        """Parse a record written by ``to_json``."""
        return cls(**json.loads(text))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...], k: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=k)


def _stamp(t: dt.datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage format (naive UTC).
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def _description(rng: random.Random, words: tuple[str, ...], host: str) -> str:
    picked = rng.choices(words, k=rng.randint(6, 14)) + rng.choices(COMMON, k=rng.randint(4, 10))
    rng.shuffle(picked)
    picked.insert(rng.randrange(len(picked) + 1), host)
    if rng.random() < 0.2:
        picked.append(f"0x{rng.randrange(16 ** 6):06x}")
    return " ".join(picked).capitalize() + "."


def _ticket_rows(n: int, *, first_id: int, requester_ids: list[int], staff_ids: list[int],
                 group_ids: list[int], start: dt.datetime, rng: random.Random,
                 ) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]],
                                     list[tuple[object, ...]]]]:
    """Yield batches of (ticket rows, event rows, FTS rows), oldest ticket first."""
    step = dt.timedelta(minutes=3)  # 1M tickets span about 5.7 years
    counters = {"incident": 0, "service_request": 0, "problem": 0}
    prefix = {"incident": "INC", "service_request": "REQ", "problem": "PRB"}
    event_id = 0
    tid = first_id - 1
    for base in range(0, n, BATCH):
        size = min(BATCH, n - base)
        statuses = _weighted(rng, STATUS_WEIGHTS, size)
        kinds = _weighted(rng, KIND_WEIGHTS, size)
        sources = _weighted(rng, SOURCE_WEIGHTS, size)
        t_rows: list[tuple[object, ...]] = []
        e_rows: list[tuple[object, ...]] = []
        f_rows: list[tuple[object, ...]] = []
        for i in range(size):
            tid += 1
            kind = kinds[i]
            counters[kind] += 1
            number = f"{prefix[kind]}-{counters[kind]:06d}"
            title_t, words = TOPICS[rng.randrange(len(TOPICS))]
            title = title_t.format(n=rng.randint(1, 9))
            host = f"ws-{rng.randrange(HOSTS):05d}"
            description = _description(rng, words, host)
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            priority = MATRIX[impact - 1][urgency - 1]
            status = statuses[i]
            created = start + step * (tid - first_id)
            updated = created + dt.timedelta(hours=rng.randint(0, 72))
            assignee = None if status == "new" else rng.choice(staff_ids)
            done = status in ("resolved", "closed")
            t_rows.append((
                tid, number, kind, title, description, status, impact, urgency, priority,
                None, rng.choice(requester_ids), assignee, rng.choice(group_ids), None, None,
                None, None, "not_required", None, sources[i],
                "fixed" if done else None, "Fixed." if done else None, None,
                _stamp(created), _stamp(updated), _stamp(updated) if done else None,
                _stamp(updated) if status == "closed" else None))
            event_id += 1
            e_rows.append((event_id, tid, _stamp(created), None, "created", 1, None,
                           json.dumps({"status": {"before": None, "after": "new"}})))
            f_rows.append((event_id, title, description, tid, None, 1))
            if rng.random() < REPLY_SHARE:
                event_id += 1
                body = rng.choice(REPLIES)
                e_rows.append((event_id, tid, _stamp(updated), assignee, "comment", 1, body,
                               "{}"))
                f_rows.append((event_id, "", body, tid, event_id, 1))
        yield t_rows, e_rows, f_rows


def _add_people(db: sqlite3.Connection, *, requesters: int, staff: int,
                groups: int) -> tuple[list[int], list[int], list[int]]:
    now = _stamp(dt.datetime.now(dt.UTC))
    # Nobody logs in as these users: no password hash.
    db.executemany(
        "INSERT INTO users (username, display_name, email, role, password_hash, active, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, NULL, 1, ?, ?)",
        [(f"bench-{role}-{i}", f"Bench {role} {i}", None, role, now, now)
         for role, count in (("requester", requesters), ("technician", staff))
         for i in range(count)])
    ids = {role: [r[0] for r in db.execute(
        "SELECT id FROM users WHERE role = ? AND username LIKE 'bench-%' ORDER BY id", (role,))]
        for role in ("requester", "technician")}
    # name_key: the case-folded unique key the server writes beside each name (db/names.py).
    db.executemany("INSERT INTO groups (name, name_key, description, created_at, auto_assign) "
                   "VALUES (?, ?, '', ?, 'none')",
                   [(f"bench-group-{i}", f"bench-group-{i}", now) for i in range(groups)])
    group_ids = [r[0] for r in db.execute("SELECT id FROM groups WHERE name LIKE 'bench-%'")]
    return ids["requester"], ids["technician"], group_ids


def load(db_path: Path, n: int) -> Loaded:
    """Bulk-load ``n`` tickets into the (empty, migrated) database at ``db_path``."""
    t0 = time.perf_counter()
    rng = random.Random(SEED)
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")  # a bulk load: a crash means start over
        db.execute("BEGIN")
        requester_ids, staff_ids, group_ids = _add_people(
            db, requesters=max(10, n // 200), staff=50, groups=10)
        start = dt.datetime(2021, 1, 1)
        t_sql = ("INSERT INTO tickets (id,"  # noqa: S608 - constants only
                 " number, kind, title, description, status, impact, "
                 "urgency, priority, category_id, requester_id, assignee_id, group_id, "
                 "problem_id, merged_into_id, catalog_item_id, form, approval, approver_id, "
                 "source, resolution_code, resolution_note, created_by, created_at, "
                 "updated_at, resolved_at, closed_at) VALUES "
                 f"({', '.join('?' * 27)})")
        e_sql = ("INSERT INTO ticket_events (id, ticket_id, at, actor_id, type, public, body, "
                 "changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        # As the server does: a document's rowid is its event's id.
        f_sql = ("INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, public) "
                 "VALUES (?, ?, ?, ?, ?, ?)")
        events = docs = 0
        for t_rows, e_rows, f_rows in _ticket_rows(
                n, first_id=1, requester_ids=requester_ids, staff_ids=staff_ids,
                group_ids=group_ids, start=start, rng=rng):
            db.executemany(t_sql, t_rows)
            db.executemany(e_sql, e_rows)
            db.executemany(f_sql, f_rows)
            events += len(e_rows)
            docs += len(f_rows)
        for kind in ("incident", "service_request", "problem"):
            db.execute("INSERT OR REPLACE INTO ticket_counters (kind, last) VALUES (?, "
                       "(SELECT count(*) FROM tickets WHERE kind = ?))", (kind, kind))
        db.execute("COMMIT")
        db.execute("INSERT INTO tickets_fts (tickets_fts) VALUES ('optimize')")
        db.execute("ANALYZE")
        loaded = Loaded(
            tickets=n, events=events, fts_docs=docs,
            max_ticket_id=db.execute("SELECT max(id) FROM tickets").fetchone()[0],
            max_event_id=db.execute("SELECT max(id) FROM ticket_events").fetchone()[0],
            max_fts_rowid=db.execute("SELECT max(rowid) FROM tickets_fts").fetchone()[0],
            requester_ids=requester_ids, seconds=time.perf_counter() - t0)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return loaded
    finally:
        db.close()


def trim(db_path: Path, loaded: Loaded) -> None:
    """Remove rows an earlier run added after the load (create-rate tickets)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN")
        db.execute("DELETE FROM tickets_fts WHERE rowid > ?", (loaded.max_fts_rowid,))
        for table in ("ticket_events", "attachments"):
            db.execute(f"DELETE FROM {table} WHERE ticket_id > ?",  # noqa: S608 - constants
                       (loaded.max_ticket_id,))
        for table in ("ticket_tags", "ticket_devices", "ticket_links"):
            db.execute(f"DELETE FROM {table} WHERE ticket_id > ?",  # noqa: S608 - constants
                       (loaded.max_ticket_id,))
        db.execute("DELETE FROM tickets WHERE id > ?", (loaded.max_ticket_id,))
        db.execute("UPDATE ticket_counters SET last = "
                   "(SELECT count(*) FROM tickets WHERE tickets.kind = ticket_counters.kind)")
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


if __name__ == "__main__":  # `make bench` runs every file here; the benchmark is tickets.py
    print("bench/tickets_data.py is the data generator of bench/tickets.py; nothing to run")
