"""Toolbox test helpers: a real agent serving terminals, and a terminal viewer socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from endpoint_agent.toolbox.support import ToolSupport
from tests.support.agents import RunningAgent, start_agent
from tests.support.remote import Device
from tests.support.server import Client, RunningServer


def own_login() -> str:
    """Return the login the tests run as (terminals not run as root use it)."""
    return pwd.getpwuid(os.geteuid()).pw_name


async def terminal_agent(device: Device, *, tools: ToolSupport | None = None) -> RunningAgent:
    """Start a real agent that serves terminals (no desktop: headless), once connected."""
    agent = await start_agent(device.state, heartbeat=0.5,
                              tools=tools or ToolSupport(None, login=own_login()))
    await asyncio.wait_for(agent.agent.connected.wait(), 10)
    return agent


async def unattended_group(admin: Client, device: Device, *, name: str = "Servers",
                           **toolbox: bool) -> int:
    """Put the device in a group that allows unattended access (and the toolbox policy)."""
    gid = int((await admin.post("/api/v1/groups", json={"name": name})).json["id"])
    assert (await admin.put(f"/api/v1/groups/{gid}/remote-policy",
                            json={"unattended": True})).status == 200
    if toolbox:
        put = await admin.put(f"/api/v1/groups/{gid}/toolbox-policy", json=toolbox)
        assert put.status == 200, put.body
    assert (await admin.patch(f"/api/v1/devices/{device.id}", json={"group_id": gid})
            ).status == 200
    return gid


@dataclass
class TermClient:
    """A tool-session socket opened as the console does (cookie, Origin, CSRF hello)."""

    ws: aiohttp.ClientWebSocketResponse
    screen: str = ""  # every output so far
    texts: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(payload))

    async def next(self, kind: str, *, wait: float = 10) -> dict[str, Any]:
        """Return the next message of ``kind`` (output is added to ``screen``)."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"socket closed: {msg.type} {msg.data}")
                data = json.loads(msg.data)
                self.texts.append(data)
                if data["type"] == "output":
                    self.screen += data["data"]
                if data["type"] == kind:
                    return dict(data)

    async def until(self, text: str, *, wait: float = 10) -> str:
        """Wait until ``text`` appears in the output; return the output so far."""
        async with asyncio.timeout(wait):
            while text not in self.screen:
                await self.next("output")
        return self.screen

    async def typed(self, text: str) -> None:
        await self.send({"type": "input", "data": text})


@contextlib.asynccontextmanager
async def terminal(server: RunningServer, client: Client, session_id: int,
                   ) -> AsyncIterator[TermClient]:
    """Open a tool session's socket as a logged-in console user."""
    url = server.base_url.replace("https://", "wss://") + \
        f"/api/v1/tool-sessions/{session_id}/ws"
    async with client.session.ws_connect(url, headers={"Origin": server.base_url},
                                         compress=0) as ws:
        await ws.send_str(json.dumps({"type": "hello", "csrf": client.csrf_token}))
        yield TermClient(ws)


async def tool_events(staff: Client, ticket_id: int) -> list[dict[str, Any]]:
    """Return the tool-session events of a ticket's timeline."""
    resp = await staff.get(f"/api/v1/tickets/{ticket_id}/events")
    return [e for e in resp.json["items"] if e["type"] == "tool_session"]


async def ended(staff: Client, sid: int) -> dict[str, Any]:
    """Poll a tool session until it has ended; return it."""
    async with asyncio.timeout(10):
        while True:
            got = await staff.get(f"/api/v1/tool-sessions/{sid}")
            if got.json["state"] == "ended":
                return dict(got.json)
            await asyncio.sleep(0.02)


async def files_session(staff: Client, ticket_id: int) -> int:
    """Open a files session on the ticket's device (unattended) and wait until it is open."""
    resp = await staff.post(f"/api/v1/tickets/{ticket_id}/tool-sessions",
                            json={"kind": "files", "reason": "copy a log"})
    assert resp.status == 201, resp.body
    sid = int(resp.json["id"])
    async with asyncio.timeout(10):
        while True:
            got = await staff.get(f"/api/v1/tool-sessions/{sid}")
            assert got.json["state"] != "ended", got.json
            if got.json["state"] == "active":
                return sid
            await asyncio.sleep(0.02)
