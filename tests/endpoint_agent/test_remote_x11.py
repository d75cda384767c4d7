"""The agent's remote sessions on a real X display: consent dialog, frames, input, indicator."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simplejpeg

from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from endpoint_agent.remote.refine import decode_png
from shared import protocol as p
from shared import screen
from tests.support.agents import RunningAgent, start_agent
from tests.support.remote import (
    Device,
    ViewerClient,
    enrolled,
    ticket_with_device,
    timeline,
    viewer,
    wait_state,
)
from tests.support.server import Client, RunningServer
from tests.support.xapps import (
    BAR,
    PATTERN,
    click,
    pattern_app,
    press_in_window,
    wait_window,
)

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]


class Picture:
    """The screen as a viewer would draw it: key frames and deltas applied in order."""

    def __init__(self) -> None:
        self.pixels: np.ndarray[Any, Any] | None = None
        self.headers: list[screen.FrameHeader] = []
        self.copies = 0  # scroll copy records applied
        self.refined = 0  # lossless (PNG) tiles applied

    def apply(self, data: bytes) -> screen.FrameHeader:
        header, tiles = screen.unpack_frame(data)
        if self.pixels is None or self.pixels.shape[:2] != (header.height, header.width):
            assert header.key, "the first frame a viewer gets is a key frame"
            self.pixels = np.zeros((header.height, header.width, 3), dtype=np.uint8)
        for tile in tiles:
            if tile.src is not None:
                sx, sy = tile.src
                rgb = self.pixels[sy:sy + tile.height, sx:sx + tile.width].copy()
                self.copies += 1
            elif tile.jpeg[:8] == screen.PNG_SIGNATURE:  # a lossless refinement
                rgb = decode_png(tile.jpeg)
                self.refined += 1
            else:
                rgb = simplejpeg.decode_jpeg(tile.jpeg, colorspace="RGB")
            self.pixels[tile.y:tile.y + tile.height, tile.x:tile.x + tile.width] = rgb
        self.headers.append(header)
        return header

    def mean(self, x: int, y: int, w: int, h: int) -> tuple[int, ...]:
        assert self.pixels is not None
        return tuple(int(v) for v in self.pixels[y:y + h, x:x + w].reshape(-1, 3).mean(axis=0))


async def read_frames(v: ViewerClient, picture: Picture, *, until: Any, ack: bool = True,
                      wait: float = 20) -> None:
    """Apply frames (acknowledging them like the console) until ``until(picture)``."""
    import aiohttp

    async with asyncio.timeout(wait):
        while not until(picture):
            msg = await v.ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                header = picture.apply(msg.data)
                if ack:
                    await v.send({"type": "ack", "seq": header.seq})
            elif msg.type == aiohttp.WSMsgType.TEXT:
                v.texts.append(json.loads(msg.data))
            else:
                raise AssertionError(f"viewer closed: {msg.type}")


def shows_pattern(origin: tuple[int, int]) -> Any:
    """Return a check that the picture shows the pattern app's bars at ``origin``."""
    def check(picture: Picture) -> bool:
        if picture.pixels is None:
            return False
        for i, color in enumerate(PATTERN):
            got = picture.mean(origin[0] + i * BAR[0] + 20, origin[1] + 20, BAR[0] - 40,
                               BAR[1] - 40)
            if max(abs(a - b) for a, b in zip(got, color, strict=True)) > 24:
                return False
        return True
    return check


@contextlib.asynccontextmanager
async def remote_agent_on(server: RunningServer, device: Device, display: str,
                          ) -> AsyncIterator[tuple[RunningAgent, RemoteSupport]]:
    remote = RemoteSupport(display)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        yield running, remote
    finally:
        await running.stop()


