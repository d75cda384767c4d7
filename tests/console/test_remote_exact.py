"""An exact picture when the screen rests: real agent on Xvfb, real Chromium viewer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mss
import numpy as np
import pytest

from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from tests.console.test_console import log_in
from tests.console.test_remote import agent_on
from tests.support.agents import start_agent
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device, wait_state
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import press_in_window

pytestmark = [pytest.mark.browser, pytest.mark.x11, pytest.mark.timeout(150)]

# A Tk text full of lines that scrolls a line every 16 ms for a while, then rests.
TEXT_APP = r'''
import sys, tkinter as tk
root = tk.Tk(className="deskmate-text-app")
root.geometry("900x640+40+40")
text = tk.Text(root, font=("Courier", 11), bg="#ffffff", fg="#202020")
text.pack(fill="both", expand=True)
for i in range(60):
    text.insert("end", "line %03d  the quick brown fox jumps over the lazy dog 0123456789\n" % i)
state = {"n": 60}
def scroll():
    n = state["n"] = state["n"] + 1
    text.insert("end", "line %03d  ~ {[( pack my box with five dozen liquor jugs )]} #%d\n"
                % (n, n * 7))
    text.see("end")
    if n < 150:
        root.after(16, scroll)
    else:
        root.update_idletasks()
        print("rested", flush=True)
root.after(300, scroll)
root.mainloop()
'''

# The canvas's pixels as base64 RGBA, or its SHA-256 (hex) when `digest` is set.
READ_CANVAS = """async (digest) => {
  const canvas = document.querySelector("canvas.remote-canvas");
  const { width, height } = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  if (digest) {
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    return [width, height, [...hash].map((b) => b.toString(16).padStart(2, "0")).join("")];
  }
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return [width, height, btoa(s)];
}"""


# SHA-256 (hex) of the RGBA pixels of a rectangle [x, y, w, h] of the viewer's canvas.
READ_REGION = """async ([x, y, w, h]) => {
  const canvas = document.querySelector("canvas.remote-canvas");
  const data = canvas.getContext("2d").getImageData(x, y, w, h).data;
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
}"""
TEXT_WINDOW = (40, 40, 900, 640)  # where TEXT_APP's window is


def x_screen(display: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Return the X screen as RGBA (opaque), as a canvas holds it."""
    with mss.MSS(display=display) as grab:
        shot = grab.grab(grab.monitors[1])
        bgra = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
    rgba = bgra[:, :, [2, 1, 0, 3]].copy()
    rgba[:, :, 3] = 255
    return rgba


@contextlib.asynccontextmanager
async def text_app(display: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run the scrolling text app; stop it afterwards."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", TEXT_APP, env={**os.environ, "DISPLAY": display},
        stdout=asyncio.subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        await proc.wait()


async def test_resting_screen_becomes_exact(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path) -> None:
    """After a scrolling text rests, the viewer's canvas equals the X screen pixel for pixel."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with agent_on(device, x_display) as remote, \
            open_page(browser, server.base_url) as page:
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "look", "mode": "view"})
        sid = resp.json["id"]
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, sid, "active")
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/desk/remote/{sid}")

        async def drawn() -> bool:
            with contextlib.suppress(Exception):  # no canvas before the first frame
                return bool((await page.evaluate(READ_CANVAS, True))[0] > 1)
            return False

        await eventually(drawn, within=20)
        session = remote.session
        assert session is not None and session.refiner is not None  # the server takes PNG
        async with text_app(x_display) as app:
            assert app.stdout is not None
            line = await asyncio.wait_for(app.stdout.readline(), 30)
            assert line.strip() == b"rested"
            lossy_frames = session.frames_sent

            async def exact() -> bool:
                want = await asyncio.to_thread(x_screen, x_display)
                width, height, digest = await page.evaluate(READ_CANVAS, True)
                return bool((width, height) == want.shape[1::-1]
                            and digest == hashlib.sha256(want.tobytes()).hexdigest())

            await eventually(exact, within=20)
            width, height, data = await page.evaluate(READ_CANVAS, False)
            got = np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(height, width, 4)
            error = np.abs(got.astype(np.int16) - x_screen(x_display).astype(np.int16))
            assert (float(error.mean()), int(error.max())) == (0.0, 0)
            # The exact picture came from PNG refinements, and nothing more is owed: a still
            # screen sends nothing further (no refinement loop).
            assert session.refiner.frames > 0 and session.frames_sent > lossy_frames
            await eventually(lambda: session.refiner is not None and session.refiner.exact)
            assert session.refiner.due_in(0.0) is None


async def test_text_is_exact_without_refinement(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path) -> None:
    """Text goes as lossless PNG tiles: with refinement off, the text window on Chromium's
    canvas still equals the X screen pixel for pixel once the scrolling text has rested."""
    device = await enrolled(server, admin, tmp_path / "b")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    remote = RemoteSupport(x_display, refine=False)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with open_page(browser, server.base_url) as page:
            resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                         json={"reason": "look", "mode": "view"})
            sid = resp.json["id"]
            await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
            await wait_state(technician, sid, "active")
            await log_in(page, "tina", PASSWORD)
            await page.goto(f"/#/desk/remote/{sid}")
            session = remote.session
            assert session is not None and session.refiner is None and session.lossless
            async with text_app(x_display) as app:
                assert app.stdout is not None
                line = await asyncio.wait_for(app.stdout.readline(), 30)
                assert line.strip() == b"rested"

                x, y, w, h = TEXT_WINDOW
                want = await asyncio.to_thread(x_screen, x_display)
                digest = hashlib.sha256(want[y:y + h, x:x + w].tobytes()).hexdigest()

                async def exact() -> bool:
                    with contextlib.suppress(Exception):  # no canvas before the first frame
                        return bool(await page.evaluate(READ_REGION, TEXT_WINDOW) == digest)
                    return False

                await eventually(exact, within=20)
            capturer = remote._capturer
            assert capturer is not None and capturer.png_tiles > 0
    finally:
        await running.stop()
