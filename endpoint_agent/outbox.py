"""A bounded on-disk queue of reports taken while offline (SQLite, blocking: use a thread)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("deskmate.agent.outbox")


class OutboxClosed(Exception):
    """The outbox was closed (the agent is stopping)."""


class Outbox:
    """Reports waiting for the server's acknowledgement, oldest first, at most ``limit``.

    Several threads use it (the sender, the health checks, the offline sampler, the
    tray's tickets): one lock serialises them, since a sqlite3 connection must not be
    used by two threads at once, nor closed while another thread uses it.
    """

    def __init__(self, path: Path, *, limit: int = 10_000) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._closed = False
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, "
                         "id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, body TEXT NOT NULL)")

    def put(self, kind: str, body: dict[str, Any]) -> str:
        """Queue a report; drop the oldest when full. Return the report's id."""
        return self.put_with_id(uuid.uuid4().hex, kind, body)

    def put_with_id(self, report_id: str, kind: str, body: dict[str, Any]) -> str:
        """Queue a report under an id chosen by the caller (the message's own id)."""
        with self._lock:
            self._check()
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO outbox (id, kind, body) VALUES (?, ?, ?)",
                                 (report_id, kind, json.dumps(body)))
                count = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
                if count > self.limit:
                    dropped = count - self.limit
                    self._db.execute("DELETE FROM outbox WHERE seq IN (SELECT seq FROM "
                                     "outbox ORDER BY seq LIMIT ?)", (dropped,))
                    log.warning("outbox full (%d); dropped the %d oldest reports",
                                self.limit, dropped)
        return report_id

    def peek(self, n: int) -> list[tuple[str, str, dict[str, Any]]]:
        """Return up to ``n`` oldest reports as (id, kind, body)."""
        with self._lock:
            self._check()
            rows = self._db.execute("SELECT id, kind, body FROM outbox ORDER BY seq LIMIT ?",
                                    (n,)).fetchall()
        return [(i, k, json.loads(b)) for i, k, b in rows]

    def remove(self, report_id: str) -> None:
        """Forget a report the server acknowledged."""
        with self._lock:
            self._check()
            self._db.execute("DELETE FROM outbox WHERE id = ?", (report_id,))

    def __len__(self) -> int:
        with self._lock:
            self._check()
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def _check(self) -> None:
        if self._closed:
            raise OutboxClosed("the outbox is closed")

    def close(self) -> None:
        """Close the file (waits for an operation in progress)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
