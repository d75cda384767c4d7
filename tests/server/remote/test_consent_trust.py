"""The consent recorded for a remote session is what the server asked, never the device's
claim: an agent cannot turn an "ask the user" session into an unattended one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from shared import protocol as p
from tests.support.remote import (
    Device,
    enrolled,
    next_message,
    remote_agent,
    ticket_with_device,
    timeline,
    wait_state,
)
from tests.support.server import Client, RunningServer

SCREEN = [p.Monitor(x=0, y=0, width=1280, height=720)]


async def _request(admin: Client, ws: ClientConnection, ticket: dict[str, Any],
                   mode: str = "view") -> p.SessionRequest:
    resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                            json={"reason": "look", "mode": mode})
    assert resp.status == 201, resp.body
    request: p.SessionRequest = await next_message(ws, p.SessionRequest)
    return request


async def _refused(ws: ClientConnection) -> tuple[str, int]:
    """Return the error code and the ended session of a refused answer (in either order)."""
    code, ended = "", 0
    while not (code and ended):
        message = await next_message(ws, p.Message)
        if isinstance(message, p.Error):
            code = message.code
        elif isinstance(message, p.SessionEnd):
            ended = message.session
    return code, ended


async def _unattended_group(admin: Client, device: Device) -> None:
    gid = (await admin.post("/api/v1/groups", json={"name": "Kiosks"})).json["id"]
    assert (await admin.put(f"/api/v1/groups/{gid}/remote-policy",
                            json={"unattended": True})).status == 200
    assert (await admin.patch(f"/api/v1/devices/{device.id}",
                              json={"group_id": gid})).status == 200


async def test_an_agent_claiming_unattended_when_asked_is_refused(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """When the policy says ask, an answer "unattended" is a protocol violation: the agent
    gets consent_required, the session ends failed and never counts as started."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        request = await _request(admin, ws, ticket)
        assert request.consent is True
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="unattended", monitors=SCREEN)))
        assert await _refused(ws) == (p.CONSENT_REQUIRED, request.session)
        got = await wait_state(admin, request.session, "ended")
        assert (got.json["outcome"], got.json["started_at"], got.json["consent"]) == (
            "failed", None, None)
    events = await timeline(admin, ticket["id"])
    assert [e["changes"]["step"] for e in events] == ["requested", "ended"]
    assert "unattended" not in events[-1]["body"]
    assert events[-1]["body"] == ("Remote session not started: the device answered without "
                                  "asking its user, who had to be asked.")


async def test_an_answer_contradicting_itself_is_refused(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """allowed=false with reason "allowed" is invalid_message and starts nothing."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        request = await _request(admin, ws, ticket)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=False,
                                               reason="allowed")))
        assert await _refused(ws) == (p.INVALID_MESSAGE, request.session)
        got = await wait_state(admin, request.session, "ended")
        assert (got.json["outcome"], got.json["started_at"]) == ("failed", None)


async def test_the_policy_not_the_device_decides_what_consent_is_recorded(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Under an unattended policy the session is recorded as unattended even if the agent
    says its user allowed it; under the default it is the user's consent."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        request = await _request(admin, ws, ticket)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed", monitors=SCREEN)))
        got = await wait_state(admin, request.session, "active")
        assert got.json["consent"] == "user"
        await admin.post(f"/api/v1/remote-sessions/{request.session}/end")
        await wait_state(admin, request.session, "ended")
        await _unattended_group(admin, device)
        request = await _request(admin, ws, ticket)
        assert request.consent is False
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed", monitors=SCREEN)))
        got = await wait_state(admin, request.session, "active")
        assert got.json["consent"] == "unattended"
    started = [e for e in await timeline(admin, ticket["id"])
               if e["changes"]["step"] == "started"]
    assert [e["changes"]["consent"] for e in started] == ["user", "unattended"]
    assert started[0]["body"] == "The user allowed the remote session."
    assert started[1]["body"] == ("Remote session started; the user's consent was not "
                                  "required (unattended access allowed for the device's "
                                  "group).")


async def test_control_needs_the_users_answer_to_the_servers_question(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A mode answer nobody asked for is refused and changes nothing; an answer "unattended"
    to a request for control ends the session instead of granting control."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        request = await _request(admin, ws, ticket)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed", monitors=SCREEN)))
        await wait_state(admin, request.session, "active")
        await ws.send(p.encode(p.ModeAnswer(session=request.session, mode="control",
                                            allowed=True, reason="allowed")))
        assert (await next_message(ws, p.Error)).code == p.UNEXPECTED
        got = await admin.get(f"/api/v1/remote-sessions/{request.session}")
        assert (got.json["state"], got.json["mode"]) == ("active", "view")
        asked = await admin.post(f"/api/v1/remote-sessions/{request.session}/mode",
                                 json={"mode": "control"})
        assert asked.status == 200, asked.body
        assert (await next_message(ws, p.SessionMode)).consent is True
        await ws.send(p.encode(p.ModeAnswer(session=request.session, mode="control",
                                            allowed=True, reason="unattended")))
        assert await _refused(ws) == (p.CONSENT_REQUIRED, request.session)
        got = await wait_state(admin, request.session, "ended")
        assert (got.json["mode"], got.json["outcome"]) == ("view", "failed")
    steps = [e["changes"]["step"] for e in await timeline(admin, ticket["id"])]
    assert steps == ["requested", "started", "mode_requested", "ended"]
