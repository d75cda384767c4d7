"""The tray as a StatusNotifierItem in a real panel (xfce4-panel), with dunst for notifications."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from endpoint_agent.i18n import Texts
from endpoint_agent.ticket import screenshot_png
from endpoint_agent.tray.app import TrayApp
from endpoint_agent.tray.icon import TrayIcon
from tests.endpoint_agent.test_tray_channel import serving
from tests.endpoint_agent.test_tray_x11 import TkThread
from tests.support.agents import enroll_device, start_agent
from tests.support.desktop import Host, dunst, session_bus, xfce_panel
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

INDONESIAN = Texts("id")


@contextlib.asynccontextmanager
async def tray(socket: Path, x_display: str, bus: str) -> AsyncIterator[TkThread]:
    """Run the tray in Indonesian on the given session bus."""
    tk = TkThread(lambda: TrayApp(socket, display_name=x_display, language=INDONESIAN,
                                  screenshot=lambda: screenshot_png(x_display),
                                  bus_address=bus))
    try:
        yield tk
    finally:
        with contextlib.suppress(Exception):
            await tk.on_tk(lambda: tk.ready.result().quit())
        await asyncio.to_thread(tk.thread.join, 5)


@contextlib.contextmanager
def host(address: str) -> Iterator[Host]:
    h = Host(address)
    try:
        yield h
    finally:
        h.close()


async def test_the_tray_registers_with_the_panel_and_its_menu_raises_a_ticket(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path,
        x_display: str) -> None:
    """Without a watcher the XEmbed icon serves; with xfce4-panel the item registers, its
    translated menu raises a ticket on the server, and updates become dunst notifications."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as socket:
            with session_bus(tmp_path / "home", x_display) as env, \
                    host(env["DBUS_SESSION_BUS_ADDRESS"]) as panel_side:
                bus = env["DBUS_SESSION_BUS_ADDRESS"]
                # No StatusNotifierWatcher yet: the XEmbed icon is the fallback.
                async with tray(socket, x_display, bus) as tk:
                    app = await tk.app()
                    assert app.sni is None and isinstance(app.icon, TrayIcon)
                with xfce_panel(env), dunst(env):
                    await eventually(lambda: asyncio.to_thread(
                        panel_side.owns, "org.kde.StatusNotifierWatcher"), within=20)
                    await eventually(lambda: asyncio.to_thread(
                        panel_side.owns, "org.freedesktop.Notifications"), within=20)
                    async with tray(socket, x_display, bus) as tk:
                        app = await tk.app()
                        assert app.sni is not None and app.notifier is not None
                        await eventually(app.sni.registered.is_set)
                        items = await asyncio.to_thread(panel_side.registered_items)
                        (item,) = [i for i in items if i.split("/")[0] in (
                            app.sni.name, app.bus.unique_name if app.bus else "")]
                        await _raise_from_the_menu(app, tk, panel_side, item)
                        ticket_id = app.last_answer["ticket_id"] if app.last_answer else 0
                        await eventually(lambda: len(app.notifier.sent) == 1 if app.notifier
                                         else False)
                        reply = await technician.post(f"/api/v1/tickets/{ticket_id}/comments",
                                                      json={"body": "Which tray?"})
                        assert reply.status == 201
                        await eventually(lambda: len(app.notifier.sent) == 2 if app.notifier
                                         else False)
                        assert app.toast is None  # the desktop's server showed it
                        shown = await asyncio.to_thread(
                            panel_side.prop, "org.freedesktop.Notifications",
                            "/org/freedesktop/Notifications", "org.dunstproject.cmd0",
                            "displayedLength")
                        assert shown >= 1
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    assert ticket["title"] == "Pencetak macet"
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    assert ticket["device_ids"] == [device_id]


async def _raise_from_the_menu(app: TrayApp, tk: TkThread, panel_side: Host,
                               item: str) -> None:
    """Read the menu as the panel does, click Raise a ticket, and send the dialog."""
    tr = INDONESIAN
    menu: list[tuple[int, dict[str, Any]]] = []

    async def connected() -> bool:
        menu[:] = await asyncio.to_thread(panel_side.menu, item)
        return any(p.get("label") == tr("tray.status.connected") for _, p in menu)

    await eventually(connected)
    labels = [p.get("label", p.get("type")) for _, p in menu]
    assert labels == [tr("tray.menu.raise"), tr("tray.menu.my_tickets"),
                      tr("tray.menu.help_now"), "separator", tr("tray.status.connected"),
                      tr("tray.menu.quit")]
    assert [p.get("enabled") for _, p in menu][4] is False
    service = item.split("/")[0]
    pixmaps = await asyncio.to_thread(panel_side.prop, service, "/StatusNotifierItem",
                                      "org.kde.StatusNotifierItem", "IconPixmap")
    width, height, argb = pixmaps[0]
    centre = (height // 2 * width + width // 2) * 4
    assert bytes(argb[centre:centre + 4]) == bytes((255, 0x2E, 0x9E, 0x5B))  # green: online
    raise_id = menu[0][0]
    await asyncio.to_thread(panel_side.click, item, raise_id)
    await eventually(lambda: app.dialog is not None)
    dialog = app.dialog
    assert dialog is not None

    def fill() -> None:
        dialog.title.insert(0, "Pencetak macet")
        dialog.attach_shot.set(False)

    await tk.on_tk(fill)
    await tk.on_tk(dialog.send_button.invoke)
    await eventually(lambda: app.last_answer is not None)
    assert app.last_answer is not None and app.last_answer["number"] == "INC-000001"
    assert app.notifications == [tr("tray.dialog.created", number="INC-000001")]
