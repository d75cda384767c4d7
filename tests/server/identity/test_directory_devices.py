"""Directory people and their devices (issue 15, items 1 and 5), against a real slapd:
the first sign-in by bind creates the account when the directory allows it, and a group's
rule binds the first directory login a real agent reports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import protocol as p
from tests.server.identity.test_directory import directory_body, login
from tests.support import slapd
from tests.support.agents import enroll_device, fake_inventory, start_agent
from tests.support.server import Client, RunningServer
from tests.support.slapd import Group, Person, Slapd
from tests.support.waiting import eventually

PEOPLE = [Person(f"p{i}", f"Person {i}", f"p{i}@example.test") for i in range(4)]
GROUPS = [Group("it-staff", people=("p3",))]


@pytest.fixture
def ldap() -> Iterator[Slapd]:
    """A real slapd with four people; p3 is in it-staff."""
    with slapd.running_slapd(PEOPLE, GROUPS) as server:
        yield server


async def test_a_first_sign_in_creates_the_account_only_when_allowed(
        server: RunningServer, admin: Client, ldap: Slapd) -> None:
    """Without create_on_sign_in an unsynced person is refused; with it they are created
    at sign-in (requester, or technician by mapping); a wrong password creates nothing."""
    body = directory_body(ldap)
    body["group_mappings"] = [{"group_dn": slapd.group_dn("it-staff"), "role": "technician"}]
    made = await admin.post("/api/v1/directories", json=body)
    assert made.status == 201, made.body
    assert made.json["create_on_sign_in"] is False
    refused = await login(server, "p0", slapd.USER_PASSWORD)
    assert (refused.status, refused.error_code) == (401, "invalid_credentials")
    changed = await admin.put(f"/api/v1/directories/{made.json['id']}",
                              json={**body, "create_on_sign_in": True})
    assert changed.status == 200, changed.body
    wrong = await login(server, "p0", "not-the-password")
    assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
    assert (await admin.get("/api/v1/users?q=p0")).json["items"] == []
    for uid, role in (("p0", "requester"), ("p3", "technician")):
        ok = await login(server, uid, slapd.USER_PASSWORD)
        assert ok.status == 200, ok.body
        assert (ok.json["user"]["username"], ok.json["user"]["role"]) == (uid, role)
    again = await login(server, "p0", slapd.USER_PASSWORD)  # now an existing account
    assert again.status == 200
    await asyncio.to_thread(ldap.modify, f"dn: {slapd.person_dn('p1')}\nchangetype: modify\n"
                            f"add: pwdAccountLockedTime\npwdAccountLockedTime: {slapd.LOCKED}\n")
    locked = await login(server, "p1", slapd.USER_PASSWORD)
    assert (locked.status, locked.error_code) == (403, "directory_account_disabled")
    assert (await admin.get("/api/v1/users?q=p1")).json["items"] == []


async def test_a_group_rule_binds_the_first_directory_login_a_real_agent_reports(
        server: RunningServer, admin: Client, ldap: Slapd, tmp_path: Path) -> None:
    """On a device of a group with the rule, the first login seen that is a directory
    requester is bound (audited as a rule's); the tray's ticket for it is theirs and a
    second login files for the unknown user with the login shown."""
    made = await admin.post("/api/v1/directories", json=directory_body(ldap))
    assert (await admin.post(f"/api/v1/directories/{made.json['id']}/sync")).status == 200
    p2 = (await admin.get("/api/v1/users?q=p2")).json["items"][0]
    group = (await admin.post("/api/v1/groups", json={"name": "Laptops"})).json
    rule = await admin.put(f"/api/v1/groups/{group['id']}/binding-rule",
                           json={"bind_first_login": True})
    assert (rule.status, rule.json["bind_first_login"], rule.json["bound"]) == (200, True, 0)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    assert (await admin.patch(f"/api/v1/devices/{device['id']}",
                              json={"group_id": group["id"]})).status == 200
    inventory = fake_inventory()
    inventory["users"] = [{"login": "p2"}, {"login": "visitor"}]
    running = await start_agent(state, inventory=inventory)
    try:
        async def bound() -> bool:
            got = await admin.get(f"/api/v1/devices/{device['id']}/bindings")
            return bool(got.json["items"])

        await eventually(bound)
        answers = {who: await running.agent.submit_ticket(p.TicketRequest(
            id=uuid.uuid4().hex, title=f"from {who}", requester_login=who))
            for who in ("p2", "visitor")}
    finally:
        await running.stop()
    (binding,) = (await admin.get(f"/api/v1/devices/{device['id']}/bindings")).json["items"]
    assert (binding["login"], binding["user"]["id"], binding["source"]) == ("p2", p2["id"],
                                                                         "rule")
    tickets = {who: (await admin.get(f"/api/v1/tickets/{a['ticket_id']}")).json
               for who, a in answers.items()}
    assert tickets["p2"]["requester"]["id"] == p2["id"]
    assert tickets["visitor"]["requester"]["display_name"].startswith("Unknown user")
    assert tickets["visitor"]["reported"]["login"] == "visitor"
    (entry,) = (await admin.get(f"/api/v1/devices/{device['id']}/binding-history")).json["items"]
    assert (entry["action"], entry["source"], entry["actor_name"], entry["detail"]["group_id"]) \
        == ("device.bind", "rule", None, group["id"])
    off = await admin.put(f"/api/v1/groups/{group['id']}/binding-rule",
                          json={"bind_first_login": False})
    assert off.json["bind_first_login"] is False
