"""Unique names compare case-folded (Unicode), answer 409, and hold in the database too."""

from __future__ import annotations

from typing import Any

import pytest

from server.db.names import fold
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

NAME = "Ärger-x"
# The same name to a person: repeated, other case, decomposed umlaut, full width, padded.
SAME = [NAME, "ärger-x", "ÄRGER-X", "A\u0308rger-x", "\uff21\u0308rger-x", f"  {NAME} "]

OFFICE = {"tz": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}}
DISK = {"kind": "disk", "target": "/", "warning": 80, "critical": 90}


async def _policy_body(admin: Client) -> dict[str, Any]:
    return {"calendar_id": 1, "targets": {"first_response": 30, "resolution": 240}}


# path, extra body fields, path to rename through (None: no rename)
RESOURCES: list[tuple[str, dict[str, Any], bool]] = [
    ("/api/v1/groups", {}, True),
    ("/api/v1/categories", {}, False),
    ("/api/v1/kb/categories", {}, False),
    ("/api/v1/sla/calendars", OFFICE, True),
    ("/api/v1/sla/policies", {"calendar_id": 1,
                              "targets": {"first_response": 30, "resolution": 240}}, True),
    ("/api/v1/catalog", {}, False),
    ("/api/v1/health-checks", DISK, True),
]


def test_fold_is_nfkc_casefold() -> None:
    """fold() treats case, compatibility forms and combining marks as the same name."""
    assert len({fold(n) for n in SAME}) == 1
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("ﬁle") == "file"
    assert fold("Ops") != fold("Ops 2")


@pytest.mark.parametrize(("path", "extra", "renames"), RESOURCES,
                         ids=[r[0].removeprefix("/api/v1/") for r in RESOURCES])
async def test_names_are_unique_case_folded(
        server: RunningServer, admin: Client, path: str, extra: dict[str, Any],
        renames: bool) -> None:
    """A name equal to a stored one after case folding is a 409, on create and rename."""
    first = await admin.post(path, json={**extra, "name": NAME})
    assert first.status == 201, first.body
    before = await snapshot(server)
    for name in SAME:
        again = await admin.post(path, json={**extra, "name": name})
        assert again.status == 409, (name, again.status, again.body)
        assert again.error_code == "conflict"
    assert await snapshot(server) == before
    if renames:
        other = await admin.post(path, json={**extra, "name": "Other"})
        assert other.status == 201, other.body
        renamed = await admin.patch(f"{path}/{other.json['id']}", json={"name": "ÄRGER-X"})
        assert renamed.status == 409, renamed.body
        assert renamed.error_code == "conflict"
        ok = await admin.patch(f"{path}/{other.json['id']}", json={"name": "Other 2"})
        assert ok.status == 200, ok.body
        back = await admin.patch(f"{path}/{other.json['id']}", json={"name": "OTHER"})
        assert back.status == 200, back.body  # free again once renamed


async def test_same_name_under_another_parent_is_allowed(admin: Client) -> None:
    """Categories are unique among siblings: the same name may sit under another parent."""
    for path in ("/api/v1/categories", "/api/v1/kb/categories"):
        a = await admin.post(path, json={"name": "Hardware"})
        b = await admin.post(path, json={"name": "Software"})
        assert a.status == b.status == 201
        for parent in (a.json["id"], b.json["id"]):
            sub = await admin.post(path, json={"name": "Printers", "parent_id": parent})
            assert sub.status == 201, sub.body
        dup = await admin.post(path, json={"name": "PRINTERS", "parent_id": a.json["id"]})
        assert dup.status == 409, dup.body


async def test_a_duplicate_past_the_check_is_a_409_not_a_500(
        server: RunningServer, admin: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """When two writers race past the name check, the database's unique index says 409."""
    from server.sla import store as sla_store
    from server.users import store as user_store

    first = await admin.post("/api/v1/groups", json={"name": NAME})
    assert first.status == 201
    cal = await admin.post("/api/v1/sla/calendars", json={**OFFICE, "name": NAME})
    assert cal.status == 201
    # The other writer's row lands between our check and our insert: the check says free.
    monkeypatch.setattr(user_store, "_name_taken", lambda *_a, **_k: False)
    monkeypatch.setattr(sla_store, "_name_taken", lambda *_a, **_k: None)
    for path, body in (("/api/v1/groups", {"name": "ärger-X"}),
                       ("/api/v1/sla/calendars", {**OFFICE, "name": "ärger-X"})):
        resp = await admin.post(path, json=body)
        assert resp.status == 409, (path, resp.body)
        assert resp.error_code == "conflict"


async def test_tags_match_case_folded(admin: Client) -> None:
    """A tag is stored case-folded and found by any spelling of it."""
    made = await admin.post("/api/v1/tickets", json={"title": "Street sign", "tags": ["Straße"]})
    assert made.status == 201, made.body
    assert made.json["tags"] == ["strasse"]
    for spelling in ("STRASSE", "straße", "Strasse"):
        found = await admin.get(f"/api/v1/tickets?tag={spelling}")
        assert [t["id"] for t in found.json["items"]] == [made.json["id"]], spelling


def test_migration_keys_names_that_were_duplicates(empty_database_url: str) -> None:
    """Rows stored before 0014 that fold alike keep their names; the first keeps the key."""
    import datetime as dt

    import sqlalchemy as sa

    from server.db import migrate
    from server.db.database import Database, create_engine
    from server.errors import Conflict
    from server.users import store as users

    db = Database(create_engine(empty_database_url))
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    try:
        db.write_sync(lambda c: migrate.upgrade(c, "0013_postgres_search"))

        def old_rows(conn: sa.Connection) -> None:
            for name in ("Ops", "ops", "ÄRGER"):
                conn.execute(sa.text("INSERT INTO groups (name, description, created_at, "
                                     "auto_assign) VALUES (:n, '', :t, 'none')"),
                             {"n": name, "t": now.replace(tzinfo=None)})
            for name in ("Printers", "PRINTERS"):
                conn.execute(sa.text("INSERT INTO categories (name) VALUES (:n)"), {"n": name})

        db.write_sync(old_rows)
        db.write_sync(migrate.upgrade)
        keys = db.read_sync(lambda c: c.execute(sa.text(
            "SELECT name, name_key FROM groups ORDER BY id")).all())
        assert [tuple(k) for k in keys] == [("Ops", "ops"), ("ops", "ops#2"),
                                            ("ÄRGER", "ärger")]
        cats = db.read_sync(lambda c: c.execute(sa.text(
            "SELECT name_key FROM categories ORDER BY id")).scalars().all())
        assert cats == ["printers", "printers#2"]
        with pytest.raises(Conflict):
            db.write_sync(lambda c: users.create_group(c, name="OPS", description="",
                                                       now=now))
    finally:
        db.close()
