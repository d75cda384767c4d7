"""LDAP directories against a real OpenLDAP (slapd over LDAPS with a test CA): sign-in by
bind, refusals with clear messages, scheduled-style sync with nested groups, preview,
and a second sync that writes nothing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import audit_events, users
from server.directory.tables import directory_accounts
from server.tls import ensure_own_ca
from tests.support import slapd
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer
from tests.support.slapd import Group, Person, Slapd

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

PEOPLE = [Person(f"u{i:03d}", f"User {i:03d}", f"u{i:03d}@example.test",
                 phone=f"+62 21 {i:04d}", department="IT" if i < 50 else "Sales",
                 manager="u000" if i else "", locked=i == 299) for i in range(300)]
GROUPS = [
    Group("helpdesk", people=tuple(f"u{i:03d}" for i in range(10, 20))),
    Group("it-staff", people=("u002",), groups=("helpdesk",)),
    Group("it-admins", people=("u001",)),
    Group("sales", people=tuple(f"u{i:03d}" for i in range(100, 200))),
    Group("everyone", groups=("it-staff", "sales", "everyone")),  # a cycle, on purpose
]


@pytest.fixture
def ldap() -> Iterator[Slapd]:
    """A real slapd with 300 people (u299 locked) and nested groups."""
    with slapd.running_slapd(PEOPLE, GROUPS) as server:
        yield server


def directory_body(ldap: Slapd, it_group: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "corp", "kind": "openldap", "urls": [ldap.ldaps_url], "security": "ldaps",
        "ca_pem": ldap.ca_pem, "bind_dn": slapd.SERVICE_DN,
        "bind_password": slapd.SERVICE_PASSWORD, "user_base": slapd.PEOPLE,
        "user_filter": "(objectClass=inetOrgPerson)",
        "disabled_filter": "(pwdAccountLockedTime=*)",
        "attributes": {"login": "uid", "display_name": "cn", "mail": "mail",
                       "phone": "telephoneNumber", "department": "departmentNumber",
                       "manager": "manager", "external_id": "entryUUID"},
        "group_base": slapd.GROUPS, "nested_groups": "client",
        "group_mappings": [
            {"group_dn": slapd.group_dn("it-staff"), "role": "technician",
             "deskmate_group_id": it_group},
            {"group_dn": slapd.group_dn("it-admins"), "role": "admin"}],
        "sync_minutes": 0, "page_size": 50,
    }
    body.update(extra)
    return body


@pytest.fixture
async def corp(server: RunningServer, admin: Client, ldap: Slapd) -> AsyncIterator[int]:
    """The directory record of the test slapd (and a Deskmate group "IT" mapped to)."""
    group = await admin.post("/api/v1/groups", json={"name": "IT", "description": ""})
    assert group.status == 201, group.body
    resp = await admin.post("/api/v1/directories",
                            json=directory_body(ldap, it_group=group.json["id"]))
    assert resp.status == 201, resp.body
    yield resp.json["id"]


async def count_rows(server: RunningServer) -> tuple[int, int]:
    def run(conn: sa.Connection) -> tuple[int, int]:
        return (conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(audit_events))
                .scalar_one())
    return await server.db.read(run)


async def login(server: RunningServer, username: str, password: str) -> Any:
    return await server.client().post("/api/v1/auth/login",
                                      json={"username": username, "password": password})


async def test_the_bind_password_is_write_only(
        server: RunningServer, admin: Client, corp: int) -> None:
    """The API says whether a bind password is set, never the password."""
    resp = await admin.get(f"/api/v1/directories/{corp}")
    assert resp.json["bind_password_set"] is True
    assert slapd.SERVICE_PASSWORD not in resp.body.decode()


async def test_preview_writes_nothing_and_sync_maps_nested_groups(
        server: RunningServer, admin: Client, corp: int) -> None:
    """Preview reports the changes without writing; the sync creates the users with
    roles and groups from nested groups, and a second sync writes nothing."""
    before = await count_rows(server)
    preview = await admin.post(f"/api/v1/directories/{corp}/preview")
    assert preview.status == 200, preview.body
    assert (preview.json["preview"], preview.json["created"]) == (True, 299)  # u299 locked
    assert await count_rows(server) == before
    done = await admin.post(f"/api/v1/directories/{corp}/sync")
    assert done.status == 200, done.body
    assert done.json["created"] == 299 and done.json["writes"] > 0
    page = await admin.get("/api/v1/users?q=u015")
    u015 = page.json["items"][0]
    assert u015["role"] == "technician"  # helpdesk is inside it-staff
    assert len(u015["group_ids"]) == 1
    u001 = (await admin.get("/api/v1/users?q=u001")).json["items"][0]
    assert u001["role"] == "admin"
    u150 = (await admin.get("/api/v1/users?q=u150")).json["items"][0]
    assert (u150["role"], u150["email"], u150["group_ids"]) == (
        "requester", "u150@example.test", [])
    assert (await admin.get("/api/v1/users?q=u299")).json["items"] == []  # locked
    account = await server.db.read(lambda c: c.execute(
        sa.select(directory_accounts).where(directory_accounts.c.user_id == u150["id"])
    ).one())
    assert (account.phone, account.department, account.manager_id is not None) == (
        "+62 21 0150", "Sales", True)
    after_first = await count_rows(server)
    again = await admin.post(f"/api/v1/directories/{corp}/sync")
    assert (again.json["writes"], again.json["created"], again.json["updated"]) == (0, 0, 0)
    assert await count_rows(server) == after_first  # not even an audit entry


async def test_sign_in_by_bind_and_its_refusals(
        server: RunningServer, admin: Client, corp: int, ldap: Slapd) -> None:
    """A directory user signs in with the directory password; a wrong password, a locked
    account and a removed account are each refused with their own message."""
    assert (await admin.post(f"/api/v1/directories/{corp}/sync")).status == 200
    ok = await login(server, "u005", slapd.USER_PASSWORD)
    assert ok.status == 200, ok.body
    wrong = await login(server, "u005", "not-the-password")
    assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
    await asyncio.to_thread(ldap.modify, f"dn: {slapd.person_dn('u006')}\nchangetype: modify\n"
                            f"add: pwdAccountLockedTime\npwdAccountLockedTime: {slapd.LOCKED}\n")
    locked = await login(server, "u006", slapd.USER_PASSWORD)
    assert (locked.status, locked.error_code) == (403, "directory_account_disabled")
    session = await server.login("u007", slapd.USER_PASSWORD)
    await asyncio.to_thread(ldap.modify,
                            f"dn: {slapd.person_dn('u007')}\nchangetype: delete\n")
    gone = await login(server, "u007", slapd.USER_PASSWORD)
    assert (gone.status, gone.error_code) == (403, "directory_account_removed")
    assert (await session.get("/api/v1/auth/session")).status == 200  # until the sync
    report = (await admin.post(f"/api/v1/directories/{corp}/sync")).json
    assert report["deactivated"] == 2  # u006 (locked) and u007 (removed)
    assert (await session.get("/api/v1/auth/session")).status == 401


async def test_an_unreachable_directory_is_refused_and_local_login_works(
        server: RunningServer, admin: Client, corp: int, ldap: Slapd) -> None:
    """With slapd down, directory sign-in answers 503 with a clear message, the test
    says why, and the local admin still logs in."""
    assert (await admin.post(f"/api/v1/directories/{corp}/sync")).status == 200
    await asyncio.to_thread(ldap.stop)
    resp = await login(server, "u005", slapd.USER_PASSWORD)
    assert (resp.status, resp.error_code) == (503, "directory_unavailable")
    assert "cannot be reached" in resp.json["error"]["message"]
    test = await admin.post(f"/api/v1/directories/{corp}/test")
    assert test.status == 200 and test.json["ok"] is False
    assert (await login(server, "admin", ADMIN_PASSWORD)).status == 200
    sync = await admin.post(f"/api/v1/directories/{corp}/sync")
    assert (sync.status, sync.error_code) == (503, "directory_unavailable")


async def test_a_replica_that_is_down_is_passed_over(
        server: RunningServer, admin: Client, ldap: Slapd) -> None:
    """With the first URL down, the directory is reached at the next one: the test, a
    sync and a sign-in all work."""
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))  # bound and never listening: connections are refused
        port = dead.getsockname()[1]
        body = directory_body(ldap, urls=[f"ldaps://127.0.0.1:{port}", ldap.ldaps_url])
        made = await admin.post("/api/v1/directories", json=body)
        assert made.status == 201, made.body
        test = await admin.post(f"/api/v1/directories/{made.json['id']}/test")
        assert test.json["ok"] is True and test.json["users_found"] == 300, test.body
        sync = await admin.post(f"/api/v1/directories/{made.json['id']}/sync")
        assert sync.status == 200, sync.body
        assert (await login(server, "u005", slapd.USER_PASSWORD)).status == 200


async def test_plaintext_is_refused_unless_allowed(
        server: RunningServer, admin: Client, ldap: Slapd) -> None:
    """security=plain is refused without allow_plaintext; StartTLS and allowed plain work."""
    plain = directory_body(ldap, urls=[ldap.ldap_url], security="plain")
    resp = await admin.post("/api/v1/directories", json=plain)
    assert (resp.status, resp.error_code) == (422, "plaintext_refused")
    assert resp.json["error"]["field"] == "security"
    for name, extra in (("tls", {"security": "starttls"}),
                        ("plain", {"security": "plain", "allow_plaintext": True})):
        resp = await admin.post("/api/v1/directories", json=directory_body(
            ldap, name=name, urls=[ldap.ldap_url], **extra))
        assert resp.status == 201, resp.body
        test = await admin.post(f"/api/v1/directories/{resp.json['id']}/test")
        assert test.json["ok"] is True and test.json["users_found"] == 300, test.body


async def test_a_wrong_ca_is_refused(server: RunningServer, admin: Client,
                                     ldap: Slapd) -> None:
    """A directory whose certificate is not signed by the configured CA does not connect."""
    foreign = await asyncio.to_thread(lambda: ensure_own_ca(
        ldap.root / "other-ca", hostnames=["127.0.0.1"]))
    assert foreign.ca_file is not None
    body = directory_body(ldap, ca_pem=foreign.ca_file.read_text())
    resp = await admin.post("/api/v1/directories", json=body)
    test = await admin.post(f"/api/v1/directories/{resp.json['id']}/test")
    assert test.json["ok"] is False
