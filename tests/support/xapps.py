"""Real X clients for remote-session tests: a pattern-and-button app, window lookup, clicks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.waiting import eventually

# Four solid bars the viewer must show, left to right (R, G, B).
PATTERN = ((220, 30, 30), (30, 180, 60), (40, 70, 220), (240, 200, 20))
BAR = (100, 160)  # width, height of each bar

APP = r'''
import json, sys, tkinter as tk
colors = %(colors)r
bar_w, bar_h = %(bar)r
root = tk.Tk(className="deskmate-test-app")
root.title("Pattern app")
root.geometry("+%(x)d+%(y)d")
root.configure(bg="#ffffff")
canvas = tk.Canvas(root, width=bar_w * 4, height=bar_h, highlightthickness=0, bd=0)
canvas.pack()
for i, (r, g, b) in enumerate(colors):
    canvas.create_rectangle(i * bar_w, 0, (i + 1) * bar_w, bar_h, width=0,
                            fill="#%%02x%%02x%%02x" %% (r, g, b))
state = {"clicks": 0}
button = tk.Button(root, text="Press me", width=20, height=3)
def pressed():
    state["clicks"] += 1
    button.configure(text="Pressed %%d" %% state["clicks"])
    print("clicked", state["clicks"], flush=True)
button.configure(command=pressed)
button.pack(pady=10)
entry = tk.Entry(root, width=30)
entry.pack(pady=5)
def typed(_event=None):
    print("text", json.dumps(entry.get()), flush=True)
entry.bind("<KeyRelease>", typed)
# Click to focus, as a window manager would: with no window manager the X focus is whatever
# an earlier test's window left it at, and Tk only follows a focus that reaches its toplevel.
entry.bind("<Button-1>", lambda _event: entry.focus_force(), add="+")
root.update_idletasks()
root.update()
print(json.dumps({"canvas": [canvas.winfo_rootx(), canvas.winfo_rooty()],
                  "button": [button.winfo_rootx(), button.winfo_rooty(),
                             button.winfo_width(), button.winfo_height()],
                  "entry": [entry.winfo_rootx(), entry.winfo_rooty(),
                            entry.winfo_width(), entry.winfo_height()]}), flush=True)
root.mainloop()
'''


@dataclass
class PatternApp:
    """A running test app: where its parts are and what it printed."""

    proc: asyncio.subprocess.Process
    canvas: tuple[int, int]
    button: tuple[int, int, int, int]
    entry: tuple[int, int, int, int]

    async def next_line(self, wait: float = 10) -> str:
        """Return the next line the app printed."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), wait)
        return line.decode().strip()

    def button_center(self) -> tuple[int, int]:
        x, y, w, h = self.button
        return x + w // 2, y + h // 2


@asynccontextmanager
async def pattern_app(display: str, *, x: int = 60, y: int = 560) -> AsyncIterator[PatternApp]:
    """Run the pattern app on ``display`` at (x, y)."""
    source = APP % {"colors": PATTERN, "bar": BAR, "x": x, "y": y}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", source, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env={**os.environ, "DISPLAY": display})
    try:
        assert proc.stdout is not None
        layout = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        yield PatternApp(proc=proc, canvas=tuple(layout["canvas"]),  # type: ignore[arg-type]
                         button=tuple(layout["button"]),  # type: ignore[arg-type]
                         entry=tuple(layout["entry"]))  # type: ignore[arg-type]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def find_window(display: str, title: str) -> tuple[int, int, int, int] | None:
    """Return (x, y, width, height) in root coordinates of a mapped window named ``title``."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        root = d.screen().root
        stack: list[Any] = [root]
        while stack:
            window = stack.pop()
            try:
                name = window.get_wm_name()
                attrs = window.get_attributes()
            except Exception:  # noqa: S112 - windows come and go while we walk
                continue
            try:
                if name == title and attrs.map_state == X.IsViewable:
                    geom = window.get_geometry()
                    pos = window.translate_coords(root, 0, 0)
                    return -pos.x, -pos.y, geom.width, geom.height
                stack.extend(window.query_tree().children)
            except Exception:  # noqa: S112 - it closed between the two requests
                continue
        return None
    finally:
        d.close()


async def wait_window(display: str, title: str, wait: float = 20) -> tuple[int, int, int, int]:
    """Wait for a window named ``title`` to appear; return its root geometry."""
    async with asyncio.timeout(wait):
        while True:
            found = await asyncio.to_thread(find_window, display, title)
            if found is not None:
                return found
            await asyncio.sleep(0.05)


def click(display: str, x: int, y: int, button: int = 1) -> None:
    """Move the pointer to (x, y) and click, through XTEST (as a person's mouse would)."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        xtest.fake_input(d, X.MotionNotify, x=x, y=y)
        d.sync()
        xtest.fake_input(d, X.ButtonPress, button)
        d.sync()
        xtest.fake_input(d, X.ButtonRelease, button)
        d.sync()
    finally:
        d.close()


async def press_in_window(display: str, title: str, rect: tuple[int, int, int, int]) -> None:
    """Click the middle of ``rect`` (relative to the window named ``title``) until it closes.

    Every button pressed this way closes its window (Allow, Deny, End session). Tk maps
    the window a moment before it draws the buttons, so a click that came too early is
    repeated.
    """
    for _attempt in range(5):
        wx, wy, _w, _h = await wait_window(display, title)
        x, y, w, h = rect
        await asyncio.to_thread(click, display, wx + x + w // 2, wy + y + h // 2)
        async def closed() -> bool:
            return await asyncio.to_thread(find_window, display, title) is None

        with contextlib.suppress(AssertionError):
            await eventually(closed, within=1.5, every=0.05)
            return
    raise AssertionError(f"clicking in {title!r} did not close it")
