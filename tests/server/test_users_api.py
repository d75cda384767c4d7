"""Users and groups through the API: create, update, paginate, memberships, last admin."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.db.schema import audit_events
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def test_create_user_then_log_in(server: RunningServer, admin: Client) -> None:
    """An admin-created user with a password can log in with it."""
    created = await admin.post("/api/v1/users", json={
        "username": "nina", "display_name": "Nina N", "role": "technician",
        "email": "nina@example.org", "password": "nina-password"})
    assert created.status == 201
    assert created.json["role"] == "technician"
    assert "password" not in created.body.decode() and "hash" not in created.body.decode()
    session = await server.login("nina", "nina-password")
    assert session.user["display_name"] == "Nina N"


async def test_duplicate_username_conflicts(server: RunningServer, admin: Client) -> None:
    """A taken user name gets 409 conflict."""
    await server.create_user(admin, "dup", "requester")
    again = await admin.post("/api/v1/users", json={
        "username": "dup", "display_name": "Dup", "role": "requester"})
    assert again.status == 409
    assert again.error_code == "conflict"


async def test_user_without_password_cannot_log_in(server: RunningServer,
                                                   admin: Client) -> None:
    """A user created without a password is refused at login until one is set."""
    created = await admin.post("/api/v1/users", json={
        "username": "nopw", "display_name": "No PW", "role": "requester"})
    assert created.status == 201
    resp = await server.client().post("/api/v1/auth/login",
                                      json={"username": "nopw", "password": "anything-1"})
    assert resp.status == 401
    await admin.patch(f"/api/v1/users/{created.json['id']}", json={"password": "now-set-pw"})
    assert (await server.login("nopw", "now-set-pw")).user["username"] == "nopw"


async def test_last_admin_cannot_be_demoted_or_deactivated(admin: Client) -> None:
    """The only active admin can neither lose the role nor be deactivated."""
    me = admin.user["id"]
    demote = await admin.patch(f"/api/v1/users/{me}", json={"role": "technician"})
    assert demote.status == 409
    off = await admin.patch(f"/api/v1/users/{me}", json={"active": False})
    assert off.status == 409
    assert (await admin.get(f"/api/v1/users/{me}")).json["role"] == "admin"


async def test_role_change_ends_sessions(server: RunningServer, admin: Client) -> None:
    """Changing a user's role logs that user out so the new role applies at once."""
    user = await server.create_user(admin, "promo", "requester")
    session = await server.login("promo")
    await admin.patch(f"/api/v1/users/{user['id']}", json={"role": "technician"})
    assert (await session.get("/api/v1/auth/session")).status == 401
    again = await server.login("promo")
    assert again.user["role"] == "technician"


async def test_user_list_filters_and_search(server: RunningServer, admin: Client) -> None:
    """The user list filters by role and searches name, display name and e-mail."""
    await server.create_user(admin, "zed.tech", "technician")
    await server.create_user(admin, "amy", "requester")
    techs = await admin.get("/api/v1/users?role=technician")
    assert [u["username"] for u in techs.json["items"]] == ["zed.tech"]
    found = await admin.get("/api/v1/users?q=AMY")
    assert [u["username"] for u in found.json["items"]] == ["amy"]
    wildcard = await admin.get("/api/v1/users?q=%25")
    assert wildcard.json["items"] == []


async def test_keyset_pages_are_stable_under_inserts(server: RunningServer,
                                                     admin: Client) -> None:
    """Walking pages while users are added neither repeats nor skips earlier users."""
    for i in range(5):
        await server.create_user(admin, f"user{i}", "requester")
    seen: list[int] = []
    page = await admin.get("/api/v1/users?limit=2")
    inserted = 0
    while True:
        seen.extend(u["id"] for u in page.json["items"])
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
        if inserted < 2:
            await server.create_user(admin, f"late{inserted}", "requester")
            inserted += 1
        page = await admin.get(f"/api/v1/users?limit=2&cursor={cursor}")
    assert seen == sorted(set(seen))
    assert len(seen) == 1 + 5 + 2


