"""The server tells an agent the languages of the people bound to its logins, and only those
(``login_languages``, capability ``login_languages``; issue 14)."""

from __future__ import annotations

from pathlib import Path

from websockets.asyncio.client import ClientConnection

from shared import protocol as p
from tests.support.remote import enrolled, next_message, remote_agent
from tests.support.server import Client, RunningServer

CAPABLE = ("inventory", p.LOGIN_LANGUAGES_CAPABILITY)


async def _languages(ws: ClientConnection) -> dict[str, str]:
    message = await next_message(ws, p.LoginLanguages)
    return dict(message.languages)


async def _nothing_pending(ws: ClientConnection) -> None:
    """Check the server sent nothing before the answer to a heartbeat sent now."""
    await ws.send(p.encode(p.Heartbeat(seq=7)))
    answer = p.decode_server_message(await ws.recv())
    assert isinstance(answer, p.HeartbeatAck), answer


async def test_each_device_hears_only_its_own_bound_people_live(
        server: RunningServer, admin: Client, requester: Client, tmp_path: Path) -> None:
    """At connect each device gets the languages of the people bound to its logins (none
    for a person without a choice); a change of language, an unbinding or a deactivation
    reaches only that person's devices, at once."""
    sari = await server.create_user(admin, "sari", "requester")
    rick = requester.user["id"]
    assert (await requester.patch("/api/v1/account", json={"language": "id"})).status == 200
    ours = await enrolled(server, admin, tmp_path / "a")
    theirs = await enrolled(server, admin, tmp_path / "b")
    for device, login, user_id in ((ours, "rick", rick), (ours, "r.other", sari["id"]),
                                   (theirs, "sari", sari["id"])):
        resp = await admin.put(f"/api/v1/devices/{device.id}/bindings/{login}",
                               json={"user_id": user_id})
        assert resp.status == 200, resp.body
    async with remote_agent(server, ours, capabilities=CAPABLE) as a, \
            remote_agent(server, theirs, capabilities=CAPABLE) as b:
        assert await _languages(a) == {"rick": "id"}  # sari chose none: the desktop's locale
        assert await _languages(b) == {}
        # Rick switches to English on his own account page: his device hears it.
        assert (await requester.patch("/api/v1/account", json={"language": "en"})).status == 200
        assert await _languages(a) == {"rick": "en"}
        await _nothing_pending(b)
        # Sari chooses Indonesian (as the admin sets it): both her devices hear it.
        resp = await admin.patch(f"/api/v1/users/{sari['id']}", json={"language": "id"})
        assert resp.status == 200, resp.body
        assert await _languages(a) == {"r.other": "id", "rick": "en"}
        assert await _languages(b) == {"sari": "id"}
        # A change that leaves what a device would hear as it was sends nothing.
        resp = await admin.patch(f"/api/v1/users/{rick}", json={"active": True})
        assert resp.status == 200, resp.body
        await _nothing_pending(a)
        # Unbinding and deactivating take the language away.
        assert (await admin.delete(f"/api/v1/devices/{ours.id}/bindings/rick")).status == 204
        assert await _languages(a) == {"r.other": "id"}
        resp = await admin.patch(f"/api/v1/users/{sari['id']}", json={"active": False})
        assert resp.status == 200, resp.body
        assert await _languages(a) == {}
        assert await _languages(b) == {}


async def test_an_agent_without_the_capability_is_never_told(
        server: RunningServer, admin: Client, requester: Client, tmp_path: Path) -> None:
    """An agent that does not announce login_languages gets no such message."""
    assert (await requester.patch("/api/v1/account", json={"language": "id"})).status == 200
    device = await enrolled(server, admin, tmp_path / "a")
    async with remote_agent(server, device, capabilities=("inventory",)) as ws:
        resp = await admin.put(f"/api/v1/devices/{device.id}/bindings/rick",
                               json={"user_id": requester.user["id"]})
        assert resp.status == 200, resp.body
        await _nothing_pending(ws)
