"""Devices bound to people (issue 15, item 5): logins seen, staff bindings with their audit
history, a person's devices, and what a requester may not see or name."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from shared import protocol as p
from tests.support.agents import enroll_device, raw_agent
from tests.support.server import Client, RunningServer


async def _file(ws: Any, login: str, title: str) -> p.TicketCreated:
    """Raise a ticket for ``login`` by hand and return the server's answer."""
    await ws.send(p.encode(p.TicketRequest(id=f"t-{title}", title=title,
                                           requester_login=login)))
    while True:
        answer = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
        if not isinstance(answer, p.HeartbeatAck):
            assert isinstance(answer, p.TicketCreated), answer
            return answer


async def test_staff_bind_a_login_seen_and_the_history_says_who(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """Logins a device reported are listed with a suggestion; a technician binds and
    unbinds one, and the device's binding history names login, person and who did it."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    base = f"/api/v1/devices/{device['id']}"
    async with raw_agent(server, state) as (ws, _):
        await _file(ws, "rick", "one")
        await _file(ws, "guest", "two")
    seen = (await technician.get(f"{base}/logins")).json["items"]
    assert {x["login"]: (x["binding"], (x["suggested"] or {}).get("id")) for x in seen} == {
        "rick": (None, requester.user["id"]), "guest": (None, None)}
    bound = await technician.put(f"{base}/bindings/rick", json={"user_id": requester.user["id"]})
    assert bound.status == 200, bound.body
    rick = next(x for x in (await technician.get(f"{base}/logins")).json["items"]
                if x["login"] == "rick")
    assert (rick["binding"]["user"]["id"], rick["binding"]["source"]) == (
        requester.user["id"], "staff")
    assert (await technician.delete(f"{base}/bindings/rick")).status == 204
    history = (await technician.get(f"{base}/binding-history")).json["items"]
    assert [(h["action"], h["login"], h["source"], h["actor_name"], h["user"]["id"])
            for h in history] == [
        ("device.unbind", "rick", "staff", "Tina", requester.user["id"]),
        ("device.bind", "rick", "staff", "Tina", requester.user["id"])]
    for url in (f"{base}/logins", f"{base}/binding-history"):
        refused = await requester.get(url)
        assert (refused.status, refused.error_code) == (403, "forbidden"), url
    missing = await technician.get("/api/v1/devices/999999/logins")
    assert (missing.status, missing.error_code) == (404, "not_found")


async def test_a_person_sees_only_their_own_devices(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """A requester lists their bound devices and files a ticket about one; another
    person's devices answer 404 in the error shape, and naming a device not theirs is 403."""
    await server.create_user(admin, "mona", "requester")
    mona = await server.login("mona")
    state, _ = await enroll_device(server, admin, tmp_path / "a")
    other_state, _ = await enroll_device(server, admin, tmp_path / "b")
    async with raw_agent(server, state) as (ws, _), raw_agent(server, other_state) as (ws2, _):
        await _file(ws, "rick", "seen")
        await _file(ws2, "mona", "seen-too")
    by_uid = {d["id"]: d for d in (await admin.get("/api/v1/devices")).json["items"]}
    mine, theirs = sorted(by_uid)
    assert (await admin.put(f"/api/v1/devices/{mine}/bindings/rick",
                            json={"user_id": requester.user["id"]})).status == 200
    assert (await admin.put(f"/api/v1/devices/{theirs}/bindings/mona",
                            json={"user_id": mona.user["id"]})).status == 200

    own = await requester.get(f"/api/v1/users/{requester.user['id']}/devices")
    assert own.status == 200, own.body
    (item,) = own.json["items"]
    assert (item["id"], item["hostname"], item["logins"], item["online"]) == (
        mine, by_uid[mine]["hostname"], ["rick"], False)
    assert {"os_name", "os_version", "last_seen_at"} <= set(item)
    for user_id in (mona.user["id"], admin.user["id"], 999999):
        other = await requester.get(f"/api/v1/users/{user_id}/devices")
        assert (other.status, other.error_code) == (404, "not_found"), user_id
        assert set(other.json) == {"error"} and set(other.json["error"]) >= {"code", "message"}
    desk = await technician.get(f"/api/v1/users/{mona.user['id']}/devices")
    assert [d["id"] for d in desk.json["items"]] == [theirs]

    about = await requester.post("/api/v1/tickets", json={"title": "Fan is loud",
                                                          "device_ids": [mine]})
    assert about.status == 201, about.body
    assert about.json["device_ids"] == [mine]
    for ids in ([theirs], [mine, theirs]):
        refused = await requester.post("/api/v1/tickets", json={"title": "x", "device_ids": ids})
        assert (refused.status, refused.error_code) == (403, "forbidden"), ids
    cannot_bind = await requester.put(f"/api/v1/devices/{mine}/bindings/x",
                                      json={"user_id": requester.user["id"]})
    assert (cannot_bind.status, cannot_bind.error_code) == (403, "forbidden")
