"""Clipboard text through the server with a hand-driven agent: rules, limits, audit."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection

from server.remote import clipboard as server_clipboard
from shared import clipboard
from shared import protocol as p
from tests.support.remote import (
    Device,
    enrolled,
    next_message,
    remote_agent,
    ticket_with_device,
    timeline,
    viewer,
    wait_state,
)
from tests.support.server import Client, RunningServer

WITH_CLIPBOARD = ("inventory", "remote", "clipboard")


@contextlib.asynccontextmanager
async def running(server: RunningServer, admin: Client, device: Device, *, mode: str,
                  assignee_id: int | None = None,
                  capabilities: tuple[str, ...] = WITH_CLIPBOARD,
                  ) -> AsyncIterator[tuple[ClientConnection, int, int]]:
    """A session opened by ``admin`` and allowed by the agent: (agent, session, ticket)."""
    ticket = await ticket_with_device(admin, device.id, assignee_id=assignee_id)
    async with remote_agent(server, device, capabilities=capabilities) as ws:
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "look", "mode": mode})
        request = await next_message(ws, p.SessionRequest)
        await ws.send(p.encode(p.SessionAnswer(
            session=request.session, allowed=True, reason="allowed",
            monitors=[p.Monitor(x=0, y=0, width=640, height=480)])))
        await wait_state(admin, resp.json["id"], "active")
        yield ws, resp.json["id"], ticket["id"]


async def agent_error(ws: ClientConnection) -> p.Error:
    """Return the next error the server sends the agent."""
    return await next_message(ws, p.Error)  # type: ignore[no-any-return]


async def test_text_goes_both_ways_to_the_controller_only_and_is_audited_without_content(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """The opener's text reaches the agent; the user's copy reaches the opener, not watchers."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with running(server, admin, device, mode="control",
                       assignee_id=technician.user["id"]) as (ws, sid, ticket_id):
        async with viewer(server, admin, sid) as opener, \
                viewer(server, technician, sid) as watcher:
            status = await opener.next_text("status")
            assert status["clipboard"] is True
            await opener.send({"type": "clipboard", "text": "sudo lpstat -t ✓"})
            got = await next_message(ws, p.SessionClipboard)
            assert (got.session, got.text) == (sid, "sudo lpstat -t ✓")
            sent = await opener.next_text("clipboard_sent")
            assert sent["bytes"] == len("sudo lpstat -t ✓".encode())
            # A watcher may not write the endpoint's clipboard.
            await watcher.send({"type": "clipboard", "text": "from a watcher"})
            assert (await watcher.next_text("error"))["code"] == "not_controller"
            # The user copies on the endpoint: the opener gets it.
            await ws.send(p.encode(p.SessionClipboard(session=sid, text="error 0x42\n")))
            copied = await opener.next_text("clipboard")
            assert (copied["text"], copied["bytes"], copied["session"]) == (
                "error 0x42\n", 11, sid)
            await admin.post(f"/api/v1/remote-sessions/{sid}/end")
            await watcher.next_text("ended")
            assert all(t["type"] != "clipboard" for t in watcher.texts)
    events = await timeline(admin, ticket_id)
    clip = [e for e in events if e["changes"]["step"] == "clipboard"]
    assert [(e["changes"]["direction"], e["changes"]["bytes"]) for e in clip] == [
        ("to_device", 18), ("from_device", 11)]
    assert clip[0]["actor"]["display_name"] == "Administrator"
    assert clip[1]["body"] == "Text copied on the device was sent to Administrator (11 bytes)."
    dumped = json.dumps(events)
    assert "lpstat" not in dumped and "0x42" not in dumped and "from a watcher" not in dumped
    summary = events[-1]
    assert "2 clipboard texts (1 to the device, 1 from it)" in summary["body"]
    row = await admin.get(f"/api/v1/remote-sessions/{sid}")
    assert (row.json["summary"]["clipboard_to_device"],
            row.json["summary"]["clipboard_from_device"],
            row.json["summary"]["clipboard_bytes"]) == (1, 1, 29)


