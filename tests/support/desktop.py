"""A desktop's session services for tray tests: a session bus, a panel, a notification server.

``session_bus`` starts Debian's ``dbus-daemon --session`` of its own; ``xfce_panel`` runs
Debian's xfce4-panel (4.18) with only its Status Tray plugin, which is a real
StatusNotifierWatcher and host (menus through libdbusmenu-gtk3), on an Xvfb display;
``dunst`` runs Debian's dunst as the ``org.freedesktop.Notifications`` server.
:class:`Host` asks the bus what a panel would ask, and clicks menu items as it does.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.support.tools import require_executable

PANEL_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array"><value type="int" value="1"/></property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def session_bus(home: Path, x_display: str) -> Iterator[dict[str, str]]:
    """Run a session bus of its own; yield the environment of a desktop session on it."""
    exe = require_executable("dbus-daemon")
    config = home / "config"
    (config / "xfce4/xfconf/xfce-perchannel-xml").mkdir(parents=True, exist_ok=True)
    # Services the bus starts on demand (xfconfd for the panel) get this environment.
    env = {**os.environ, "DISPLAY": x_display, "HOME": str(home),
           "XDG_CONFIG_HOME": str(config), "NO_AT_BRIDGE": "1"}
    proc = subprocess.Popen([exe, "--session", "--nofork", "--print-address=1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        yield {**env, "DBUS_SESSION_BUS_ADDRESS": address}
    finally:
        _stop(proc)
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def xfce_panel(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run xfce4-panel with only its Status Tray (StatusNotifierWatcher and host)."""
    exe = require_executable("xfce4-panel")
    channel = Path(env["XDG_CONFIG_HOME"]) / "xfce4/xfconf/xfce-perchannel-xml"
    (channel / "xfce4-panel.xml").write_text(PANEL_CONFIG)
    proc = subprocess.Popen([exe, "--disable-wm-check"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        _stop(proc)


@contextlib.contextmanager
def dunst(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run dunst as the session's notification server."""
    exe = require_executable("dunst")
    proc = subprocess.Popen([exe], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        _stop(proc)


class Host:
    """What a tray host asks over the bus (blocking; call it from a thread)."""

    def __init__(self, address: str) -> None:
        self.conn: DBusConnection = open_dbus_connection(bus=address)

    def call(self, bus_name: str, path: str, interface: str, method: str,
             signature: str | None = None, body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        """Call a method and return its reply's body (raises on an error reply)."""
        reply = self.conn.send_and_get_reply(new_method_call(
            DBusAddress(path, bus_name=bus_name, interface=interface), method, signature,
            body), timeout=5)
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{method} failed: {reply.body}")
        return tuple(reply.body)

    def owns(self, name: str) -> bool:
        """Tell whether ``name`` has an owner on the bus."""
        return bool(self.conn.send_and_get_reply(message_bus.NameHasOwner(name),
                                                 timeout=5).body[0])

    def prop(self, bus_name: str, path: str, interface: str, name: str) -> Any:
        """Return one property's value."""
        (value,) = self.call(bus_name, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                             (interface, name))
        return value[1]

    def registered_items(self) -> list[str]:
        """Return the items the StatusNotifierWatcher holds."""
        return list(self.prop("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
                              "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems"))

    def menu(self, item: str) -> list[tuple[int, dict[str, Any]]]:
        """Read an item's menu as a host does: its Menu property, then GetLayout."""
        service = item.split("/", 1)[0]
        path = self.prop(service, "/StatusNotifierItem", "org.kde.StatusNotifierItem", "Menu")
        _revision, (_root, _props, children) = self.call(
            service, path, "com.canonical.dbusmenu", "GetLayout", "iias", (0, -1, []))
        return [(child[1][0], {k: v[1] for k, v in child[1][1].items()})
                for child in children]

    def click(self, item: str, entry: int) -> None:
        """Send the ``clicked`` event a host sends when the user picks a menu entry."""
        service = item.split("/", 1)[0]
        self.call(service, "/MenuBar", "com.canonical.dbusmenu", "Event", "isvu",
                  (entry, "clicked", ("i", 0), 0))

    def close(self) -> None:
        """Leave the bus."""
        self.conn.close()
