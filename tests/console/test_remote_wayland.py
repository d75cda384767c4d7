"""Remote sessions on GNOME/Wayland end to end: Chromium console, real server, real agent
on a headless Mutter (RemoteDesktop + ScreenCast over D-Bus, frames from PipeWire)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.remote import backends, ui
from endpoint_agent.remote.controller import RemoteSupport
from endpoint_agent.remote.mutter import probe
from shared import protocol as p
from shared import screen
from tests.console.test_console import log_in
from tests.console.test_remote import READ_BARS, canvas_point, close_to
from tests.support.agents import start_agent
from tests.support.browser import open_page
from tests.support.mutter import GnomeDesktop, gnome_desktop, own_xlib_events
from tests.support.remote import Device, enrolled, ticket_with_device, wait_state
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.wlapps import gtk_pattern_app
from tests.support.xapps import BAR, PATTERN, find_window, press_in_window, wait_window

pytestmark = [pytest.mark.wayland, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def gnome() -> Iterator[GnomeDesktop]:
    """A headless GNOME on Wayland for this module; python-xlib reaches its Xwayland."""
    with gnome_desktop() as desktop, own_xlib_events(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("XAUTHORITY", desktop.xauthority)  # the test's clicks on the dialogs
        yield desktop


@contextlib.asynccontextmanager
async def agent_on(device: Device, gnome: GnomeDesktop) -> AsyncIterator[RemoteSupport]:
    """A real agent serving sessions through Mutter, its dialogs on Xwayland."""
    choice = await asyncio.to_thread(backends.choose, gnome.display, env=gnome.env)
    assert choice.backend == backends.GNOME_WAYLAND, choice
    remote = RemoteSupport(choice.display, backend=choice.backend, bus_address=gnome.bus,
                           ui_env=gnome.env, clipboard=False)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        yield remote
    finally:
        await running.stop()


def test_backend_choice_says_why_none_works(gnome: GnomeDesktop, tmp_path: Path) -> None:
    """GNOME on Wayland is chosen where Mutter answers; otherwise the reason is named."""
    assert backends.choose(":9", env={}).backend == backends.X11
    assert backends.choose("", env={}).reason == backends.NO_DISPLAY
    assert backends.choose(":0", env={"XDG_SESSION_CLASS": "greeter"}).reason == \
        backends.LOGIN_SCREEN
    wayland = {"WAYLAND_DISPLAY": "wayland-0"}
    assert backends.choose(":0", env=wayland).reason == backends.NO_SESSION_BUS
    nobody = f"unix:path={tmp_path}/no-bus"
    assert backends.choose(":0", env={**wayland, "DBUS_SESSION_BUS_ADDRESS": nobody}
                           ).reason == backends.NO_SESSION_BUS
    assert backends.choose(":0", env={**wayland, "DBUS_SESSION_BUS_ADDRESS": "x"},
                           probe=lambda _a: "org.gnome.Mutter.RemoteDesktop is not on the "
                                            "session bus (not a GNOME session)",
                           ).reason == backends.NOT_GNOME
    assert probe(gnome.bus) is None
    assert backends.choose("", env=gnome.env | {"DISPLAY": ""}).reason == backends.NO_XWAYLAND
    assert backends.choose(gnome.display, env=gnome.env).backend == backends.GNOME_WAYLAND


async def test_device_reports_why_there_are_no_remote_sessions(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """An agent without a working backend says why; the device API passes it on."""
    device = await enrolled(server, admin, tmp_path / "a")
    running = await start_agent(device.state, remote_unavailable=backends.LOGIN_SCREEN)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        got = (await admin.get(f"/api/v1/devices/{device.id}?inventory=false")).json["device"]
        assert got["remote_available"] is False
        assert got["remote_unavailable"] == "login_screen"
        assert got["remote_backend"] is None
    finally:
        await running.stop()


@pytest.mark.browser
async def test_session_on_gnome_wayland(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        gnome: GnomeDesktop, tmp_path: Path) -> None:
    """Consent, the Wayland app's picture on the canvas, click and typing reach it, view
    only refuses input, and the session ends cleanly."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with gtk_pattern_app(gnome.env, width=gnome.width, height=gnome.height) as app, \
            agent_on(device, gnome) as remote, open_page(browser, server.base_url) as page:
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/devices/{device.id}")
        await expect(page.locator("[data-remote-backend]")).to_have_text("Wayland (GNOME)")
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "printer", "mode": "control"})
        sid = resp.json["id"]
        # The agent's own consent dialog, a Tk window on Xwayland: the user allows.
        await press_in_window(gnome.display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, sid, "active")
        await wait_window(gnome.display, ui.INDICATOR_TITLE)
        await page.goto(f"/#/desk/remote/{sid}")
        spot = [app.canvas[0], app.canvas[1], BAR[0], BAR[1]]

        async def pattern_shown() -> bool:
            try:
                return close_to(await page.evaluate(READ_BARS, spot), PATTERN)
            except Exception:  # the canvas is not the screen's size before the first frame
                return False

        await eventually(pattern_shown, within=30)
        # A click in the canvas reaches the GTK button through the RemoteDesktop session.
        bx, by = app.button_center()
        # Mutter 43 sometimes spends the first click into a Wayland window on moving the
        # focus from an Xwayland window (the consent dialog just closed): click again then.
        for _attempt in range(2):
            await page.mouse.click(*await canvas_point(page, bx, by))
            with contextlib.suppress(TimeoutError):
                line = await app.next_line(wait=8)
                break
        else:
            raise AssertionError("no click reached the application")
        assert line == "clicked 1", line
        # Typed text reaches the GTK entry once a click has focused it.
        ex, ey, ew, eh = app.entry
        await page.mouse.click(*await canvas_point(page, ex + ew // 2, ey + eh // 2))
        await page.locator("canvas.remote-canvas").focus()
        await page.keyboard.type("Hi5")
        lines = [await app.next_line() for _ in range(3)]
        assert lines[-1] == 'text "Hi5"', lines
        # View only: input the server might still forward is dropped by the agent.
        await page.get_by_role("button", name="View only").click()
        live = remote.session
        assert live is not None
        await eventually(lambda: live.mode == "view", within=10)
        injected = live.injected
        for buttons in (1, 0):
            remote.on_message(p.SessionInput(session=sid, event=screen.PointerEvent(
                x=bx, y=by, buttons=buttons)))
        assert live.ignored_inputs >= 2 and live.injected == injected
        # Ending from the console stops the stream, the indicator and the Mutter session.
        await page.get_by_role("button", name="End session").click()
        await expect(page.locator(".remote-banner")).to_contain_text(
            "Session ended by a technician")
        await asyncio.wait_for(remote.finished.wait(), 10)
        assert await asyncio.to_thread(find_window, gnome.display, ui.INDICATOR_TITLE) is None
        assert remote.session is None and remote.history[-1].frames_sent > 0
        assert remote._capturer is None and remote._injector is None
    got = await wait_state(technician, sid, "ended")
    assert got.json["summary"]["input_events"] >= 2
