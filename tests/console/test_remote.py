"""Remote sessions end to end: Chromium console, real server, real agent on Xvfb."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from server.keys import REMOTE
from tests.console.test_console import log_in
from tests.support.agents import start_agent
from tests.support.browser import open_page
from tests.support.remote import Device, enrolled, ticket_with_device, timeline, wait_state
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import BAR, PATTERN, pattern_app, press_in_window, wait_window

pytestmark = [pytest.mark.browser, pytest.mark.x11, pytest.mark.timeout(150)]

# Reads the canvas's pixels where the pattern app's bars are (canvas = screen pixels).
READ_BARS = """([x, y, barW, barH]) => {
  const canvas = document.querySelector("canvas.remote-canvas");
  const ctx = canvas.getContext("2d");
  const out = [];
  for (let i = 0; i < 4; i += 1) {
    const d = ctx.getImageData(x + i * barW + 20, y + 20, barW - 40, barH - 40).data;
    const sum = [0, 0, 0];
    for (let p = 0; p < d.length; p += 4) {
      sum[0] += d[p]; sum[1] += d[p + 1]; sum[2] += d[p + 2];
    }
    const n = d.length / 4;
    out.push(sum.map((s) => Math.round(s / n)));
  }
  return out;
}"""



def close_to(got: list[list[int]], want: tuple[tuple[int, int, int], ...]) -> bool:
    return all(max(abs(a - b) for a, b in zip(g, w, strict=True)) <= 24
               for g, w in zip(got, want, strict=True))


@contextlib.asynccontextmanager
async def agent_on(device: Device, display: str) -> AsyncIterator[RemoteSupport]:
    remote = RemoteSupport(display)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        yield remote
    finally:
        await running.stop()


async def canvas_point(page: Any, x: int, y: int) -> tuple[float, float]:
    """Return the page coordinates of screen pixel (x, y) in the scaled canvas."""
    box = await page.locator("canvas.remote-canvas").bounding_box()
    size = await page.evaluate(
        "() => { const c = document.querySelector('canvas.remote-canvas');"
        " return [c.width, c.height]; }")
    return box["x"] + (x + 0.5) * box["width"] / size[0], \
        box["y"] + (y + 0.5) * box["height"] / size[1]


@pytest.mark.screenshots
async def test_session_from_ticket_to_summary(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path,
        screenshots: Path) -> None:
    """Start from the ticket, allow on the desktop, see and click, end, read the summary."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, agent_on(device, x_display) as remote, \
            open_page(browser, server.base_url) as page:
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        start = page.locator("[data-action=start-remote]")
        await expect(start).to_be_enabled()
        await start.click()
        dialog = page.get_by_role("dialog", name="Remote session")
        await dialog.get_by_label("Reason (the user sees it)").fill("Printer settings")
        await dialog.get_by_label("Mode").select_option("control")
        await dialog.get_by_role("button", name="Start").click()
        await expect(page.locator(".remote-state")).to_have_attribute("data-state", "requested")
        # On the endpoint, the user presses Allow in the dialog on their screen.
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await expect(page.locator(".remote-state")).to_have_attribute("data-state", "active")
        await wait_window(x_display, ui.INDICATOR_TITLE)
        # The canvas shows the pattern drawn on the display.
        spot = [app.canvas[0], app.canvas[1], BAR[0], BAR[1]]

        async def pattern_shown() -> bool:
            try:
                return close_to(await page.evaluate(READ_BARS, spot), PATTERN)
            except Exception:  # the canvas is not the screen's size before the first frame
                return False

        await eventually(pattern_shown, within=20)
        # The overlay reports fps, latency and bandwidth once a second.
        await expect(page.locator(".remote-overlay")).to_contain_text("fps", timeout=10_000)
        await expect(page.locator(".remote-overlay")).to_contain_text("ms")
        # A click in the canvas reaches the app's button on the display.
        bx, by = app.button_center()
        px, py = await canvas_point(page, bx, by)
        await page.mouse.click(px, py)
        assert await app.next_line() == "clicked 1"
        session_id = next(iter(server.app[REMOTE].by_id))
        await page.screenshot(path=str(screenshots / "remote-viewer.png"))  # for docs/remote.md
        # Ending from the console stops the stream on both sides.
        await page.get_by_role("button", name="End session").click()
        await expect(page.locator(".remote-banner")).to_contain_text(
            "Session ended by a technician")
        await asyncio.wait_for(remote.finished.wait(), 10)
        assert await asyncio.to_thread(_window_gone, x_display, ui.INDICATOR_TITLE)
        frames_after_end = remote.history[-1].frames_sent
        assert remote.session is None and frames_after_end > 0
        # The ticket's timeline shows the steps and the summary.
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        summary = page.locator(".tl-remote-session[data-step=ended]")
        await expect(summary).to_contain_text("Remote session ended by Tina after")
        await expect(summary).to_contain_text("Watched by Tina")
        await expect(page.locator(".tl-remote-session[data-step=started]")).to_contain_text(
            "The user allowed the remote session.")
    got = await wait_state(technician, session_id, "ended")
    assert got.json["summary"]["input_events"] >= 2


def _window_gone(display: str, title: str) -> bool:
    from tests.support.xapps import find_window

    return find_window(display, title) is None


async def test_user_ends_from_indicator_and_second_viewer_joins(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path) -> None:
    """A second technician watches (key frame, no control); the user's End stops both."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, agent_on(device, x_display), \
            open_page(browser, server.base_url) as first, \
            open_page(browser, server.base_url) as second:
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "look", "mode": "control"})
        sid = resp.json["id"]
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, sid, "active")
        await log_in(first, "tina", PASSWORD)
        await first.goto(f"/#/desk/remote/{sid}")
        await log_in(second, "admin", ADMIN_PASSWORD)
        await second.goto(f"/#/desk/remote/{sid}")
        spot = [app.canvas[0], app.canvas[1], BAR[0], BAR[1]]
        for page in (first, second):
            async def shown(page: Any = page) -> bool:
                try:
                    return close_to(await page.evaluate(READ_BARS, spot), PATTERN)
                except Exception:
                    return False

            await eventually(shown, within=20)
        await expect(second.locator(".remote-title")).to_contain_text(
            "watching: Administrator, Tina")
        # The watcher has no control (no mode button); the opener has.
        await expect(second.get_by_role("button", name="Request control")).to_be_hidden()
        await expect(first.get_by_role("button", name="View only")).to_be_visible()
        _ix, _iy, width, _ih = await wait_window(x_display, ui.INDICATOR_TITLE)
        await press_in_window(x_display, ui.INDICATOR_TITLE, ui.end_button(width))
        for page in (first, second):
            await expect(page.locator(".remote-banner")).to_contain_text(
                "Session ended by the user")
    events = await timeline(admin, ticket["id"])
    assert events[-1]["changes"]["by"] == "user"
    assert "Watched by Administrator, Tina" in events[-1]["body"]
