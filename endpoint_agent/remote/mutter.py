"""GNOME/Wayland remote desktop through Mutter's own D-Bus interfaces (pure-Python jeepney).

GNOME's compositor offers what GNOME Remote Desktop itself uses: ``org.gnome.Mutter.
RemoteDesktop`` (a session that injects pointer and keyboard input) and ``org.gnome.Mutter.
ScreenCast`` (a PipeWire stream of one monitor, tied to that session). This module is the
D-Bus client only: :class:`MutterSession` opens both sessions, starts them, and hands
input on to the compositor. The frames are read from the PipeWire stream by
:mod:`endpoint_agent.remote.wayland`.

All calls block; each session belongs to one thread (the agent's input thread).
"""

from __future__ import annotations

import logging
import os
import queue
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.io import threading as jthreading
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import MessageFlag

log = logging.getLogger("deskmate.agent.remote")

RD_NAME = "org.gnome.Mutter.RemoteDesktop"
RD_PATH = "/org/gnome/Mutter/RemoteDesktop"
SC_NAME = "org.gnome.Mutter.ScreenCast"
SC_PATH = "/org/gnome/Mutter/ScreenCast"
DC_NAME = "org.gnome.Mutter.DisplayConfig"
DC_PATH = "/org/gnome/Mutter/DisplayConfig"
CALL_TIMEOUT = 10.0

CURSOR_HIDDEN, CURSOR_EMBEDDED, CURSOR_METADATA = 0, 1, 2
# Linux input event codes of the mouse buttons, by DOM MouseEvent.buttons bit.
BUTTONS = ((1, 0x110), (2, 0x111), (4, 0x112), (8, 0x113), (16, 0x114))
AXIS_VERTICAL, AXIS_HORIZONTAL = 0, 1


class MutterError(RuntimeError):
    """Mutter's remote-desktop interfaces are missing or refused a request."""


@dataclass
class Monitor:
    """One logical monitor of the GNOME desktop (layout pixels) and its connector."""

    connector: str
    x: int
    y: int
    width: int
    height: int
    primary: bool


