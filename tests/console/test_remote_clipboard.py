"""Clipboard text end to end: Chromium viewer, real server, real agent on Xvfb, Tk app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.remote import ui
from tests.console.test_console import log_in
from tests.console.test_remote import agent_on, canvas_point
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device, wait_state
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import pattern_app, press_in_window
from tests.support.xclipboard import Copier, paste_text

pytestmark = [pytest.mark.browser, pytest.mark.x11, pytest.mark.timeout(150)]

SENT = "lpadmin -d Office-2 # Grüße ✓"
COPIED = "Printer error 0x0000011b on \\\\srv\\Office-2"


@pytest.mark.screenshots
async def test_clipboard_from_the_viewer_to_an_app_and_back(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path,
        screenshots: Path) -> None:
    """Text sent from the viewer is pasted into a Tk app; text copied there shows in the viewer."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, agent_on(device, x_display) as remote, \
            open_page(browser, server.base_url) as page:
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                             origin=server.base_url)
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "printer", "mode": "control"})
        sid = resp.json["id"]
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, sid, "active")
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/desk/remote/{sid}")

        async def drawn() -> bool:  # the canvas has the screen's size once a frame arrived
            return bool(await page.evaluate(
                "() => document.querySelector('canvas.remote-canvas').width > 100"))

        await eventually(drawn, within=20)

        # Technician -> endpoint: take the text from the local clipboard, send it.
        await page.evaluate("(text) => navigator.clipboard.writeText(text)", SENT)
        toggle = page.get_by_role("button", name="Clipboard")
        await toggle.click()
        box = page.get_by_label("Text to send to the remote clipboard")
        await page.get_by_role("button", name="Paste from my clipboard").click()
        await expect(box).to_have_value(SENT)
        await expect(page.locator(".remote-clip")).to_contain_text("bytes of 64 KiB")
        await page.get_by_role("button", name="Send to remote clipboard").click()
        await expect(page.locator(".notice-success")).to_contain_text(
            f"Sent {len(SENT.encode())} bytes to the remote clipboard.")

        async def on_endpoint() -> bool:
            return await asyncio.to_thread(paste_text, x_display) == SENT

        await eventually(on_endpoint)
        # The user's application pastes it: click the entry in the canvas, press Ctrl+V.
        ex, ey, ew, eh = app.entry
        px, py = await canvas_point(page, ex + ew // 2, ey + eh // 2)
        await page.mouse.click(px, py)
        await page.keyboard.press("Control+v")
        lines: list[str] = []
        try:
            async with asyncio.timeout(10):
                while f"text {json.dumps(SENT)}" not in lines:  # printed on each key release
                    lines.append(await app.next_line())
        except TimeoutError:
            pytest.fail(f"the app did not paste the text; it printed {lines!r}")

        # Endpoint -> technician: another application copies; the viewer offers it.
        copier = await asyncio.to_thread(Copier, x_display, COPIED.encode())
        await asyncio.to_thread(copier.__enter__)
        try:
            bar = page.locator(".remote-clip-in")
            await expect(bar).to_contain_text("Copied on the remote machine")
            await expect(bar).to_contain_text(COPIED)
            await page.screenshot(path=str(screenshots / "remote-clipboard.png"))  # docs/remote.md
            await bar.get_by_role("button", name="Copy").click()
            await expect(bar.get_by_role("button", name="Copied")).to_be_visible()
            assert await page.evaluate("() => navigator.clipboard.readText()") == COPIED
        finally:
            await asyncio.to_thread(copier.__exit__, None, None, None)
        live = remote.session
        assert live is not None and (live.clipboard_in, live.clipboard_out) == (1, 1)

        # View only: the clipboard controls go away.
        await page.get_by_role("button", name="View only").click()
        await expect(page.locator("[data-mode]")).to_have_attribute("data-mode", "view")
        await expect(toggle).to_be_hidden()
        await expect(page.locator(".remote-clip")).to_be_hidden()

        # The ticket's timeline says that text went each way and how much, not what.
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        steps = page.locator(".tl-remote-session[data-step=clipboard]")
        await expect(steps).to_have_count(2)
        await expect(steps.first).to_contain_text(
            f"Clipboard text sent to the device ({len(SENT.encode())} bytes).")
        await expect(steps.nth(1)).to_contain_text(
            f"Text copied on the device was sent to Tina ({len(COPIED)} bytes).")
        timeline = await page.locator(".timeline, main").first.inner_text()
        assert "lpadmin" not in timeline and "0x0000011b" not in timeline
        await technician.post(f"/api/v1/remote-sessions/{sid}/end")


async def test_oversized_text_is_refused_in_the_viewer(
        server: RunningServer, admin: Client, browser: Any, x_display: str,
        tmp_path: Path) -> None:
    """Over 64 KiB the viewer says so and sends nothing; the endpoint's clipboard is unchanged."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with agent_on(device, x_display) as remote, \
            open_page(browser, server.base_url) as page:
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "look", "mode": "control"})
        sid = resp.json["id"]
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(admin, sid, "active")
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/desk/remote/{sid}")
        await page.get_by_role("button", name="Clipboard").click()
        box = page.get_by_label("Text to send to the remote clipboard")
        await box.fill("€" * 30_000)  # 90,000 bytes of UTF-8
        await expect(page.locator(".remote-clip-over")).to_contain_text("87.9 KiB of 64 KiB")
        await page.get_by_role("button", name="Send to remote clipboard").click()
        await expect(page.locator(".remote-clip-hint")).to_contain_text(
            "The text is 87.9 KiB; at most 64 KiB can be sent.")
        # A text within the limit goes; it is the only one the session passed.
        await box.fill("short")
        await page.get_by_role("button", name="Send to remote clipboard").click()
        await expect(page.locator(".notice-success")).to_contain_text("Sent 5 bytes")
        got = await admin.get(f"/api/v1/remote-sessions/{sid}")
        assert got.json["summary"]["clipboard_to_device"] == 1
        await eventually(lambda: remote.session is not None and remote.session.clipboard_in == 1)
        await admin.post(f"/api/v1/remote-sessions/{sid}/end")

