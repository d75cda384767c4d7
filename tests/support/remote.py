"""Remote-session test helpers: a hand-driven agent with the remote capability, viewers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection

from endpoint_agent.state import AgentState
from shared import agent_auth, screen
from shared import protocol as p
from tests.support.agents import enroll_device, unauthenticated
from tests.support.server import Client, RunningServer


@dataclass
class Device:
    """An enrolled device and its database id."""

    state: AgentState
    uid: str
    id: int


async def enrolled(server: RunningServer, admin: Client, path: Path) -> Device:
    """Enroll a device and look up its id."""
    state, enrollment = await enroll_device(server, admin, path)
    listed = await admin.get("/api/v1/devices")
    device = next(d for d in listed.json["items"] if d["uid"] == enrollment.device_id)
    return Device(state=state, uid=enrollment.device_id, id=device["id"])


@contextlib.asynccontextmanager
async def remote_agent(server: RunningServer, device: Device, *,
                       capabilities: tuple[str, ...] = ("inventory", "remote"),
                       ) -> AsyncIterator[ClientConnection]:
    """Connect a hand-driven agent that offers remote sessions; yield after welcome."""
    async with unauthenticated(server, device.state) as (ws, challenge, key, enrollment):
        cert = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        binding = agent_auth.channel_binding(cert)
        await ws.send(p.encode(p.Hello(
            protocol=p.PROTOCOL_VERSION, device_id=enrollment.device_id, agent_version="test",
            capabilities=list(capabilities),
            signature=agent_auth.sign(key, challenge.nonce, enrollment.device_id, binding))))
        welcome = p.decode_server_message(await ws.recv())
        assert isinstance(welcome, p.Welcome), welcome
        for _ in range(200):  # the hub registers the link right before welcome
            if device.id in server.app[_hub_key()].links:
                break
            await asyncio.sleep(0.01)
        yield ws


def _hub_key() -> Any:
    from server.keys import HUB

    return HUB


async def next_message(ws: ClientConnection, kind: type[p.Message], *,
                       wait: float = 10) -> Any:
    """Return the next server message of ``kind``, skipping heartbeat noise."""
    async with asyncio.timeout(wait):
        while True:
            frame = await ws.recv()
            if isinstance(frame, bytes):
                continue
            message = p.decode_server_message(frame)
            if isinstance(message, kind):
                return message


async def ticket_with_device(staff: Client, device_id: int, *, assignee_id: int | None = None,
                             group_id: int | None = None) -> dict[str, Any]:
    """Create a ticket linked to a device, assigned as asked."""
    body: dict[str, Any] = {"title": "Printer does not print", "device_ids": [device_id]}
    if assignee_id is not None:
        body["assignee_id"] = assignee_id
    if group_id is not None:
        body["group_id"] = group_id
    resp = await staff.post("/api/v1/tickets", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def wait_state(staff: Client, session_id: int, state: str) -> Any:
    """Poll a session until it reaches ``state``; return the last answer."""
    async with asyncio.timeout(10):
        while True:
            got = await staff.get(f"/api/v1/remote-sessions/{session_id}")
            if got.json["state"] == state:
                return got
            await asyncio.sleep(0.02)


async def timeline(staff: Client, ticket_id: int) -> list[dict[str, Any]]:
    """Return the remote-session events of a ticket's timeline."""
    resp = await staff.get(f"/api/v1/tickets/{ticket_id}/events")
    return [e for e in resp.json["items"] if e["type"] == "remote_session"]


def frame(seq: int, *, key: bool = False, refresh: bool = False, size: int = 64,
          width: int = 640, height: int = 480) -> bytes:
    """Return a well-formed frame with one tile of ``size`` bytes (a JPEG header + filler)."""
    jpeg = screen.JPEG_SOI + bytes(size - 2)
    return screen.pack_frame(seq=seq, captured_at=1_700_000_000.0, width=width, height=height,
                             tiles=[screen.Tile(0, 0, 64, 64, jpeg)], key=key, refresh=refresh)


@dataclass
class ViewerClient:
    """A viewer WebSocket opened like the console does (cookie, Origin, CSRF hello)."""

    ws: aiohttp.ClientWebSocketResponse
    texts: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(payload))

    async def next_text(self, kind: str, *, wait: float = 10) -> dict[str, Any]:
        """Return the next text message of ``kind`` (frames in between are skipped)."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.ws.receive()
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    self.texts.append(data)
                    if data["type"] == kind:
                        return dict(data)
                elif msg.type != aiohttp.WSMsgType.BINARY:
                    raise AssertionError(f"viewer socket closed: {msg.type} {msg.data}")

    async def next_frame(self, *, wait: float = 10) -> screen.FrameHeader:
        """Return the header of the next binary frame (text messages are kept)."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.ws.receive()
                if msg.type == aiohttp.WSMsgType.BINARY:
                    return screen.read_header(msg.data)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.texts.append(json.loads(msg.data))
                    continue
                raise AssertionError(f"viewer socket closed: {msg.type} {msg.data}")


@contextlib.asynccontextmanager
async def viewer(server: RunningServer, client: Client, session_id: int, *,
                 origin: str | None = None, csrf: str | None = None,
                 ) -> AsyncIterator[ViewerClient]:
    """Open a session's viewer socket as a logged-in console user."""
    url = server.base_url.replace("https://", "wss://") + \
        f"/api/v1/remote-sessions/{session_id}/ws"
    async with client.session.ws_connect(
            url, headers={"Origin": origin or server.base_url}, compress=0,
            max_msg_size=screen.MAX_FRAME_BYTES) as ws:
        await ws.send_str(json.dumps({"type": "hello",
                                      "csrf": csrf if csrf is not None else client.csrf_token}))
        yield ViewerClient(ws)
