"""Who a session cookie or an API token belongs to, remembered for a few seconds.

Resolving a caller is a database read on every request; the cache answers most of them
from memory. It is emptied by every committed write that could change an answer: a
deleted session or token (logout, revocation, password change, deactivation), a change
to a user (role, activity, name, language) or to a second factor. Those writes are
recognised by their SQL as the writer runs them (:func:`watch`), and the cache is emptied
after their commit and before their caller is answered. A lookup that started before such
a commit is not stored (the cache's generation changed meanwhile). Changes made by
another process (the CLI, another node) are seen within ``identity_cache_seconds``.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from server.auth.identity import Identity
from server.db.database import on_commit

MAX_ENTRIES = 20_000  # emptied when full: a cache, not a store
# Writes that may change who a credential belongs to. Inserts of sessions and tokens do
# not: an unknown secret is never cached.
_WRITE = re.compile(r"\s*(update|delete\s+from|insert\s+into)\s+\"?(\w+)", re.IGNORECASE)
_WATCHED = {"users": "all", "user_totp": "all",
            "auth_sessions": "change", "api_tokens": "change"}
# The execution option of a write that only records a credential's use (once a minute
# per credential): it changes nobody's identity, so it leaves the cache alone.
STAMP = "identity_stamp"


@dataclass
class Entry:
    """A resolved credential: who, and when it was last recorded as used."""

    identity: Identity
    seen: dt.datetime | None


class IdentityCache:
    """Credentials resolved lately, by kind and secret digest; emptied on relevant writes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.generation = 0
        self.hits = 0
        self._entries: dict[str, tuple[float, Entry]] = {}
        self._lock = threading.Lock()  # clear() runs on the writer thread

    @property
    def enabled(self) -> bool:
        """Tell whether anything is cached at all (identity_cache_seconds > 0)."""
        return self.seconds > 0

    def get(self, key: str) -> Entry | None:
        """Return the entry for ``key`` if it is fresh enough."""
        found = self._entries.get(key)
        if found is None:
            return None
        born, entry = found
        if time.monotonic() - born >= self.seconds:
            self._entries.pop(key, None)
            return None
        self.hits += 1
        return entry

    def put(self, key: str, entry: Entry, generation: int) -> None:
        """Remember ``entry`` unless the cache was emptied since ``generation`` was read."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), entry)

    def drop(self, key: str) -> None:
        """Forget one credential (expired or idle)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything; lookups in flight are not stored."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def changes_identity(statement: str) -> bool:
    """Tell whether a SQL write may change what a credential resolves to."""
    match = _WRITE.match(statement)
    if match is None:
        return False
    verb, table = match.group(1).lower(), match.group(2).lower()
    scope = _WATCHED.get(table)
    return scope is not None and not (scope == "change" and verb.startswith("insert"))


def watch(engine: Engine, cache: IdentityCache) -> Any:
    """Empty ``cache`` after every committed write that :func:`changes_identity`; return
    the listener (for :func:`unwatch`)."""

    def listener(conn: Connection, _cursor: Any, statement: str, _params: Any,
                 context: Any, _many: bool) -> None:
        if (conn.info.get("writer") and changes_identity(statement)
                and not context.execution_options.get(STAMP)):
            on_commit(conn, "identity_cache", cache.clear)

    event.listen(engine, "before_cursor_execute", listener)
    return listener


def unwatch(engine: Engine, listener: Any) -> None:
    """Remove a listener installed by :func:`watch`."""
    event.remove(engine, "before_cursor_execute", listener)
