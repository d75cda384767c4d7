"""The tray under Xvfb with a real tray host (trayer): the icon docks, the dialog files a ticket."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import mss
import mss.tools
import pytest
from Xlib import X, display
from Xlib.ext import xtest

from endpoint_agent.ticket import screenshot_png
from endpoint_agent.tray.app import TrayApp
from tests.endpoint_agent.test_tray_channel import serving
from tests.support.agents import enroll_device, start_agent
from tests.support.server import Client, RunningServer
from tests.support.tools import require_executable
from tests.support.waiting import eventually

T = TypeVar("T")


@contextlib.contextmanager
def trayer(x_display: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run Debian's trayer as the system-tray host of the display."""
    exe = require_executable("trayer")
    env = {**os.environ, "DISPLAY": x_display}
    proc = subprocess.Popen([exe, "--edge", "top", "--align", "right", "--widthtype", "request",
                             "--height", "32", "--SetDockType", "true", "--tint", "0xdddddd",
                             "--transparent", "false"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stderr:
            proc.stderr.close()


def tray_owned(x_display: str) -> bool:
    """Tell whether a tray host holds the system-tray selection of the display."""
    d = display.Display(x_display)
    try:
        owner = d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0"))
        return owner not in (None, X.NONE) and getattr(owner, "id", 0) != 0
    finally:
        d.close()


class TkThread:
    """A TrayApp living in its own thread (Tk calls stay in the thread that made it)."""

    def __init__(self, make: Callable[[], TrayApp]) -> None:
        self.ready: concurrent.futures.Future[TrayApp] = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._main, args=(make,), daemon=True)
        self.thread.start()

    def _main(self, make: Callable[[], TrayApp]) -> None:
        try:
            app = make()
        except Exception as exc:
            self.ready.set_exception(exc)
            return
        self.ready.set_result(app)
        app.run()

    async def app(self) -> TrayApp:
        return await asyncio.wrap_future(self.ready)

    async def on_tk(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the Tk thread and return its result."""
        app = await self.app()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except Exception as exc:
                done.set_exception(exc)

        app.call(run)
        return await asyncio.wrap_future(done)


@contextlib.asynccontextmanager
async def tray_app(socket: Path, x_display: str) -> AsyncIterator[TkThread]:
    # The XEmbed icon and the toast, whatever session bus the environment has.
    tk = TkThread(lambda: TrayApp(socket, display_name=x_display,
                                  screenshot=lambda: screenshot_png(x_display),
                                  use_dbus=False))
    try:
        yield tk
    finally:
        with contextlib.suppress(Exception):
            await tk.on_tk(lambda: tk.ready.result().quit())
        await asyncio.to_thread(tk.thread.join, 5)


def click(x_display: str, x: int, y: int) -> None:
    """Click the first button at a screen point with XTest."""
    d = display.Display(x_display)
    try:
        xtest.fake_input(d, X.MotionNotify, x=x, y=y)
        xtest.fake_input(d, X.ButtonPress, 1)
        xtest.fake_input(d, X.ButtonRelease, 1)
        d.sync()
    finally:
        d.close()


def grab(x_display: str, path: Path, region: dict[str, int] | None = None) -> None:
    with mss.MSS(display=x_display) as grabber:
        shot = grabber.grab(region or grabber.monitors[0])
        mss.tools.to_png(shot.rgb, shot.size, output=str(path))


@pytest.mark.screenshots
async def test_tray_icon_docks_and_its_dialog_files_a_ticket_with_screenshot(
        server: RunningServer, admin: Client, tmp_path: Path, x_display: str,
        screenshots: Path) -> None:
    """The icon docks in trayer, a click opens its menu, and the dialog files a linked ticket."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as socket:
            with trayer(x_display):
                await eventually(lambda: asyncio.to_thread(tray_owned, x_display))
                async with tray_app(socket, x_display) as tk:
                    app = await tk.app()
                    await eventually(app.icon.docked.is_set)
                    await eventually(lambda: app.status.get("connected") is True)
                    x, y = await asyncio.to_thread(app.icon.root_position)
                    assert y < 32 and x > 1800  # in trayer, top right
                    await eventually(lambda: app.icon.state == "online")
                    await asyncio.to_thread(grab, x_display, screenshots / "tray.png",
                                            {"left": 1920 - 160, "top": 0, "width": 160,
                                             "height": 48})
                    await asyncio.to_thread(click, x_display, x, y)
                    await eventually(lambda: tk.on_tk(app.menu.winfo_ismapped))
                    label = await tk.on_tk(lambda: app.menu.entrycget(app.status_index, "label"))
                    assert label == "Connected to IT"
                    await asyncio.to_thread(grab, x_display, screenshots / "tray-menu.png",
                                            {"left": 1920 - 420, "top": 0, "width": 420,
                                             "height": 220})
                    await tk.on_tk(app.menu.unpost)

                    await tk.on_tk(app.actions["tray.menu.raise"])
                    dialog = app.dialog
                    assert dialog is not None

                    def fill() -> Any:
                        dialog.title.insert(0, "Printer jams on every page")
                        dialog.description.insert("1.0", "Tray 2, since this morning.")
                        return dialog.attach_shot.get()

                    assert await tk.on_tk(fill) is True

                    def placed() -> dict[str, int] | None:
                        window = dialog.title.winfo_toplevel()
                        window.update_idletasks()
                        if not window.winfo_viewable() or window.winfo_width() < 50:
                            return None
                        return {"left": window.winfo_rootx(), "top": window.winfo_rooty(),
                                "width": window.winfo_width(), "height": window.winfo_height()}

                    found: list[dict[str, int]] = []

                    async def shown() -> bool:
                        region = await tk.on_tk(placed)
                        if region is not None:
                            found.append(region)
                        return region is not None

                    await eventually(shown)
                    region = found[-1]
                    await asyncio.to_thread(grab, x_display, screenshots / "tray-dialog.png",
                                            region)
                    await tk.on_tk(dialog.send_button.invoke)
                    await eventually(lambda: app.last_answer is not None)
                    assert app.last_answer == {"ok": True, "number": "INC-000001",
                                               "ticket_id": 1, "url": app.last_answer["url"]}
                    assert app.notifications == [
                        "Ticket INC-000001 created. IT will get back to you."]
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    assert ticket["device_ids"] == [device_id]
    assert ticket["title"] == "Printer jams on every page"
    files = (await admin.get(f"/api/v1/tickets/{ticket['id']}/attachments")).json["items"]
    assert {f["filename"] for f in files} == {"screenshot.png", "system-snapshot.json"}
    shot = next(f for f in files if f["filename"] == "screenshot.png")
    png = await admin.get(shot["url"])
    assert png.body.startswith(b"\x89PNG") and len(png.body) > 1000


@pytest.mark.screenshots
async def test_a_resolution_shows_a_toast_whose_rating_lands_on_the_ticket(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path,
        x_display: str, screenshots: Path) -> None:
    """A reply and a resolution pop up as toasts; clicking a score rates the ticket."""
    from tests.endpoint_agent.test_tray_channel import ask

    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as socket:
            ticket_id = (await ask(socket, {"op": "ticket", "title": "Printer jams"}))[
                "ticket_id"]
            with trayer(x_display):
                await eventually(lambda: asyncio.to_thread(tray_owned, x_display))
                async with tray_app(socket, x_display) as tk:
                    app = await tk.app()
                    await eventually(app._watching.is_set)
                    reply = await technician.post(f"/api/v1/tickets/{ticket_id}/comments",
                                                  json={"body": "Which tray do you use?"})
                    assert reply.status == 201
                    await eventually(lambda: app.toast is not None)
                    assert app.updates[0]["change"] == "replied"
                    resolved = await technician.patch(
                        f"/api/v1/tickets/{ticket_id}", json={
                            "status": "resolved", "resolution_code": "fixed",
                            "resolution_note": "Cleaned the rollers of tray 2."})
                    assert resolved.status == 200
                    await eventually(lambda: len(app.updates) == 2)
                    # The update is recorded before the Tk thread puts up its toast.
                    await eventually(lambda: app.toast is not None
                                     and app.toast.update["change"] == "resolved")
                    toast = app.toast
                    assert toast is not None
                    await eventually(lambda: tk.on_tk(toast.win.winfo_ismapped))
                    x, y, w = await tk.on_tk(lambda: (toast.win.winfo_rootx(),
                                                      toast.win.winfo_rooty(),
                                                      toast.win.winfo_width()))
                    assert x + w > 1800 and y < 100  # top right, under the tray
                    await asyncio.to_thread(grab, x_display, screenshots / "tray-notification.png",
                                            {"left": 1920 - 420, "top": 0, "width": 420,
                                             "height": 210})
                    five = toast.score_buttons[4]
                    bx, by = await tk.on_tk(lambda: (five.winfo_rootx() + 10,
                                                     five.winfo_rooty() + 8))
                    await asyncio.to_thread(click, x_display, bx, by)
                    await eventually(lambda: app.last_rating is not None)
                    assert app.last_rating == {"ok": True, "rated": True}
                    await tk.on_tk(app.actions["tray.menu.my_tickets"])
                    await eventually(lambda: app.my_tickets_answer is not None)
                    answer = app.my_tickets_answer
                    assert answer is not None and answer["live"] is True
                    assert [(t["status"], t["rated"]) for t in answer["tickets"]] == [
                        ("resolved", True)]
    finally:
        await running.stop()
    events = (await admin.get(f"/api/v1/tickets/{ticket_id}/events")).json["items"]
    assert [e["changes"]["rating"]["score"] for e in events if e["type"] == "rating"] == [5]
