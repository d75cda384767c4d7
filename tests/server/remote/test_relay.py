"""The frame relay over real sockets: key frames, slow viewers, bad frames, input rules."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection

from server.keys import REMOTE
from shared import protocol as p
from shared import screen
from tests.support.remote import (
    Device,
    enrolled,
    frame,
    next_message,
    remote_agent,
    ticket_with_device,
    viewer,
    wait_state,
)
from tests.support.server import Client, RunningServer


@contextlib.asynccontextmanager
async def active_session(server: RunningServer, admin: Client, device: Device, *,
                         mode: str = "control", assignee_id: int | None = None,
                         ) -> AsyncIterator[tuple[ClientConnection, int]]:
    """A running session opened by ``admin`` (the hand-driven agent allowed it)."""
    ticket = await ticket_with_device(admin, device.id, assignee_id=assignee_id)
    async with remote_agent(server, device) as ws:
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "look", "mode": mode})
        request = await next_message(ws, p.SessionRequest)
        await ws.send(p.encode(p.SessionAnswer(
            session=request.session, allowed=True, reason="allowed",
            monitors=[p.Monitor(x=0, y=0, width=640, height=480)])))
        await wait_state(admin, resp.json["id"], "active")
        yield ws, resp.json["id"]


async def test_viewer_gets_a_key_frame_then_deltas(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A joining viewer triggers a key-frame request, gets the key frame, then deltas."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with active_session(server, admin, device) as (ws, sid):
        async with viewer(server, admin, sid) as first:
            await next_message(ws, p.SessionKeyFrame)
            await ws.send(frame(1))  # a delta before any key frame: nobody can use it
            await ws.send(frame(1, key=True, refresh=True))
            await ws.send(frame(2))
            assert (await first.next_frame()).seq == 1
            header = await first.next_frame()
            assert (header.seq, header.key) == (2, False)
            async with viewer(server, admin, sid) as second:
                # The second viewer asks for a key frame; the first, in step, skips it.
                await next_message(ws, p.SessionKeyFrame)
                await ws.send(frame(3))
                await ws.send(frame(3, key=True, refresh=True))
                await ws.send(frame(4))
                got = await second.next_frame()
                assert (got.seq, got.key) == (3, True)
                assert (await second.next_frame()).seq == 4
                assert [(await first.next_frame()).seq for _ in range(2)] == [3, 4]
                # Acks flow back to the agent for pacing.
                await second.send({"type": "ack", "seq": 4})
                acked = await next_message(ws, p.FrameAcked)
                assert (acked.session, acked.seq) == (sid, 4)


async def test_stalled_viewer_does_not_slow_another(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A viewer that never reads loses frames to resyncs; the other gets every one in order."""
    device = await enrolled(server, admin, tmp_path / "a")
    big = 256 * 1024
    count = 120  # 30 MB: more than any socket buffer between here and the stalled viewer
    async with active_session(server, admin, device) as (ws, sid):
        live = server.app[REMOTE].by_id[sid]
        async with viewer(server, admin, sid) as fast, viewer(server, admin, sid) as stalled:
            await fast.next_text("welcome")
            await stalled.next_text("welcome")
            await ws.send(frame(0, key=True, size=big))
            received: list[int] = []

            async def read_all() -> None:
                while len(received) < count:
                    received.append((await fast.next_frame(wait=30)).seq)

            reader = asyncio.create_task(read_all())
            # The agent side pauses on the fast viewer's pace only as TCP does: frames are
            # sent as fast as the socket takes them.
            for seq in range(1, count):
                await ws.send(frame(seq, size=big))
            await asyncio.wait_for(reader, 60)
            assert received == list(range(count))
            stalled_viewer = next(v for v in live.viewers if v is not None
                                  and v.frames_sent < count)
            assert stalled_viewer.frames_dropped > 0
            assert not stalled_viewer.synced or stalled_viewer.frames_dropped > 0


