"""Database access off the event loop: reads on a thread pool, writes through one writer.

SQLAlchemy Core with a synchronous engine runs on both SQLite and PostgreSQL. All
writes go through a single writer thread so SQLite never sees two writers fighting for
its lock (Datasette's design); reads run on a small pool of threads, which WAL mode lets
proceed while a write is in progress. Callers pass a function that takes a
:class:`sqlalchemy.Connection`; it runs in a transaction that commits when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
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
AFTER_COMMIT = "after_commit"
GROUP_MAX = 64  # write jobs committed together at most


def _before_commit(conn: Connection) -> None:
    # Work that must commit with the transaction's own writes but run after them (the
    # report roll-ups read the SLA clocks a ticket change left): domain code registers a
    # callable under a name in conn.info["before_commit"]; each runs once, in order. In a
    # group commit they run once for the whole group, so a hook must also tolerate marks
    # left by a job that was rolled back to its savepoint (it reads the current state).
    hooks: dict[str, Callable[[Connection], None]] = conn.info.get(BEFORE_COMMIT, {})
    while hooks:
        name = next(iter(hooks))
        hooks.pop(name)(conn)


def _after_commit(hooks: dict[str, Callable[[], None]]) -> None:
    # Run after the commit succeeded and before any caller hears of it (the identity
    # cache forgets what the transaction changed).
    for hook in hooks.values():
        hook()


def on_commit(conn: Connection, name: str, hook: Callable[[], None]) -> None:
    """Run ``hook`` once after the current write transaction commits, before its callers
    are answered (nothing runs if it rolls back)."""
    conn.info.setdefault(AFTER_COMMIT, {})[name] = hook


def _open_write(conn: Connection) -> set[str]:
    # conn.info outlives the transaction (it belongs to the pooled connection): note what
    # it held, so whatever the transaction left (hooks, roll-up marks) goes with it.
    kept = set(conn.info)
    conn.info["writer"] = True
    return kept


def _close_write(conn: Connection, kept: set[str]) -> None:
    for key in set(conn.info) - kept:
        del conn.info[key]


def _commit(conn: Connection, trans: Any) -> None:
    try:
        trans.commit()
    except BaseException:
        # A commit that failed may leave the driver's transaction open (or its outcome
        # unknown): the connection is thrown away, never reused.
        with contextlib.suppress(Exception):
            conn.invalidate()
            trans.rollback()  # of the invalidated connection: only SQLAlchemy's state
        raise


class _Job:
    """One write waiting for the writer thread, and its outcome."""

    __slots__ = ("error", "fn", "future", "loop", "result")

    def __init__(self, fn: Callable[[Connection], Any], future: asyncio.Future[Any],
                 loop: asyncio.AbstractEventLoop) -> None:
        self.fn = fn
        self.future = future
        self.loop = loop
        self.result: Any = None
        self.error: BaseException | None = None


def _settle(jobs: list[_Job]) -> None:
    # On the event loop: answer the callers (one wake-up for the whole group).
    for job in jobs:
        if job.future.done():  # the caller went away (cancelled)
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class Database:
    """Run SQLAlchemy work on threads so the event loop never blocks.

    Writes go through one writer thread with **group commit**: the jobs waiting when the
    writer gets free run in one transaction, each in its own savepoint, and commit
    together (one fsync). A job that raises is rolled back to its savepoint and only its
    caller gets the error; every caller is answered only after the commit.
    """

    def __init__(self, engine: Engine, *, readers: int = 4,
                 group_max: int = GROUP_MAX) -> None:
        self.engine = engine
        self.group_max = max(1, group_max)
        self.groups = 0  # transactions the writer thread committed or tried (metrics, tests)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="db-writer",
                                        daemon=True)
        self._writer_started = False
        self._closed = False
        self._start_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="db-read")

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the backend is SQLite."""
        return self.engine.dialect.name == "sqlite"

    def _run_write(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            kept = _open_write(conn)
            try:
                trans = conn.begin()
                try:
                    result = fn(conn)
                    _before_commit(conn)
                except BaseException:
                    trans.rollback()
                    raise
                _commit(conn, trans)
                after = conn.info.pop(AFTER_COMMIT, {})
            finally:
                _close_write(conn, kept)
        _after_commit(after)
        return result

    def _run_group(self, jobs: list[_Job]) -> None:
        """Run several jobs in one transaction, each in a savepoint; set their outcomes.

        If the group fails before its commit is sent (a before-commit hook, a savepoint
        that cannot be rolled back), the transaction is rolled back and each job that
        had not failed runs again alone. If the commit itself fails, every job gets that
        error: nothing was acknowledged, and a commit of unknown outcome is not retried.
        """
        self.groups += 1
        committing = False
        after: dict[str, Callable[[], None]] = {}
        try:
            with self.engine.connect() as conn:
                kept = _open_write(conn)
                try:
                    trans = conn.begin()
                    for job in jobs:
                        savepoint = conn.begin_nested()
                        try:
                            job.result = job.fn(conn)
                        except Exception as exc:
                            job.error = exc
                            savepoint.rollback()
                        else:
                            savepoint.commit()
                    _before_commit(conn)
                    committing = True
                    _commit(conn, trans)
                    after = conn.info.pop(AFTER_COMMIT, {})
                finally:
                    _close_write(conn, kept)
        except BaseException as exc:
            if committing or not isinstance(exc, Exception):
                for job in jobs:
                    job.result, job.error = None, exc
                return
            for job in jobs:
                if job.error is None:
                    self._run_alone(job)
            return
        _after_commit(after)

    def _run_alone(self, job: _Job) -> None:
        self.groups += 1
        try:
            job.result = self._run_write(job.fn)
        except BaseException as exc:  # the caller gets whatever it raised
            job.error = exc

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            stop = False
            while len(jobs) < self.group_max:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            live = [j for j in jobs if not j.future.cancelled()]
            if len(live) == 1:
                self._run_alone(live[0])
            elif live:
                self._run_group(live)
            by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
            for job in live:
                by_loop.setdefault(job.loop, []).append(job)
            for loop, done in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed
                    loop.call_soon_threadsafe(_settle, done)
            if stop:
                return

    def _start_writer(self) -> None:
        with self._start_lock:
            if not self._writer_started:
                self._writer_started = True
                self._writer.start()

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
        """Run ``fn(conn)`` in a write transaction on the writer thread; return once it
        is committed (possibly together with other waiting writes, see the class)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._closed:
            raise RuntimeError("the database is closed")
        if not self._writer_started:
            self._start_writer()
        self._queue.put(_Job(fn, future, loop))
        return await future

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
        self._closed = True
        if self._writer_started:
            self._queue.put(None)
            self._writer.join()
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
