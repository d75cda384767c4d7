"""The database layer behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sys

import pytest
import sqlalchemy as sa

from server.db.database import Database, create_engine
from server.settings import SettingsError
from tests.support.postgres import Cluster

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

COUNT = sa.text("SELECT count(*) FROM marks")


def test_a_read_sees_one_snapshot(empty_database_url: str) -> None:
    """A write committed while a read runs is not seen by the read's later statements."""
    db = Database(create_engine(empty_database_url))
    try:
        db.write_sync(lambda c: c.execute(sa.text("CREATE TABLE marks (n integer)")))

        def read(conn: sa.Connection) -> tuple[int, int]:
            before = conn.execute(COUNT).scalar_one()
            db.write_sync(lambda c: c.execute(sa.text("INSERT INTO marks (n) VALUES (1)")))
            return before, conn.execute(COUNT).scalar_one()

        assert db.read_sync(read) == (0, 0)
        assert db.read_sync(lambda c: c.execute(COUNT).scalar_one()) == 1
    finally:
        db.close()


def test_a_failed_write_keeps_nothing_and_the_next_one_runs(empty_database_url: str) -> None:
    """A write that raises rolls back all of its statements; the connection stays usable."""
    db = Database(create_engine(empty_database_url))
    try:
        db.write_sync(lambda c: c.execute(sa.text("CREATE TABLE marks (n integer UNIQUE)")))

        def twice(conn: sa.Connection) -> None:
            conn.execute(sa.text("INSERT INTO marks (n) VALUES (1)"))
            conn.execute(sa.text("INSERT INTO marks (n) VALUES (1)"))

        with pytest.raises(sa.exc.IntegrityError):
            db.write_sync(twice)
        db.write_sync(lambda c: c.execute(sa.text("INSERT INTO marks (n) VALUES (2)")))
        assert db.read_sync(lambda c: c.execute(
            sa.text("SELECT n FROM marks")).scalars().all()) == [2]
    finally:
        db.close()


def test_a_plain_postgresql_url_uses_psycopg(postgres: Cluster) -> None:
    """A postgresql:// URL that names no driver connects with psycopg 3."""
    with postgres.database() as url:
        engine = create_engine(url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            with engine.connect() as conn:
                assert conn.dialect.driver == "psycopg"
                assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()


def test_a_missing_driver_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg a PostgreSQL URL is refused with what to install, not a traceback."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(SettingsError, match=r"pip install 'deskmate\[postgres\]'"):
        create_engine("postgresql://deskmate@/deskmate")
