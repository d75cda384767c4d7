"""Playing a recorded session in the console: real agent on Xvfb, Chromium, the player."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.remote import ui
from server.keys import REMOTE
from tests.console.test_console import log_in
from tests.console.test_remote import READ_BARS, agent_on, close_to
from tests.endpoint_agent.test_remote_x11 import Picture, read_frames, shows_pattern
from tests.server.remote.test_recordings_api import recorded_group
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device, viewer, wait_state
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import BAR, PATTERN, pattern_app, press_in_window

pytestmark = [pytest.mark.browser, pytest.mark.x11, pytest.mark.timeout(150)]


@pytest.mark.screenshots
async def test_player_shows_the_recorded_screen(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path,
        screenshots: Path) -> None:
    """From the ticket's remote panel to the player, which draws the recorded pattern."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, agent_on(device, x_display):
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "printer check", "mode": "view"})
        sid = resp.json["id"]
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, sid, "active")
        async with viewer(server, technician, sid) as v:
            await read_frames(v, Picture(), until=shows_pattern(app.canvas))
            # Long enough to pause in the middle of playing it.
            recorder = server.app[REMOTE].by_id[sid].recorder
            assert recorder is not None
            await eventually(lambda: recorder.live_stats().duration_ms >= 3000)
        await technician.post(f"/api/v1/remote-sessions/{sid}/end")
    await wait_state(technician, sid, "ended")
    spot = [app.canvas[0], app.canvas[1], BAR[0], BAR[1]]
    async with open_page(browser, server.base_url) as page:
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        # The timeline says the session was recorded and offers to play it.
        ended = page.locator(".tl-remote-session[data-step=ended]")
        await expect(ended).to_contain_text("Recorded: ")
        await expect(ended.locator("a.tl-recording")).to_be_visible()
        await page.locator(f"[data-recording='{sid}']").click()
        await expect(page).to_have_url(re.compile(rf"#/desk/remote/{sid}/recording$"))
        player = page.locator(".recording-view")

        async def pattern_shown() -> bool:
            try:
                return close_to(await page.evaluate(READ_BARS, spot), PATTERN)
            except Exception:  # the canvas has not the screen's size before the first frame
                return False

        # The first picture shows at once; playing waits for the user.
        await eventually(pattern_shown, within=20)
        await expect(player).to_have_attribute("data-state", "paused")
        await expect(page.locator(".recording-time")).to_have_text(
            re.compile(r"^0:00 / 0:0[3-9]$"))
        await page.get_by_role("button", name="Play").click()
        await page.get_by_role("button", name="Pause").click()
        await expect(player).to_have_attribute("data-state", "paused")
        await page.get_by_label("Speed").select_option("4")
        await expect(player).to_have_attribute("data-speed", "4")
        await page.get_by_role("button", name="Play").click()
        await expect(player).to_have_attribute("data-state", "ended", timeout=30_000)
        shown = await page.locator(".recording-time").text_content()
        assert shown is not None and shown.split(" / ")[0] == shown.split(" / ")[1]
        assert close_to(await page.evaluate(READ_BARS, spot), PATTERN)
        await page.screenshot(path=str(screenshots / "remote-recording.png"))  # for docs/remote.md
        # Seeking back to the middle replays from the key frame: still the recorded screen.
        await page.locator(".recording-position").evaluate(
            "(el) => { el.value = String(Math.floor(Number(el.max) / 2));"
            " el.dispatchEvent(new Event('change')); }")
        await expect(player).to_have_attribute("data-state", "paused")
        await expect(page.get_by_role("button", name="Play")).to_be_visible()
        assert close_to(await page.evaluate(READ_BARS, spot), PATTERN)
        # A technician sees no delete button; the control is for admins.
        await expect(page.get_by_role("button", name="Delete recording")).to_be_hidden()