async def start(staff: Client, ticket_id: int, mode: str = "control") -> dict[str, Any]:
    resp = await staff.post(f"/api/v1/tickets/{ticket_id}/remote-sessions",
                            json={"reason": "printer check", "mode": mode})
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_consent_frames_input_and_user_end(
        server: RunningServer, admin: Client, technician: Client, x_display: str,
        tmp_path: Path) -> None:
    """Allow in the dialog, see the pattern, click its button, then the user ends it."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, \
            remote_agent_on(server, device, x_display) as (_agent, remote):
        session = await start(technician, ticket["id"])
        # The dialog names the technician and the ticket; the user presses Allow.
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, session["id"], "active")
        await wait_window(x_display, ui.INDICATOR_TITLE)
        picture = Picture()
        async with viewer(server, technician, session["id"]) as v:
            await read_frames(v, picture, until=shows_pattern(app.canvas))
            # A click in the picture reaches the app's button.
            bx, by = app.button_center()
            for buttons in (0, 1, 0):
                await v.send({"type": "pointer", "x": bx, "y": by, "buttons": buttons})
            assert await app.next_line() == "clicked 1"
            # And its label changes on the stream as well (the button is redrawn).
            before = picture.mean(*app.button)
            await read_frames(v, picture, until=lambda pic: pic.mean(*app.button) != before)
            # Keys typed into the app's entry field arrive as text.
            ex, ey, ew, eh = app.entry
            for buttons in (1, 0):
                await v.send({"type": "pointer", "x": ex + ew // 2, "y": ey + eh // 2,
                              "buttons": buttons})
            await v.send({"type": "text", "text": "Hi!"})
            async with asyncio.timeout(10):
                while (line := await app.next_line()) != 'text "Hi!"':
                    pass
            assert line == 'text "Hi!"'
            # The user presses End session on the indicator.
            _ix, _iy, width, _ih = await wait_window(x_display, ui.INDICATOR_TITLE)
            await press_in_window(x_display, ui.INDICATOR_TITLE, ui.end_button(width))
            ended = await v.next_text("ended")
            assert (ended["by"], ended["outcome"]) == ("user", "completed")
        got = await wait_state(technician, session["id"], "ended")
        assert got.json["ended_by"] == "user"
        assert remote.session is None and remote.history[-1].injected >= 4
    events = await timeline(admin, ticket["id"])
    assert [e["changes"]["step"] for e in events] == ["requested", "started", "ended"]
    assert "ended by the user" in events[-1]["body"]


async def test_deny_and_timeout(server: RunningServer, admin: Client, x_display: str,
                                tmp_path: Path) -> None:
    """Deny in the dialog refuses; no answer refuses too once the dialog times out."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent_on(server, device, x_display) as (_agent, remote):
        first = await start(admin, ticket["id"])
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.DENY_BUTTON)
        got = await wait_state(admin, first["id"], "ended")
        assert got.json["outcome"] == "denied"
        # The dialog's own countdown: answered "timeout" by the agent, not the server.
        answer = await remote.ask(kind="session", technician="Tina", ticket="INC-1",
                                  title="t", reason="r", mode="view", seconds=1)
        assert answer == "timeout"
    events = await timeline(admin, ticket["id"])
    assert events[-1]["body"] == "Remote session not started: the user refused."


