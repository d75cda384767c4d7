"""A real Wayland client for remote-session tests: the pattern app in GTK 3.

It runs with Debian's own python3 and PyGObject (python3-gi, gir1.2-gtk-3.0) as a native
Wayland client (GDK_BACKEND=wayland), fullscreen so that its widgets' window coordinates
are screen coordinates, and prints the same layout and lines as the Tk pattern app of
:mod:`tests.support.xapps`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.support.tools import missing, require_executable
from tests.support.xapps import BAR, PATTERN, PatternApp

SYSTEM_PYTHON = "/usr/bin/python3"

APP = r'''
import json, sys
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk, GLib
colors = %(colors)r
bar_w, bar_h = %(bar)r
css = "".join("#bar%%d { background-color: #%%02x%%02x%%02x; }" %% (i, *c)
              for i, c in enumerate(colors))
provider = Gtk.CssProvider()
provider.load_from_data(css.encode())
Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), provider,
                                         Gtk.STYLE_PROVIDER_PRIORITY_USER)
win = Gtk.Window(title="Pattern app")
box = Gtk.Fixed()
win.add(box)
area = Gtk.Box(spacing=0)
for i in range(len(colors)):
    bar = Gtk.EventBox()  # plain colour from the style sheet (no cairo bindings needed)
    bar.set_name("bar%%d" %% i)
    bar.set_size_request(bar_w, bar_h)
    area.pack_start(bar, False, False, 0)
box.put(area, %(x)d, %(y)d)
button = Gtk.Button(label="Press me")
button.set_size_request(200, 60)
box.put(button, %(x)d, %(y)d + bar_h + 20)
entry = Gtk.Entry()
entry.set_size_request(300, 40)
box.put(entry, %(x)d, %(y)d + bar_h + 100)
clicks = [0]
def pressed(_b):
    clicks[0] += 1
    button.set_label("Pressed %%d" %% clicks[0])
    print("clicked", clicks[0], flush=True)
button.connect("clicked", pressed)
entry.connect("changed", lambda e: print("text", json.dumps(e.get_text()), flush=True))
win.connect("destroy", Gtk.main_quit)
shown = [False]
def report(*_a):
    if shown[0]:
        return False
    w, h = win.get_size()
    if (w, h) != (%(width)d, %(height)d):
        return True
    shown[0] = True
    def place(widget):
        x, y = widget.translate_coordinates(win, 0, 0)
        a = widget.get_allocation()
        return [x, y, a.width, a.height]
    print(json.dumps({"canvas": place(area)[:2], "button": place(button),
                      "entry": place(entry)}), flush=True)
    return False
win.fullscreen()
win.show_all()
GLib.timeout_add(50, report)
Gtk.main()
'''


@asynccontextmanager
async def gtk_pattern_app(env: dict[str, str], *, width: int, height: int, x: int = 60,
                          y: int = 160) -> AsyncIterator[PatternApp]:
    """Run the GTK pattern app fullscreen on the Wayland display of ``env``."""
    python = require_executable(SYSTEM_PYTHON)
    check = await asyncio.create_subprocess_exec(
        python, "-c", "import gi; gi.require_version('Gtk', '3.0')",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    if await check.wait() != 0:
        missing("python3-gi with GTK 3 (gir1.2-gtk-3.0) is not installed")
    source = APP % {"colors": PATTERN, "bar": BAR, "x": x, "y": y, "width": width,
                    "height": height}
    app_env = {**env, "GDK_BACKEND": "wayland"}
    app_env.pop("DISPLAY", None)  # a native Wayland client, never Xwayland
    proc = await asyncio.create_subprocess_exec(
        python, "-c", source, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=app_env)
    try:
        assert proc.stdout is not None
        layout = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        yield PatternApp(proc=proc, canvas=tuple(layout["canvas"]),  # type: ignore[arg-type]
                         button=tuple(layout["button"]),  # type: ignore[arg-type]
                         entry=tuple(layout["entry"]))  # type: ignore[arg-type]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
