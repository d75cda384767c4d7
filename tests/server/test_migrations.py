"""Migrations build exactly the schema the code declares, and apply idempotently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
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


def test_partial_indexes_are_partial_on_this_database(empty_database_url: str) -> None:
    """Each index declared with a WHERE for this database is built with one."""
    db = Database(create_engine(empty_database_url))
    try:
        db.write_sync(migrate.upgrade)
        dialect = db.engine.dialect.name
        declared = {ix.name for table in metadata.tables.values() for ix in table.indexes
                    if ix.dialect_options[dialect]["where"] is not None}

        def partial(conn: sa.Connection) -> set[str]:
            inspector = sa.inspect(conn)
            return {ix["name"] for table in metadata.tables for ix in inspector.get_indexes(table)
                    if ix.get("dialect_options", {}).get(f"{dialect}_where") is not None}

        assert "ix_tickets_open_priority_id" in declared
        assert db.read_sync(partial) == declared
    finally:
        db.close()


def test_ticket_search_survives_a_downgrade_and_upgrade(empty_database_url: str) -> None:
    """Tickets filed before 0013_postgres_search are found after it (PostgreSQL backfills)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from server.sla.tables import sla_clocks  # noqa: F401 - tickets create SLA clocks
    from server.tickets import creation, listing, timeline
    from server.users import store as users

    db = Database(create_engine(empty_database_url))
    try:
        db.write_sync(migrate.upgrade)
        now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

        def file(conn: sa.Connection) -> None:
            uid = users.create_user(conn, username="rick", display_name="Rick",
                                    role="requester", email=None, password_hash=None, now=now)
            for title, description in (("Toner empty", "The printer says so."),
                                       ("Screen flickers", "Since the update.")):
                tid = creation.create_ticket(conn, creation.NewTicket(
                    kind="incident", title=title, description=description, impact=3,
                    urgency=3, priority=5, category_id=None, requester_id=uid,
                    assignee_id=None, group_id=None, device_ids=[], tags=[], source="api"),
                    actor_id=uid, now=now)
            timeline.add_comment(conn, tid, actor_id=uid, body="Cables replaced", public=True,
                                 now=now)
            timeline.add_comment(conn, tid, actor_id=uid, body="Vendor escalation",
                                 public=False, now=now)

        def search(conn: sa.Connection) -> list[tuple[str, str, bool]]:
            found = []
            for q in ("toner", "printer", "cable", "vendor", "flick"):
                for public_only in (False, True):
                    page, _ = listing.list_tickets(
                        conn, listing.ListFilters(q=q, public_only=public_only),
                        sort="-id", after=None, limit=10)
                    found += [(q, t.title, public_only) for t in page]
            return found

        db.write_sync(file)
        before = db.read_sync(search)
        assert ("vendor", "Screen flickers", False) in before
        assert ("vendor", "Screen flickers", True) not in before  # an internal note
        assert ("flick", "Screen flickers", True) in before  # a word being typed
        previous = ScriptDirectory.from_config(migrate._config(None)).get_revision(
            "0013_postgres_search").down_revision

        def down_and_up(conn: sa.Connection) -> None:
            command.downgrade(migrate._config(conn), str(previous))
            migrate.upgrade(conn)

        db.write_sync(down_and_up)
        assert db.read_sync(search) == before
    finally:
        db.close()


def test_stored_article_html_is_sanitized_again(empty_database_url: str) -> None:
    """Article HTML stored with an image path that leaves the attachments loses it in 0016_product."""  # noqa: E501
    from alembic import command

    from server.kb import store as kb
    from server.kb.tables import kb_articles
    from server.users import store as users

    db = Database(create_engine(empty_database_url))
    bad = ('<p>Look</p><img src="/api/v1/attachments/%2e%2e/kb/articles" alt="a">'
           '<img src="/api/v1/attachments/3" alt="b">')
    try:
        db.write_sync(lambda c: migrate.upgrade(c, "0013_postgres_search"))
        now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)

        def write(conn: sa.Connection) -> int:
            uid = users.create_user(conn, username="tina", display_name="Tina",
                                    role="technician", email=None, password_hash=None,
                                    now=now)
            aid = kb.create_article(conn, {"title": "Steps", "summary": "", "body": "Look",
                                           "visibility": "public", "status": "published"},
                                    editor_id=uid, now=now)
            conn.execute(kb_articles.update().where(kb_articles.c.id == aid)
                         .values(body_html=bad))
            return aid

        aid = db.write_sync(write)
        db.write_sync(migrate.upgrade)
        html = db.read_sync(lambda c: c.execute(sa.select(kb_articles.c.body_html).where(
            kb_articles.c.id == aid)).scalar_one())
        assert "%2e%2e" not in html and 'src="/api/v1/attachments/3"' in html, html
        db.write_sync(lambda c: command.downgrade(migrate._config(c), "0013_postgres_search"))
    finally:
        db.close()