async def test_view_only_session_ignores_input_on_the_agent(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """Input reaching the agent during a view-only session is dropped, not injected."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with pattern_app(x_display) as app, \
            remote_agent_on(server, device, x_display) as (_agent, remote):
        session = await start(admin, ticket["id"], mode="view")
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(admin, session["id"], "active")
        live = remote.session
        assert live is not None and live.mode == "view"
        bx, by = app.button_center()
        # As if the server had forwarded input anyway: the agent must not act on it.
        for buttons in (1, 0):
            remote.on_message(p.SessionInput(session=session["id"], event=screen.PointerEvent(
                x=bx, y=by, buttons=buttons)))
        assert live.ignored_inputs == 2 and live.injected == 0
        # The same click made by the user's own mouse does reach the app (it is alive).
        await asyncio.to_thread(click, x_display, bx, by)
        assert await app.next_line() == "clicked 1"
        assert live.injected == 0
        ended = await admin.post(f"/api/v1/remote-sessions/{session['id']}/end")
        assert ended.status == 200
        await asyncio.wait_for(remote.finished.wait(), 10)
        assert remote.session is None and remote.history[-1] is live


SCROLLER = r'''
import tkinter as tk
root = tk.Tk()
root.geometry("900x500+500+420")
text = tk.Text(root, bg="#101010", fg="#d0d0d0", font=("DejaVu Sans Mono", 11), bd=0,
               highlightthickness=0, insertwidth=0)
text.pack(fill="both", expand=True)
state = {"n": 0}
def line():
    state["n"] += 1
    n = state["n"]
    text.insert("end", "line %06d: the quick brown fox %s\n" % (n, "=" * (n % 50)))
    text.see("end")
    root.after(20, line)
line()
print("ready", flush=True)
root.mainloop()
'''


async def test_scrolling_text_is_reproduced_exactly_enough(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """Deltas and scroll copies rebuild the screen: frozen, the picture matches a grab."""
    import os
    import signal
    import sys

    import mss

    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCROLLER, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "DISPLAY": x_display})
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 20)).strip() == b"ready"
        async with remote_agent_on(server, device, x_display) as (_agent, remote):
            session = await start(admin, ticket["id"], mode="view")
            await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
            await wait_state(admin, session["id"], "active")
            picture = Picture()
            async with viewer(server, admin, session["id"]) as v:
                await read_frames(v, picture, until=lambda pic: len(pic.headers) >= 60)
                proc.send_signal(signal.SIGSTOP)
                # Drain what was in flight, then compare with the screen as it is.
                with contextlib.suppress(TimeoutError):
                    await read_frames(v, picture, until=lambda _pic: False, wait=1.5)

                def grab() -> Any:
                    with mss.MSS(display=x_display) as grabber:
                        shot = grabber.grab(grabber.monitors[1])
                    return np.frombuffer(shot.raw, np.uint8).reshape(
                        shot.height, shot.width, 4)[:, :, 2::-1]

                screen_now = await asyncio.to_thread(grab)
                assert picture.pixels is not None
                area = (slice(420, 920), slice(500, 1400))  # the scrolling window
                error = np.abs(picture.pixels[area].astype(int) - screen_now[area].astype(int))
                assert error.mean() < 4, error.mean()
                assert picture.copies > 0  # the scrolls travelled as copies, not pixels
            live = remote.session
            assert live is not None and live.frames_sent >= 60
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_control_needs_a_second_yes_and_is_audited(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """View to control asks the user again: Deny keeps view only, Allow lets input through."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with pattern_app(x_display) as app, \
            remote_agent_on(server, device, x_display) as (_agent, remote):
        session = await start(admin, ticket["id"], mode="view")
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(admin, session["id"], "active")
        sid = session["id"]
        async with viewer(server, admin, sid) as v:
            await v.next_text("welcome")
            for answer, button in (("refused", ui.DENY_BUTTON), ("allowed", ui.ALLOW_BUTTON)):
                asked = await admin.post(f"/api/v1/remote-sessions/{sid}/mode",
                                         json={"mode": "control"})
                assert asked.status == 200 and asked.json["pending_mode"] == "control"
                assert asked.json["mode"] == "view"
                await press_in_window(x_display, ui.DIALOG_TITLE, button)
                status = await v.next_text("status")
                while status["pending_mode"] is not None:
                    status = await v.next_text("status")
                assert status["mode"] == ("view" if answer == "refused" else "control")
            bx, by = app.button_center()
            for buttons in (1, 0):
                await v.send({"type": "pointer", "x": bx, "y": by, "buttons": buttons})
            assert await app.next_line() == "clicked 1"
            assert remote.session is not None and remote.session.mode == "control"
            down = await admin.post(f"/api/v1/remote-sessions/{sid}/mode",
                                    json={"mode": "view"})
            assert down.json["mode"] == "view" and down.json["pending_mode"] is None
        await admin.post(f"/api/v1/remote-sessions/{sid}/end")
    steps = [e["changes"]["step"] for e in await timeline(admin, ticket["id"])]
    assert steps == ["requested", "started", "mode_requested", "mode_refused",
                     "mode_requested", "mode", "mode", "ended"]


async def test_withdrawn_request_takes_the_dialog_away(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path) -> None:
    """Ending a session the user has not answered yet closes the dialog on their screen."""
    from tests.support.waiting import eventually
    from tests.support.xapps import find_window

    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent_on(server, device, x_display) as (_agent, remote):
        session = await start(admin, ticket["id"])
        await wait_window(x_display, ui.DIALOG_TITLE)
        ended = await admin.post(f"/api/v1/remote-sessions/{session['id']}/end")
        assert ended.status == 200 and ended.json["outcome"] == "withdrawn"

        async def gone() -> bool:
            return await asyncio.to_thread(find_window, x_display, ui.DIALOG_TITLE) is None

        await eventually(gone)
        await asyncio.wait_for(remote.finished.wait(), 10)
        assert remote.session is None and remote.history[-1].frames_sent == 0
    events = await timeline(admin, ticket["id"])
    assert events[-1]["body"] == "Remote session not started: withdrawn by Administrator."
