"""Group commit on the writer: waiting writes share one transaction, each is answered only
after it is durable, and a failing one takes only itself down."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.db.database import BEFORE_COMMIT, Database, create_engine

pytestmark = pytest.mark.all_databases  # run on SQLite and PostgreSQL

ROWS = sa.text("SELECT n FROM marks ORDER BY n")


@pytest.fixture
async def db(empty_database_url: str) -> AsyncIterator[Database]:
    database = await asyncio.to_thread(lambda: Database(create_engine(empty_database_url)))
    await database.write(lambda c: c.execute(sa.text("CREATE TABLE marks (n integer UNIQUE)")))
    yield database
    await asyncio.to_thread(database.close)


def insert(n: int) -> Callable[[sa.Connection], int]:
    def run(conn: sa.Connection) -> int:
        conn.execute(sa.text("INSERT INTO marks (n) VALUES (:n)"), {"n": n})
        return n
    return run


async def queued_behind_a_held_writer(db: Database,
                                      jobs: list[Callable[[sa.Connection], Any]]) -> list[Any]:
    """Hold the writer in a first job, queue ``jobs`` behind it, let go; return outcomes."""
    started, release = threading.Event(), threading.Event()

    def hold(conn: sa.Connection) -> None:
        started.set()
        release.wait(30)

    first = asyncio.ensure_future(db.write(hold))
    assert await asyncio.to_thread(started.wait, 30)
    tasks = [asyncio.ensure_future(db.write(job)) for job in jobs]
    await asyncio.sleep(0)  # every task has queued its job
    assert not any(t.done() for t in tasks)
    release.set()
    await first
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_failing_write_rolls_back_alone_and_the_others_commit_together(
        db: Database) -> None:
    """Waiting writes commit in one transaction; the one that fails gets its error alone."""
    groups = db.groups
    outcomes = await queued_behind_a_held_writer(db, [insert(1), insert(2), insert(1),
                                                      insert(3)])
    assert outcomes[:2] == [1, 2] and outcomes[3] == 3
    assert isinstance(outcomes[2], sa.exc.IntegrityError)
    assert db.groups - groups == 2  # the held job, then the four together
    assert await db.read(lambda c: c.execute(ROWS).scalars().all()) == [1, 2, 3]


async def test_a_failed_commit_acknowledges_nothing(db: Database) -> None:
    """When the group's commit fails, every caller gets the error and no row is kept."""
    failing = {"on": False}

    def crash(conn: sa.Connection) -> None:
        if failing["on"]:
            failing["on"] = False
            raise OSError("disk gone")

    def armed(n: int) -> Callable[[sa.Connection], int]:
        def run(conn: sa.Connection) -> int:
            failing["on"] = True  # the commit of this job's transaction fails once
            return insert(n)(conn)
        return run

    event.listen(db.engine, "commit", crash)
    try:
        outcomes = await queued_behind_a_held_writer(db, [armed(1), armed(2)])
    finally:
        event.remove(db.engine, "commit", crash)
    assert all(isinstance(o, OSError) for o in outcomes), outcomes
    assert await db.read(lambda c: c.execute(ROWS).scalars().all()) == []
    assert await db.write(insert(4)) == 4  # the writer goes on


async def test_a_failing_before_commit_hook_takes_only_its_own_write_down(
        db: Database) -> None:
    """A hook that fails at the group's end: the group is retried one write at a time."""

    def hooked(conn: sa.Connection) -> int:
        conn.execute(sa.text("INSERT INTO marks (n) VALUES (2)"))

        def fail(_conn: sa.Connection) -> None:
            raise ValueError("roll-up failed")

        conn.info.setdefault(BEFORE_COMMIT, {})["test"] = fail
        return 2

    outcomes = await queued_behind_a_held_writer(db, [insert(1), hooked, insert(3)])
    assert outcomes[0] == 1 and outcomes[2] == 3
    assert isinstance(outcomes[1], ValueError)
    assert await db.read(lambda c: c.execute(ROWS).scalars().all()) == [1, 3]
