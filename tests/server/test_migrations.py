"""Migrations build exactly the schema the code declares, and apply idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from server.db import migrate
from server.db.database import Database, create_engine
from server.db.schema import metadata

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

FTS_SUFFIXES = ("_fts", "_fts_data", "_fts_idx", "_fts_content", "_fts_docsize", "_fts_config")


def test_migrations_match_declared_tables(empty_database_url: str) -> None:
    """After all migrations, Alembic finds no difference from server/db/schema.py."""
    db = Database(create_engine(empty_database_url))
    try:
        db.write_sync(migrate.upgrade)
        db.write_sync(migrate.upgrade)  # a second run is a no-op
        # Full-text indexes (SQLite virtual tables, a PostgreSQL table with a generated
        # tsvector) are not modelled by the declared metadata; the rest must match exactly.
        opts = {"include_name": lambda name, kind, _parent: not (
            kind == "table" and name is not None and name.endswith(FTS_SUFFIXES))}
        diff = db.read_sync(lambda c: compare_metadata(
            MigrationContext.configure(c, opts=opts), metadata))
        assert diff == []
        assert db.read_sync(migrate.current) == migrate.head()
    finally:
        db.close()


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    """The SQLite file runs in WAL mode with foreign keys enforced."""
    db = Database(create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        mode = db.read_sync(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        fks = db.read_sync(lambda c: c.exec_driver_sql("PRAGMA foreign_keys").scalar())
        assert (mode, fks) == ("wal", 1)
    finally:
        db.close()
