"""Terminals refused or misused: consent, rights, policy, capability, bad input, old peers."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from server.keys import HUB
from shared import protocol as p
from shared import toolbox as tb
from tests.support.remote import enrolled, next_message, remote_agent, ticket_with_device
from tests.support.server import Client, RunningServer
from tests.support.toolbox import (
    ended,
    terminal,
    terminal_agent,
    tool_events,
    unattended_group,
)


async def test_refusals_say_why_and_open_nothing(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """A headless device cannot ask its user; a technician without rights, root without the
    policy and an agent without the capability are refused before anything is sent; a
    user's refusal is recorded, and an agent claiming "unattended" when asked is refused."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)  # assigned to nobody
    url = f"/api/v1/tickets/{ticket['id']}/tool-sessions"
    agent = await terminal_agent(device)
    try:
        no_rights = await technician.post(url, json={"reason": "look"})
        assert no_rights.status == 403, no_rights.body
        root = await admin.post(url, json={"reason": "look", "as_root": True})
        assert (root.status, root.error_code) == (403, "root_not_allowed")
        resp = await admin.post(url, json={"reason": "look"})  # the policy says: ask the user
        assert resp.status == 201, resp.body
        over = await ended(admin, resp.json["id"])
        assert over["outcome"] == "unavailable"
        assert "no graphical session" in over["end_reason"]
        steps = [e["changes"]["step"] for e in await tool_events(admin, ticket["id"])]
        assert steps == ["requested", "ended"]
    finally:
        await agent.stop()
    async with remote_agent(server, device, capabilities=("inventory", "remote")):
        old = await admin.post(url, json={"reason": "look"})
        assert (old.status, old.error_code) == (409, "tool_unavailable")
    # A device that asks: the user's refusal is recorded; "unattended" to a question
    # for the user is refused.
    device = await enrolled(server, admin, tmp_path / "b")
    ticket = await ticket_with_device(admin, device.id)
    url = f"/api/v1/tickets/{ticket['id']}/tool-sessions"
    async with remote_agent(server, device, capabilities=("inventory", "terminal")) as ws:
        first = (await admin.post(url, json={"reason": "look"})).json
        request = await next_message(ws, tb.ToolRequest)
        assert (request.kind, request.consent, request.technician) == ("terminal", True,
                                                                 "Administrator")
        await ws.send(p.encode(tb.ToolAnswer(tool=request.tool, allowed=False, reason="denied")))
        assert (await ended(admin, first["id"]))["outcome"] == "denied"
        second = (await admin.post(url, json={"reason": "again"})).json
        request = await next_message(ws, tb.ToolRequest)
        await ws.send(p.encode(tb.ToolAnswer(tool=request.tool, allowed=True,
                                             reason="unattended")))
        error = await next_message(ws, p.Error)
        assert error.code == p.CONSENT_REQUIRED
        assert (await ended(admin, second["id"]))["outcome"] == "failed"
    bodies = [e["body"] for e in await tool_events(admin, ticket["id"])]
    assert "Terminal not opened: the user refused." in bodies


async def test_bad_input_is_refused_and_the_agent_keeps_serving(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Malformed, oversized and absurd messages get named errors; a watcher cannot type;
    an unknown message type from either side is refused; the terminal still works."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    try:
        sid = (await technician.post(f"/api/v1/tickets/{ticket['id']}/tool-sessions",
                                     json={"reason": "look"})).json["id"]
        async with terminal(server, technician, sid) as term:
            while (await term.next("status"))["state"] != "active":
                pass
            for payload, code in (("{not json", "malformed"),
                                  (json.dumps({"type": "launch"}), "unknown_type"),
                                  (json.dumps({"type": "resize", "cols": 100000, "rows": 10}),
                                   "invalid_message"),
                                  (json.dumps({"type": "input", "data": "x" * 70000}),
                                   "too_large"),
                                  (json.dumps({"type": "input", "data": ""}), "invalid_message")):
                await term.ws.send_str(payload)
                assert (await term.next("error"))["code"] == code
            async with terminal(server, admin, sid) as watcher:
                assert (await watcher.next("welcome"))["controller"] is False
                await watcher.typed("reboot\r")
                assert (await watcher.next("error"))["code"] == "not_controller"
            # A newer server's message the agent does not know: refused, nothing else.
            server.app[HUB].links[device.id].send(json.dumps({"type": "tool_upload",
                                                              "tool": sid}))
            await term.typed("echo still-$((40+2))\r")
            await term.until("still-42")
        await technician.post(f"/api/v1/tool-sessions/{sid}/end")
        late = await technician.get(f"/api/v1/tool-sessions/{sid}")
        assert late.json["state"] == "ended"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:  # no input after the end
            async with terminal(server, technician, sid):
                pass
        assert refused.value.status == 409
    finally:
        await agent.stop()
    async with remote_agent(server, device, capabilities=("inventory", "terminal")) as ws:
        await ws.send(json.dumps({"type": "tool_telemetry", "tool": 1}))
        assert (await next_message(ws, p.Error)).code == p.UNKNOWN_TYPE
        await ws.send(p.encode(tb.ToolOutput(tool=sid, data="late")))
        assert (await next_message(ws, p.Error)).code == p.NO_SESSION
        await ws.send(p.encode(p.Heartbeat(seq=7)))
        assert (await next_message(ws, p.HeartbeatAck)).seq == 7