async def test_page_size_is_clamped(server: RunningServer, admin: Client) -> None:
    """A limit over page_size_max is clamped rather than honoured."""
    resp = await admin.get("/api/v1/users?limit=1000")
    assert resp.status == 200
    assert len(resp.json["items"]) <= server.settings.page_size_max


async def test_group_lifecycle_with_members(server: RunningServer, admin: Client) -> None:
    """Groups are created, renamed, given members, and deleted, all audited."""
    tech = await server.create_user(admin, "gary", "technician")
    group = await admin.post("/api/v1/groups", json={"name": "Service Desk",
                                                     "description": "first line"})
    assert group.status == 201
    gid = group.json["id"]
    dup = await admin.post("/api/v1/groups", json={"name": "service desk"})
    assert dup.status == 409
    added = await admin.put(f"/api/v1/groups/{gid}/members/{tech['id']}")
    assert added.json["member_ids"] == [tech["id"]]
    again = await admin.put(f"/api/v1/groups/{gid}/members/{tech['id']}")
    assert again.status == 200 and again.json["member_ids"] == [tech["id"]]
    user = await admin.get(f"/api/v1/users/{tech['id']}")
    assert user.json["group_ids"] == [gid]
    renamed = await admin.patch(f"/api/v1/groups/{gid}", json={"name": "Desk L1"})
    assert renamed.json["name"] == "Desk L1"
    blank = await admin.patch(f"/api/v1/groups/{gid}", json={"name": "   "})
    assert blank.status == 422
    removed = await admin.delete(f"/api/v1/groups/{gid}/members/{tech['id']}")
    assert removed.status == 204
    assert (await admin.delete(f"/api/v1/groups/{gid}/members/{tech['id']}")).status == 404
    assert (await admin.delete(f"/api/v1/groups/{gid}")).status == 204
    assert (await admin.get(f"/api/v1/groups/{gid}")).status == 404
    actions = await server.db.read(lambda c: [r.action for r in c.execute(
        sa.select(audit_events.c.action).where(audit_events.c.target_type == "group")
        .order_by(audit_events.c.id))])
    assert actions == ["group.create", "group.member_add", "group.update",
                       "group.member_remove", "group.delete"]


async def test_member_of_missing_group_or_user_is_not_found(server: RunningServer,
                                                            admin: Client) -> None:
    """Adding a missing user or to a missing group is 404 and stores nothing."""
    group = await admin.post("/api/v1/groups", json={"name": "G"})
    assert (await admin.put(f"/api/v1/groups/{group.json['id']}/members/4242")).status == 404
    assert (await admin.put(f"/api/v1/groups/4242/members/{admin.user['id']}")).status == 404


async def test_concurrent_writes_all_land(server: RunningServer, admin: Client) -> None:
    """Many simultaneous creates go through the single writer without loss."""
    results = await asyncio.gather(*(
        admin.post("/api/v1/groups", json={"name": f"team-{i}"}) for i in range(30)))
    assert [r.status for r in results] == [201] * 30
    listed = await admin.get("/api/v1/groups?limit=100")
    assert len(listed.json["items"]) == 30


async def test_user_list_by_group_and_ids(server: RunningServer, admin: Client) -> None:
    """Users can be listed by group membership or by a list of ids."""
    a = await server.create_user(admin, "gina", "technician")
    b = await server.create_user(admin, "hugo", "technician")
    group = (await admin.post("/api/v1/groups", json={"name": "L2"})).json
    await admin.put(f"/api/v1/groups/{group['id']}/members/{b['id']}")
    members = await admin.get(f"/api/v1/users?group_id={group['id']}")
    assert [u["username"] for u in members.json["items"]] == ["hugo"]
    picked = await admin.get(f"/api/v1/users?ids={a['id']},{b['id']}")
    assert [u["username"] for u in picked.json["items"]] == ["gina", "hugo"]
    bad = await admin.get("/api/v1/users?ids=1;DROP")
    assert bad.status == 422