async def test_view_only_passes_no_clipboard_either_way(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """In view mode the viewer's text is refused and so is the agent's."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with running(server, admin, device, mode="view") as (ws, sid, ticket_id):
        async with viewer(server, admin, sid) as v:
            await v.send({"type": "clipboard", "text": "hello"})
            assert (await v.next_text("error"))["code"] == "view_only"
            await ws.send(p.encode(p.SessionClipboard(session=sid, text="secret")))
            refused = await agent_error(ws)
            assert refused.code == "view_only"
            # Another session's id is not this agent's to use.
            await ws.send(p.encode(p.SessionClipboard(session=sid + 1000, text="x")))
            assert (await agent_error(ws)).code == p.NO_SESSION
            await admin.post(f"/api/v1/remote-sessions/{sid}/end")
            await v.next_text("ended")
            assert all(t["type"] != "clipboard" for t in v.texts)
    steps = [e["changes"]["step"] for e in await timeline(admin, ticket_id)]
    assert "clipboard" not in steps


async def test_an_agent_without_the_capability_gets_no_clipboard(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Old agents do not announce "clipboard": the viewer is told, the agent sent nothing."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with running(server, admin, device, mode="control",
                       capabilities=("inventory", "remote")) as (ws, sid, _ticket):
        async with viewer(server, admin, sid) as v:
            assert (await v.next_text("status"))["clipboard"] is False
            await v.send({"type": "clipboard", "text": "hello"})
            assert (await v.next_text("error"))["code"] == "clipboard_unavailable"
            # The next thing the agent hears is the end, not a clipboard message.
            await admin.post(f"/api/v1/remote-sessions/{sid}/end")
            end = await next_message(ws, (p.SessionClipboard, p.SessionEnd))  # type: ignore[arg-type]
            assert isinstance(end, p.SessionEnd)


async def test_oversized_and_malformed_texts_are_refused_and_change_nothing(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Over 64 KiB, NUL, lone surrogates and wrong types are refused on both sockets."""
    device = await enrolled(server, admin, tmp_path / "a")
    async with running(server, admin, device, mode="control") as (ws, sid, ticket_id):
        async with viewer(server, admin, sid) as v:
            await v.next_text("status")
            too_big = "x" * (clipboard.MAX_TEXT_BYTES + 1)
            for raw, code in [
                (json.dumps({"type": "clipboard", "text": too_big}), "too_large"),
                (json.dumps({"type": "clipboard", "text": "a\x00b"}), "invalid_message"),
                ('{"type":"clipboard","text":"a\\udc00"}', "malformed"),
                (json.dumps({"type": "clipboard", "text": ["a"]}), "invalid_message"),
                (json.dumps({"type": "clipboard", "text": "a", "mime": "text/html"}),
                 "invalid_message"),
                # A 540 KB frame: over the clipboard frame limit, under the socket's.
                (json.dumps({"type": "clipboard", "text": "\x01" * 90_000}), "too_large"),
            ]:
                await v.ws.send_str(raw)
                assert (await v.next_text("error"))["code"] == code, raw
            for raw, code in [
                (p.encode(p.SessionClipboard(session=sid, text=too_big)), "too_large"),
                (p.encode(p.SessionClipboard(session=sid, text="a\x00b")), "invalid_message"),
                ('{"type":"session_clipboard","session":' + str(sid) + ',"text":"\\ud800"}',
                 "malformed"),
            ]:
                await ws.send(raw)
                assert (await agent_error(ws)).code == code, raw[:80]
            # Both sockets are still usable: a valid text goes through afterwards.
            await v.send({"type": "clipboard", "text": "ok"})
            assert (await next_message(ws, p.SessionClipboard)).text == "ok"
        # A frame over 1 MiB is not even read: the viewer socket closes (1009).
        async with viewer(server, admin, sid) as v:
            await v.next_text("status")
            await v.ws.send_str(json.dumps({"type": "clipboard", "text": "x" * 1_100_000}))
            with pytest.raises(AssertionError, match="closed"):
                await v.next_text("error")
            # 1009 from the server, or 1006 when the close overtakes the client's send.
            assert v.ws.close_code in (1006, 1009)
    steps = [e["changes"] for e in await timeline(admin, ticket_id)
             if e["changes"]["step"] == "clipboard"]
    assert steps == [{"session_id": sid, "step": "clipboard", "direction": "to_device",
                      "bytes": 2}]


async def test_a_session_passes_a_bounded_number_of_texts(
        server: RunningServer, admin: Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transfer is a timeline event, so a session has a cap; beyond it, refusals."""
    monkeypatch.setattr(server_clipboard, "MAX_TRANSFERS", 2)
    device = await enrolled(server, admin, tmp_path / "a")
    async with running(server, admin, device, mode="control") as (ws, sid, _ticket):
        async with viewer(server, admin, sid) as v:
            await v.send({"type": "clipboard", "text": "one"})
            await next_message(ws, p.SessionClipboard)
            await ws.send(p.encode(p.SessionClipboard(session=sid, text="two")))
            assert (await v.next_text("clipboard"))["text"] == "two"
            await v.send({"type": "clipboard", "text": "three"})
            assert (await v.next_text("error"))["code"] == "clipboard_limit"
            await ws.send(p.encode(p.SessionClipboard(session=sid, text="four")))
            assert (await agent_error(ws)).code == "clipboard_limit"

