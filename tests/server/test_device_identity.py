"""A device speaks only for the requester its reported login is bound to (issues 13 and 15)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from shared import protocol as p
from tests.support.agents import enroll_device, raw_agent
from tests.support.server import Client, RunningServer


async def _file(ws: ClientConnection, login: str, title: str = "Help") -> p.Message:
    """Raise a ticket for ``login`` by hand and return the server's answer."""
    message_id = f"t-{abs(hash((login, title))) % 10**9}"
    await ws.send(p.encode(p.TicketRequest(id=message_id, title=title, requester_login=login)))
    while True:
        answer = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
        if not isinstance(answer, p.HeartbeatAck):
            return answer


async def _ticket(admin: Client, ticket_id: int) -> dict[str, Any]:
    resp = await admin.get(f"/api/v1/tickets/{ticket_id}")
    assert resp.status == 200, resp.body
    return dict(resp.json)


async def _users(admin: Client) -> dict[str, dict[str, Any]]:
    return {u["username"]: u for u in (await admin.get("/api/v1/users?limit=1000")).json["items"]}


async def test_a_device_cannot_file_as_staff_nor_create_accounts(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Staff logins, case variants and names breaking the user-name rules all go to the
    device's one unknown user, with the reported login kept; no account is created for them."""
    state, enrollment = await enroll_device(server, admin, tmp_path / "agent")
    before = await _users(admin)
    requesters = set()
    async with raw_agent(server, state) as (ws, _):
        for login in ("admin", "tina", "Admin", ".squat@x", "Rick", "nobody"):
            created = await _file(ws, login, title=f"as {login}")
            assert isinstance(created, p.TicketCreated), (login, created)
            ticket = await _ticket(admin, created.ticket_id)
            assert ticket["reported"]["login"] == login
            requesters.add(ticket["requester"]["id"])
    after = await _users(admin)
    (placeholder,) = set(after) - set(before)
    assert placeholder == f"unknown:{enrollment.device_id}"  # from the device, not a login
    assert requesters == {after[placeholder]["id"]}
    assert (after[placeholder]["role"], after[placeholder]["email"]) == ("requester", None)
    for name in ("admin", "tina"):
        mine = await admin.get(f"/api/v1/tickets?requester_id={after[name]['id']}")
        assert mine.json["items"] == []


async def test_a_login_is_a_person_only_by_a_binding(
        server: RunningServer, admin: Client, requester: Client, tmp_path: Path) -> None:
    """A requester's exact user name is not enough: only a binding maps a login, and
    unbinding sends it back to the device's unknown user."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    rick = requester.user["id"]
    async with raw_agent(server, state) as (ws, _):
        exact = await _file(ws, "rick", "exact")
        assert isinstance(exact, p.TicketCreated)
        assert (await _ticket(admin, exact.ticket_id))["requester"]["id"] != rick
        for login in ("rick", "RICK", "admin", "nobody"):
            nobody = await admin.get(f"/api/v1/devices/{device['id']}/bindings/{login}")
            assert (nobody.status, nobody.error_code) == (404, "not_found"), login
        bound = await admin.put(f"/api/v1/devices/{device['id']}/bindings/r.sanchez",
                                json={"user_id": rick})
        assert bound.status == 200, bound.body
        assert (bound.json["login"], bound.json["user"]["username"], bound.json["source"]) \
            == ("r.sanchez", "rick", "staff")
        listed = (await admin.get(f"/api/v1/devices/{device['id']}/bindings")).json["items"]
        assert [(b["login"], b["source"]) for b in listed] == [("r.sanchez", "staff")]

        by_binding = await _file(ws, "r.sanchez", "bound")
        by_name = await _file(ws, "rick", "by name")
        assert isinstance(by_binding, p.TicketCreated) and isinstance(by_name, p.TicketCreated)
        assert (await _ticket(admin, by_binding.ticket_id))["requester"]["id"] == rick
        assert (await _ticket(admin, by_name.ticket_id))["requester"]["id"] != rick

        gone = await admin.delete(f"/api/v1/devices/{device['id']}/bindings/r.sanchez")
        assert gone.status == 204
        again = await admin.delete(f"/api/v1/devices/{device['id']}/bindings/r.sanchez")
        assert (again.status, again.error_code) == (404, "not_found")
        after = await _file(ws, "r.sanchez", "unbound now")
        assert isinstance(after, p.TicketCreated)
        assert (await _ticket(admin, after.ticket_id))["requester"]["id"] != rick


async def test_only_active_requesters_can_be_bound(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """Binding a login to staff, the unknown user or a missing user is refused by name."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    async with raw_agent(server, state) as (ws, _):
        created = await _file(ws, "ghost")
        assert isinstance(created, p.TicketCreated)
    placeholder = (await _ticket(admin, created.ticket_id))["requester"]["id"]
    url = f"/api/v1/devices/{device['id']}/bindings/bob"
    for user_id in (admin.user["id"], technician.user["id"], placeholder):
        refused = await admin.put(url, json={"user_id": user_id})
        assert (refused.status, refused.error_code) == (422, "not_a_requester"), user_id
    missing = await admin.put(url, json={"user_id": 999999})
    assert (missing.status, missing.error_code) == (404, "not_found")
    nobody = await admin.put("/api/v1/devices/999999/bindings/bob",
                             json={"user_id": requester.user["id"]})
    assert nobody.status == 404
    bad_login = await admin.put(f"/api/v1/devices/{device['id']}/bindings/b%20ob",
                                json={"user_id": requester.user["id"]})
    assert bad_login.status == 404
    assert (await admin.get(f"/api/v1/devices/{device['id']}/bindings")).json["items"] == []


async def test_the_unknown_user_can_neither_log_in_nor_be_given_mail(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """An admin cannot give the device's unknown user a password, an address or a role."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with raw_agent(server, state) as (ws, _):
        created = await _file(ws, "ghost")
        assert isinstance(created, p.TicketCreated)
    placeholder = (await _ticket(admin, created.ticket_id))["requester"]["id"]
    for change in ({"password": "a-long-password-1"}, {"email": "x@example.test"},
                   {"role": "technician"}):
        resp = await admin.patch(f"/api/v1/users/{placeholder}", json=change)
        assert (resp.status, resp.error_code) == (409, "system_account"), change
    renamed = await admin.patch(f"/api/v1/users/{placeholder}",
                                json={"display_name": "Unknown user at reception"})
    assert renamed.status == 200


async def test_the_desk_sees_the_device_and_login_as_reported(
        server: RunningServer, admin: Client, requester: Client, tmp_path: Path) -> None:
    """The ticket, its timeline and the OpenAPI carry the reporting device and login;
    the requester's timeline does not."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    assert (await admin.put(f"/api/v1/devices/{device['id']}/bindings/rick",
                            json={"user_id": requester.user["id"]})).status == 200
    async with raw_agent(server, state) as (ws, _):
        created = await _file(ws, "rick", "Wi-Fi drops")
        assert isinstance(created, p.TicketCreated)
    ticket = await _ticket(admin, created.ticket_id)
    assert ticket["reported"] == {"login": "rick", "device": {
        "id": device["id"], "hostname": device["hostname"]}}
    events = (await admin.get(f"/api/v1/tickets/{created.ticket_id}/events")).json["items"]
    assert events[0]["changes"]["reported"] == {
        "device_id": device["id"], "hostname": device["hostname"], "login": "rick"}
    own = (await requester.get(f"/api/v1/tickets/{created.ticket_id}/events")).json["items"]
    assert "reported" not in own[0]["changes"]
    portal = await requester.post("/api/v1/tickets", json={"title": "From the portal"})
    assert portal.json["reported"] is None
    schema = (await admin.get("/api/v1/openapi.json")).json["components"]["schemas"]
    assert "reported" in schema["Ticket"]["properties"]
    assert set(schema["ReportedBy"]["required"]) == {"device", "login"}


async def test_a_name_with_a_trailing_newline_is_no_name(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """"rick\\n" is refused as a user name (API) and as a login (protocol): it would look
    exactly like rick."""
    made = await admin.post("/api/v1/users", json={
        "username": "rick\n", "display_name": "Rick", "role": "requester"})
    assert (made.status, made.error_code) == (422, "validation_error")
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with raw_agent(server, state) as (ws, _):
        answer = await _file(ws, "rick\n")
        assert isinstance(answer, p.Error) and answer.code == p.INVALID_MESSAGE
