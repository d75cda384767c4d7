"""Database access off the event loop: reads on a thread pool, writes through one writer.

SQLAlchemy Core with a synchronous engine runs on both SQLite and PostgreSQL. All
writes go through a single writer thread so SQLite never sees two writers fighting for
its lock (Datasette's design); reads run on a small pool of threads, which WAL mode lets
proceed while a write is in progress. Callers pass a function that takes a
:class:`sqlalchemy.Connection`; it runs in a transaction that commits when it returns.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from server.settings import SettingsError

T = TypeVar("T")


def create_engine(url: str, *, synchronous: str = "FULL", pool_size: int = 5) -> Engine:
    """Create an engine; for SQLite, turn on WAL, foreign keys and a busy timeout.

    Raises:
        SettingsError: a PostgreSQL URL without the driver installed.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is off so SQLAlchemy's BEGIN is real
            # (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#pysqlite-serializable).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front; reads are unaffected under WAL.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("writer") else "BEGIN")

        return engine
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # A plain postgresql:// URL means psycopg 3, the driver of the [postgres] extra
        # (SQLAlchemy would pick psycopg2).
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg":
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise SettingsError("database_url: PostgreSQL needs the psycopg driver: "
                                "pip install 'deskmate[postgres]'") from exc
    # PostgreSQL: reads use REPEATABLE READ (see Database._run_read); writes keep READ
    # COMMITTED, so a write from another process (the CLI) waits for a row lock instead
    # of failing with a serialization error.
    return sa.create_engine(parsed, pool_size=pool_size, pool_pre_ping=True)


BEFORE_COMMIT = "before_commit"


def _before_commit(conn: Connection) -> None:
    # Work that must commit with the transaction's own writes but run after them (the
    # report roll-ups read the SLA clocks a ticket change left): domain code registers a
    # callable under a name in conn.info["before_commit"]; each runs once, in order.
    hooks: dict[str, Callable[[Connection], None]] = conn.info.get(BEFORE_COMMIT, {})
    while hooks:
        name = next(iter(hooks))
        hooks.pop(name)(conn)


class Database:
    """Run SQLAlchemy work on threads so the event loop never blocks."""

    def __init__(self, engine: Engine, *, readers: int = 4) -> None:
        self.engine = engine
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="db-read")

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the backend is SQLite."""
        return self.engine.dialect.name == "sqlite"

    def _run_write(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            conn.info["writer"] = True
            try:
                with conn.begin():
                    result = fn(conn)
                    _before_commit(conn)
                    return result
            finally:
                conn.info.pop("writer", None)
                conn.info.pop(BEFORE_COMMIT, None)

    def _run_read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                # One snapshot for the whole read, as a SQLite read transaction in WAL mode
                # has: under PostgreSQL's default READ COMMITTED each statement would see
                # the writes committed before it (a page and its count could disagree).
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return fn(conn)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a write transaction on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, functools.partial(self._run_write, fn))

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a read transaction on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, functools.partial(self._run_read, fn))

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a write transaction on this thread (CLI and start-up)."""
        return self._run_write(fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a read transaction on this thread (CLI)."""
        return self._run_read(fn)

    async def ping(self) -> bool:
        """Tell whether the database answers a trivial query."""
        return bool(await self.read(lambda c: c.execute(sa.text("SELECT 1")).scalar()))

    def close(self) -> None:
        """Finish queued work and dispose of the connections."""
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()


def is_unique_violation(exc: BaseException) -> bool:
    """Return True if ``exc`` is the database refusing a duplicate of a unique key."""
    if not isinstance(exc, sa.exc.IntegrityError):
        return False
    # PostgreSQL: SQLSTATE 23505; SQLite: "UNIQUE constraint failed: ..." (no code).
    if getattr(exc.orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(exc.orig)
