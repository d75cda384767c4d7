"""The agent's clipboard on a real X display: owning it, watching it, and the session rules.

The other side is a second X client written with python-xlib (tests/support/xclipboard.py):
it pastes (converts the selection and reads the property) and copies (owns CLIPBOARD and
answers requests, also through INCR), as any application on the endpoint does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from endpoint_agent.remote import ui
from endpoint_agent.remote.clipboard import ClipboardBridge
from endpoint_agent.remote.controller import RemoteSupport
from shared import clipboard
from shared import protocol as p
from tests.support.agents import start_agent
from tests.support.remote import enrolled, ticket_with_device, timeline, viewer, wait_state
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import press_in_window
from tests.support.xclipboard import Copier, owner_of, paste_text, read_selection

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]


@contextlib.asynccontextmanager
async def bridge_on(display: str) -> AsyncIterator[tuple[ClipboardBridge, list[str]]]:
    """A started bridge and the list its reported copies land in."""
    copies: list[str] = []
    bridge = ClipboardBridge(display, on_copy=copies.append)
    await asyncio.to_thread(bridge.start)
    try:
        yield bridge, copies
    finally:
        await asyncio.to_thread(bridge.close)


@contextlib.asynccontextmanager
async def copying(display: str, data: bytes, **options: Any) -> AsyncIterator[Copier]:
    """Another application owns CLIPBOARD with ``data`` while the context is open."""
    copier = await asyncio.to_thread(Copier, display, data, **options)
    await asyncio.to_thread(copier.__enter__)
    try:
        yield copier
    finally:
        await asyncio.to_thread(copier.__exit__, None, None, None)


async def pasted(display: str, selection: str = "CLIPBOARD") -> str | None:
    return await asyncio.to_thread(paste_text, display, selection)


async def test_offered_text_is_served_as_every_text_type(x_display: str) -> None:
    """CLIPBOARD and PRIMARY give the text as UTF-8, Latin-1 and TEXT; TARGETS lists them."""
    text = "Grüße ✓ naïve\nline two"
    async with bridge_on(x_display) as (bridge, copies):
        bridge.offer(text)

        async def served() -> bool:
            return await pasted(x_display) == text

        await eventually(served)
        assert await pasted(x_display, "PRIMARY") == text
        targets = await asyncio.to_thread(read_selection, x_display, target="TARGETS")
        assert targets is not None and {"UTF8_STRING", "STRING", "TEXT", "TARGETS"} <= \
            set(targets.atoms)
        latin = await asyncio.to_thread(read_selection, x_display, target="STRING")
        assert latin is not None and (latin.type, latin.data) == (
            "STRING", "Grüße ? naïve\nline two".encode("latin-1"))
        as_text = await asyncio.to_thread(read_selection, x_display, target="TEXT")
        assert as_text is not None and as_text.data.decode() == text
        # Not text: refused, as an application asking for an image must see.
        assert await asyncio.to_thread(read_selection, x_display, target="image/png") is None
        # Our own ownership is not reported as a copy of the user's.
        assert (bridge.seen, copies) == (0, [])


async def test_copies_are_reported_only_while_watching(x_display: str) -> None:
    """Text another client copies (plain, INCR, Latin-1) is reported; not after watch off."""
    async with bridge_on(x_display) as (bridge, copies):
        bridge.watch(True)
        async with copying(x_display, "copied ✓".encode()):
            await eventually(lambda: len(copies) == 1)
        big = "ä" * 5000 + " end"  # 10 KB in 1 KB INCR chunks
        async with copying(x_display, big.encode(), incr_chunk=1000):
            await eventually(lambda: len(copies) == 2)
        async with copying(x_display, "café".encode("latin-1"), targets=("STRING",)):
            await eventually(lambda: len(copies) == 3)
        assert copies == ["copied ✓", big, "café"]
        bridge.watch(False)
        async with copying(x_display, b"my password"):
            await eventually(lambda: bridge.seen == 4)
        assert len(copies) == 3 and bridge.reported == 3


@pytest.mark.parametrize(("data", "options"), [
    (b"x" * (clipboard.MAX_TEXT_BYTES + 1), {}),
    (b"x" * (clipboard.MAX_TEXT_BYTES + 1), {"incr_chunk": 4000}),
    (b"\x89PNG....", {"targets": ("image/png",)}),
    (b"\xff\xfe not utf-8", {"targets": ("UTF8_STRING",)}),
    (b"a\x00b", {}),
])
async def test_large_and_non_text_copies_are_not_reported(
        x_display: str, data: bytes, options: dict[str, Any]) -> None:
    """Over 64 KiB (also through INCR), images, broken UTF-8 and NULs are dropped."""
    async with bridge_on(x_display) as (bridge, copies):
        bridge.watch(True)
        async with copying(x_display, data, **options):
            await eventually(lambda: bridge.refused == 1)
        assert copies == [] and bridge.reported == 0


async def test_a_retired_bridge_serves_until_replaced(x_display: str) -> None:
    """After the session the text stays pasteable until other clients own both selections."""
    async with bridge_on(x_display) as (bridge, _copies):
        bridge.offer("leave this")

        async def served() -> bool:
            return await pasted(x_display) == "leave this"

        await eventually(served)
        bridge.retire()
        assert await pasted(x_display) == "leave this"
        async with copying(x_display, b"new copy"):
            assert await pasted(x_display) == "new copy"
            assert await pasted(x_display, "PRIMARY") == "leave this"
            assert bridge.alive
            async with copying(x_display, b"selected", selection="PRIMARY"):
                await eventually(lambda: not bridge.alive)


# --- through a real agent, server and viewer -----------------------------------------


@contextlib.asynccontextmanager
async def session_on(server: RunningServer, admin: Client, display: str, tmp_path: Path, *,
                     mode: str) -> AsyncIterator[tuple[RemoteSupport, int, int]]:
    """An allowed session on a real agent: (remote support, session id, ticket id)."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    remote = RemoteSupport(display)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "printer", "mode": mode})
        assert resp.status == 201, resp.body
        await press_in_window(display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(admin, resp.json["id"], "active")
        yield remote, resp.json["id"], ticket["id"]
    finally:
        await running.stop()


async def test_clipboard_both_ways_in_control_mode(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """The technician's text is pasteable on the endpoint; the user's copy reaches the viewer."""
    async with session_on(server, admin, x_display, tmp_path, mode="control") as (
            remote, sid, ticket_id):
        async with viewer(server, admin, sid) as v:
            assert (await v.next_text("status"))["clipboard"] is True
            await v.send({"type": "clipboard", "text": "lpadmin -x Office ✓"})
            await v.next_text("clipboard_sent")

            async def on_endpoint() -> bool:
                return await pasted(x_display) == "lpadmin -x Office ✓"

            await eventually(on_endpoint)
            assert await pasted(x_display, "PRIMARY") == "lpadmin -x Office ✓"
            async with copying(x_display, b"Error 0x0000011b"):
                got = await v.next_text("clipboard")
            assert (got["text"], got["bytes"]) == ("Error 0x0000011b", 16)
            live = remote.session
            assert live is not None and (live.clipboard_in, live.clipboard_out) == (1, 1)
            # A text that slipped past decoding (built in code) is checked again and dropped.
            remote.on_message(p.SessionClipboard(session=sid, text="bad\x00text"))
            assert (live.ignored_clipboard, live.clipboard_in) == (1, 1)
            # Back to view only: the next copy is seen by the agent but not sent.
            down = await admin.post(f"/api/v1/remote-sessions/{sid}/mode", json={"mode": "view"})
            assert down.json["mode"] == "view"
            await eventually(lambda: live.mode == "view")
            bridge = remote._clipboard
            seen = bridge.seen
            async with copying(x_display, b"copied while only watched"):
                await eventually(lambda: bridge.seen == seen + 1)
            assert live.clipboard_out == 1 and bridge.reported == 1
            await admin.post(f"/api/v1/remote-sessions/{sid}/end")
            await v.next_text("ended")
        assert [t["text"] for t in v.texts if t["type"] == "clipboard"] == ["Error 0x0000011b"]
    # The technician's text stayed in PRIMARY (nothing replaced it) until the agent stopped.
    assert await asyncio.to_thread(owner_of, x_display, "PRIMARY") == 0
    events = [e for e in await timeline(admin, ticket_id) if e["changes"]["step"] == "clipboard"]
    assert [(e["changes"]["direction"], e["changes"]["bytes"]) for e in events] == [
        ("to_device", len("lpadmin -x Office ✓".encode())), ("from_device", 16)]


async def test_view_only_session_ignores_the_clipboard_both_ways(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """In view mode the agent neither sets the clipboard nor reports the user's copies."""
    async with session_on(server, admin, x_display, tmp_path, mode="view") as (
            remote, sid, _ticket):
        live = remote.session
        assert live is not None and live.mode == "view"
        async with viewer(server, admin, sid) as v:
            await v.send({"type": "clipboard", "text": "from the viewer"})
            assert (await v.next_text("error"))["code"] == "view_only"
        # As if the server had forwarded it anyway: the agent must not act on it.
        before = await asyncio.to_thread(owner_of, x_display)
        remote.on_message(p.SessionClipboard(session=sid, text="forwarded anyway"))
        assert live.ignored_clipboard == 1 and live.clipboard_in == 0
        bridge = remote._clipboard
        assert bridge is not None and bridge.offers == 0
        assert await asyncio.to_thread(owner_of, x_display) == before
        # The user copies: the agent sees the change and sends nothing.
        async with copying(x_display, b"bank PIN 1234"):
            await eventually(lambda: bridge.seen == 1)
        assert bridge.reported == 0 and live.clipboard_out == 0
        ended = await admin.post(f"/api/v1/remote-sessions/{sid}/end")
        assert ended.status == 200
        assert ended.json["summary"]["clipboard_from_device"] == 0