def session_bus_address() -> str | None:
    """Return the session bus address of this desktop session, or None."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    return None


def connect(address: str | None = None) -> DBusConnection:
    """Open a connection to the session bus (MutterError when there is none)."""
    address = address or session_bus_address()
    if not address:
        raise MutterError("no D-Bus session bus")
    try:
        return open_dbus_connection(address)
    except (OSError, ValueError) as exc:
        raise MutterError(f"cannot reach the D-Bus session bus: {exc}") from exc


class Router:
    """A session bus connection shared by threads (jeepney's threading router), with fds.

    The RemoteDesktop session answers only the connection that created it, so input (the
    input thread) and clipboard (the clipboard thread) share this one; its own receiver
    thread hands each reply to its caller and each signal to the filters that match.
    """

    def __init__(self, address: str | None) -> None:
        address = address or session_bus_address()
        if not address:
            raise MutterError("no D-Bus session bus")
        try:
            self.conn = jthreading.open_dbus_connection(address, enable_fds=True)
        except (OSError, ValueError) as exc:
            raise MutterError(f"cannot reach the D-Bus session bus: {exc}") from exc
        self.router = jthreading.DBusRouter(self.conn)

    def send_and_get_reply(self, msg: Any, *, timeout: float | None = None) -> Any:
        """Send a call and wait for its reply (any thread)."""
        return self.router.send_and_get_reply(msg, timeout=timeout)

    def send(self, msg: Any) -> None:
        """Send a message without waiting (any thread)."""
        self.router.send(msg)

    def filter(self, rule: MatchRule, *, queue: Any = None, bufsize: int = 1) -> Any:
        """Return a filter handle whose queue receives the matching messages."""
        return self.router.filter(rule, queue=queue, bufsize=bufsize)

    def close(self) -> None:
        """Stop the receiver and close the connection."""
        self.router.close()
        self.conn.close()


def add_match(conn: Any, rule: MatchRule) -> None:
    """Ask the bus to route the signals ``rule`` matches to this connection."""
    call(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
         "AddMatch", "s", (rule.serialise(),))


def call(conn: Any, name: str, path: str, interface: str, method: str,
         signature: str | None = None, body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """Call one method; return its reply body (MutterError on a D-Bus error)."""
    msg = new_method_call(DBusAddress(path, bus_name=name, interface=interface), method,
                          signature, body)
    reply = conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
    if reply.header.message_type == MessageType.error:
        error = reply.header.fields.get(HeaderFields.error_name, "error")
        raise MutterError(f"{interface}.{method}: {error}: {reply.body}")
    return tuple(reply.body)


def has_name(conn: DBusConnection, name: str) -> bool:
    """Tell whether ``name`` has an owner on the bus."""
    (owned,) = call(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                    "org.freedesktop.DBus", "NameHasOwner", "s", (name,))
    return bool(owned)


def probe(address: str | None = None) -> str | None:
    """Return None when Mutter's interfaces answer, otherwise why they cannot be used."""
    try:
        conn = connect(address)
    except MutterError as exc:
        return str(exc)
    try:
        for name in (RD_NAME, SC_NAME):
            if not has_name(conn, name):
                return f"{name} is not on the session bus (not a GNOME session)"
        return None
    except Exception as exc:
        return f"the session bus did not answer: {exc}"
    finally:
        conn.close()


def monitors(conn: DBusConnection) -> list[Monitor]:
    """Return the desktop's logical monitors, primary first (DisplayConfig.GetCurrentState)."""
    _serial, physical, logical, _props = call(conn, DC_NAME, DC_PATH, DC_NAME,
                                              "GetCurrentState")
    sizes: dict[str, tuple[int, int]] = {}
    for (connector, _vendor, _product, _serial_no), modes, _mprops in physical:
        for _id, width, height, _rate, _scale, _scales, mode_props in modes:
            current = mode_props.get("is-current")
            if current and current[1]:
                sizes[connector] = (width, height)
    found = []
    for x, y, scale, _transform, primary, members, _lprops in logical:
        connector = members[0][0] if members else ""
        width, height = sizes.get(connector, (0, 0))
        if scale and scale != 1:  # layout pixels are what the stream and input use
            width, height = round(width / scale), round(height / scale)
        found.append(Monitor(connector, x, y, width, height, bool(primary)))
    found.sort(key=lambda m: (not m.primary, m.x, m.y))
    return found


class MutterSession:
    """One RemoteDesktop session with its ScreenCast stream of one monitor."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self._conn: Router | None = None
        self.rd_session = ""
        self.sc_session = ""
        self.stream = ""
        self.node_id = 0
        self.size = (0, 0)
        self.position = (0, 0)
        self._buttons = 0

    def open(self, connector: str, *, cursor: int = CURSOR_EMBEDDED) -> int:
        """Create and start the sessions for ``connector``; return the PipeWire node id."""
        conn = self._conn = Router(self.address)
        (self.rd_session,) = call(conn, RD_NAME, RD_PATH, RD_NAME, "CreateSession")
        (_sig, session_id), = call(conn, RD_NAME, self.rd_session,
                                   "org.freedesktop.DBus.Properties", "Get", "ss",
                                   (RD_NAME + ".Session", "SessionId"))
        (self.sc_session,) = call(conn, SC_NAME, SC_PATH, SC_NAME, "CreateSession",
                                  "a{sv}", ({"remote-desktop-session-id": ("s", session_id)},))
        (self.stream,) = call(conn, SC_NAME, self.sc_session, SC_NAME + ".Session",
                              "RecordMonitor", "sa{sv}",
                              (connector, {"cursor-mode": ("u", cursor)}))
        rule = MatchRule(type="signal", interface=SC_NAME + ".Stream",
                         member="PipeWireStreamAdded", path=self.stream)
        add_match(conn, rule)
        with conn.filter(rule) as added:
            call(conn, RD_NAME, self.rd_session, RD_NAME + ".Session", "Start")
            try:
                signal = added.get(timeout=CALL_TIMEOUT)
            except queue.Empty:
                raise MutterError("the ScreenCast stream did not start") from None
        self.node_id = int(signal.body[0])
        (_sig, params), = call(conn, SC_NAME, self.stream, "org.freedesktop.DBus.Properties",
                               "Get", "ss", (SC_NAME + ".Stream", "Parameters"))
        if "size" in params:
            self.size = tuple(params["size"][1])
        if "position" in params:
            self.position = tuple(params["position"][1])
        return self.node_id

    @property
    def bus(self) -> Router:
        """The session's bus connection (the clipboard shares it: MutterError if closed)."""
        if self._conn is None:
            raise MutterError("the session is closed")
        return self._conn

    def close(self) -> None:
        """Release held buttons, stop the session (the stream ends with it)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            for bit, code in BUTTONS:
                if self._buttons & bit:
                    self._notify(conn, "NotifyPointerButton", "ib", (code, False))
            self._buttons = 0
            if self.rd_session:
                call(conn, RD_NAME, self.rd_session, RD_NAME + ".Session", "Stop")
        except Exception as exc:  # already closed by the compositor
            log.debug("stopping the Mutter session: %s", exc)
        finally:
            conn.close()

    def _notify(self, conn: Router, method: str, signature: str,
                body: tuple[Any, ...], *, wait: bool = False) -> None:
        if wait:
            call(conn, RD_NAME, self.rd_session, RD_NAME + ".Session", method, signature, body)
            return
        msg = new_method_call(DBusAddress(self.rd_session, bus_name=RD_NAME,
                                          interface=RD_NAME + ".Session"),
                              method, signature, body)
        msg.header.flags |= MessageFlag.no_reply_expected
        conn.send(msg)

    def notify(self, method: str, signature: str, body: tuple[Any, ...], *,
               wait: bool = False) -> None:
        """Send one input request to the RemoteDesktop session.

        Pointer motion does not wait for Mutter's reply (it answers between its frames:
        100 ms and more on a loaded machine), so a moving pointer is never held up; the
        bus keeps the order. Buttons, keys and the motion right before a button wait
        (``wait``): a press that reached the application together with the pointer's
        arrival was lost there.
        """
        if self._conn is None:
            raise MutterError("the session is closed")
        self._notify(self._conn, method, signature, body, wait=wait)

    def motion(self, x: float, y: float, *, wait: bool = False) -> None:
        """Move the pointer to (x, y) in the streamed monitor's pixels."""
        self.notify("NotifyPointerMotionAbsolute", "sdd", (self.stream, float(x), float(y)),
                    wait=wait)

    @property
    def held(self) -> int:
        """The DOM ``buttons`` mask held now."""
        return self._buttons

    def buttons(self, pressed: int) -> None:
        """Press and release buttons so that the DOM ``buttons`` mask ``pressed`` holds."""
        for bit, code in BUTTONS:
            was, now = self._buttons & bit, pressed & bit
            if bool(now) != bool(was):
                self.notify("NotifyPointerButton", "ib", (code, bool(now)), wait=True)
        self._buttons = pressed

    def wheel(self, dx: int, dy: int) -> None:
        """Scroll by whole steps (positive: down and right)."""
        if dy:
            self.notify("NotifyPointerAxisDiscrete", "ui", (AXIS_VERTICAL, dy), wait=True)
        if dx:
            self.notify("NotifyPointerAxisDiscrete", "ui", (AXIS_HORIZONTAL, dx), wait=True)

    def key(self, keysym: int, down: bool) -> None:
        """Press or release the key making X keysym ``keysym``."""
        self.notify("NotifyKeyboardKeysym", "ub", (keysym, down), wait=True)