async def test_malformed_frames_are_refused_not_relayed(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Short, foreign-version, out-of-bounds and truncated frames get bad_frame errors."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with active_session(server, admin, device) as (ws, sid):
        async with viewer(server, admin, sid) as v:
            await v.next_text("welcome")
            good = frame(5, key=True)
            bad = [b"\x01\x00", b"\x09" + good[1:], good[:-3],
                   frame(6, key=True, width=32, height=32), good + b"xx",
                   good[:1] + b"\x80" + good[2:]]
            for data in bad:
                await ws.send(data)
                error = await next_message(ws, p.Error)
                assert error.code == screen.BAD_FRAME, error
            await ws.send(good)
            assert (await v.next_frame()).seq == 5  # only the good one arrived
    # Outside a session, binary frames stay refused.
    async with remote_agent(server, device) as ws:
        await ws.send(frame(1, key=True))
        assert (await next_message(ws, p.Error)).code == p.BINARY_NOT_ALLOWED


async def _errors_for(v: Any, messages: list[Any]) -> list[str]:
    codes = []
    for message in messages:
        await v.ws.send_str(message if isinstance(message, str) else json.dumps(message))
        codes.append((await v.next_text("error"))["code"])
    return codes


async def test_input_rules_and_malformed_input(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Control input reaches the agent; bad input, watchers' input and view-only input do not."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with active_session(server, admin, device) as (ws, sid):
        async with viewer(server, admin, sid) as v:
            await v.next_text("welcome")
            await v.send({"type": "pointer", "x": 10, "y": 20, "buttons": 1})
            got = await next_message(ws, p.SessionInput)
            assert got.event == screen.PointerEvent(x=10, y=20, buttons=1)
            codes = await _errors_for(v, [
                "not json", {"type": "teleport"}, {"type": "pointer", "x": -1, "y": 0,
                                                   "buttons": 0},
                {"type": "key", "keysym": 65, "down": "yes"},
                {"type": "pointer", "x": 1, "y": 1, "buttons": 0, "extra": 1},
                {"type": "text", "text": "x" * 5000}, {"type": "hello", "csrf": "again"}])
            assert codes == ["malformed", "unknown_type", "invalid_message", "invalid_message",
                             "invalid_message", "too_large", "unexpected_message"]
            # Down to view only: input is refused here (and ignored by the agent too).
            changed = await admin.post(f"/api/v1/remote-sessions/{sid}/mode",
                                       json={"mode": "view"})
            assert changed.status == 200 and changed.json["mode"] == "view"
            assert (await next_message(ws, p.SessionMode)).mode == "view"
            assert await _errors_for(v, [{"type": "key", "keysym": 65, "down": True}]) == [
                "view_only"]
            await v.ws.send_bytes(b"\x00")
            assert (await v.next_text("error"))["code"] == "binary_not_allowed"
    # A second session in control mode: a watcher with rights still cannot send input.
    async with active_session(server, admin, device,
                              assignee_id=technician.user["id"]) as (ws, sid):
        async with viewer(server, technician, sid) as watcher:
            assert (await watcher.next_text("welcome"))["controller"] is False
            assert await _errors_for(watcher, [
                {"type": "pointer", "x": 1, "y": 1, "buttons": 0},
                {"type": "quality", "quality": 50}]) == ["not_controller", "not_controller"]


async def test_viewer_socket_needs_origin_and_csrf(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A foreign Origin is refused before upgrade; a wrong CSRF hello closes the socket."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with active_session(server, admin, device) as (_ws, sid):
        url = server.base_url.replace("https://", "wss://") + \
            f"/api/v1/remote-sessions/{sid}/ws"
        try:
            async with admin.session.ws_connect(url, headers={"Origin": "https://evil.example"}):
                raise AssertionError("foreign origin accepted")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
        async with viewer(server, admin, sid, csrf="wrong") as v:
            assert (await v.next_text("error"))["code"] == "csrf_failed"
            msg = await v.ws.receive()
            assert msg.type == aiohttp.WSMsgType.CLOSE and v.ws.close_code == 4003
        plain = await admin.get(f"/api/v1/remote-sessions/{sid}/ws",
                                headers={"Origin": server.base_url})
        assert plain.status == 400 and plain.error_code == "websocket_required"


async def test_viewers_who_lose_their_rights_are_closed(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Rights are checked again while a viewer watches: a watcher taken off the ticket is
    closed and the session goes on; the technician in control logging out ends it."""
    from tests.support.server import ADMIN_PASSWORD

    server.app[REMOTE].rights_recheck_seconds = 0.2
    device = await enrolled(server, admin, tmp_path / "a")
    controller = await server.login("admin", ADMIN_PASSWORD)  # a second console login
    async with active_session(server, controller, device,
                              assignee_id=technician.user["id"]) as (_ws, sid):
        session = (await admin.get(f"/api/v1/remote-sessions/{sid}")).json
        async with viewer(server, controller, sid) as boss, \
                viewer(server, technician, sid) as watcher:
            await boss.next_text("welcome")
            assert (await watcher.next_text("welcome"))["controller"] is False
            moved = await admin.patch(f"/api/v1/tickets/{session['ticket_id']}",
                                      json={"assignee_id": None})
            assert moved.status == 200, moved.body
            error = await watcher.next_text("error")
            assert error["code"] == "rights_revoked" and "no longer" in error["message"]
            assert (await watcher.ws.receive()).type == aiohttp.WSMsgType.CLOSE
            assert watcher.ws.close_code == 4003
            assert (await admin.get(f"/api/v1/remote-sessions/{sid}")).json["state"] == "active"
            assert (await controller.post("/api/v1/auth/logout")).status == 204
            assert (await boss.next_text("error"))["code"] == "rights_revoked"
            ended = (await wait_state(admin, sid, "ended")).json
            assert ended["ended_by"] == "server", ended
