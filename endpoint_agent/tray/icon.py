"""A system-tray icon for X11 (the freedesktop System Tray protocol over XEmbed).

pystray's X11 backend docks an icon that cannot be clicked (its window lacks
ButtonPressMask, upstream issue #151), and its GTK backend needs PyGObject built against
this GLib; this small python-xlib icon docks into any XEmbed tray host (trayer,
stalonetray, panels) and reports clicks. It runs its own display connection in a thread.

Spec: https://specifications.freedesktop.org/systemtray-spec/ (SYSTEM_TRAY_REQUEST_DOCK)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from Xlib import X, Xutil, display, error
from Xlib.protocol import event as xevent

log = logging.getLogger("deskmate.agent.tray")

SYSTEM_TRAY_REQUEST_DOCK = 0
XEMBED_MAPPED = 1
SIZE = 24
COLOURS = {"online": 0x2E9E5B, "offline": 0x8A94A6, "attention": 0xD9822B}


class TrayIcon:
    """An icon docked in the X11 system tray; ``on_click(x, y)`` runs in its thread."""

    def __init__(self, display_name: str | None, on_click: Callable[[int, int], None]) -> None:
        self.d = display.Display(display_name)
        self.screen = self.d.screen()
        self.on_click = on_click
        self.state = "offline"
        self.docked = threading.Event()
        self._stop = False
        self.window = self.screen.root.create_window(
            0, 0, SIZE, SIZE, 0, self.screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=self.screen.white_pixel,
            event_mask=(X.ButtonPressMask | X.ExposureMask | X.StructureNotifyMask))
        self.window.set_wm_name("Deskmate")
        self.window.set_wm_class("deskmate-tray", "Deskmate")
        # Tray hosts built on GtkSocket (trayer) size the icon from these hints.
        self.window.set_wm_normal_hints(flags=Xutil.PMinSize | Xutil.PBaseSize,
                                        min_width=SIZE, min_height=SIZE,
                                        base_width=SIZE, base_height=SIZE)
        self.window.change_property(self.d.intern_atom("_XEMBED_INFO"),
                                    self.d.intern_atom("_XEMBED_INFO"), 32, [0, XEMBED_MAPPED])
        self.gc = self.window.create_gc(foreground=COLOURS["offline"])
        self._thread = threading.Thread(target=self._loop, name="tray-icon", daemon=True)

    def start(self) -> None:
        """Ask the tray host to dock the icon and start handling its events."""
        self._dock()
        self._thread.start()

    def _dock(self) -> bool:
        selection = self.d.intern_atom(f"_NET_SYSTEM_TRAY_S{self.d.get_default_screen()}")
        owner = self.d.get_selection_owner(selection)
        if owner == X.NONE or owner is None:
            log.warning("no system tray on this display; waiting for one")
            return False
        opcode = self.d.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        owner.send_event(xevent.ClientMessage(
            window=owner, client_type=opcode,
            data=(32, [X.CurrentTime, SYSTEM_TRAY_REQUEST_DOCK, self.window.id, 0, 0])),
            event_mask=X.NoEventMask)
        self.d.flush()
        return True

    def set_state(self, state: str) -> None:
        """Show the connection state (online, offline, attention) in the icon's colour."""
        if state != self.state:
            self.state = state
            self.gc.change(foreground=COLOURS.get(state, COLOURS["offline"]))
            self._draw()

    def _draw(self) -> None:
        try:
            geom = self.window.get_geometry()
            w, h = geom.width, geom.height
            self.window.clear_area(0, 0, w, h)
            side = min(w, h) - 6
            if side < 4:  # not sized by the tray host yet
                return
            x, y = (w - side) // 2, (h - side) // 2
            # A rounded "speech bubble": the service desk is one click away.
            self.window.fill_arc(self.gc, x, y, side, side * 4 // 5, 0, 360 * 64)
            self.window.fill_rectangle(self.gc, x + side // 5, y + side * 3 // 5,
                                       side // 4, side * 2 // 5)
            self.d.flush()
        except error.XError as exc:
            log.debug("cannot draw the icon: %s", exc)

    def _loop(self) -> None:
        while not self._stop:
            ev = self.d.next_event()
            if ev.type == X.ReparentNotify:
                if ev.parent != self.screen.root:
                    self.docked.set()
                    self.window.map()
                    self.d.flush()
            elif ev.type in (X.Expose, X.ConfigureNotify, X.MapNotify):
                self._draw()
            elif ev.type == X.ButtonPress:
                self.on_click(ev.root_x, ev.root_y)

    def root_position(self) -> tuple[int, int]:
        """Return the icon's centre in root coordinates (for tests and menus)."""
        pos = self.window.translate_coords(self.screen.root, 0, 0)
        geom = self.window.get_geometry()
        return -pos.x + geom.width // 2, -pos.y + geom.height // 2

    def close(self) -> None:
        """Remove the icon."""
        self._stop = True
        try:
            self.window.destroy()
            self.d.flush()
        except error.XError:
            pass

