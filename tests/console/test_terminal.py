"""A terminal in the console: xterm.js in headless Chromium on a real agent's pty."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.toolbox import terminal_agent, unattended_group

pytestmark = [pytest.mark.browser]


async def _stty_size(rows: Any, before: str | None = None) -> str:
    """Return the last "rows cols" line the terminal shows (after ``stty size``)."""
    for _ in range(200):
        found = re.findall(r"^(\d+ \d+)\s*$", await rows.inner_text(), re.M)
        if found and found[-1] != before:
            return found[-1]
        await rows.page.wait_for_timeout(25)
    raise AssertionError("no new stty size shown")


@pytest.mark.timeout(120)
async def test_a_terminal_runs_commands_and_a_full_screen_program_and_resizes(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        tmp_path: Path) -> None:
    """From the ticket page a technician opens a terminal, runs a command and `top`,
    resizes the window (the pty follows), and ends it; the transcript then plays."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device, record_terminal=True)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    try:
        async with open_page(browser, server.base_url) as page:
            await log_in(page, "tina", PASSWORD)
            await page.goto(f"/#/desk/tickets/{ticket['id']}")
            await page.locator("[data-action=open-terminal]").click()
            form = page.get_by_role("dialog", name="Open a terminal")
            await form.get_by_label("Reason").fill("disk full")
            await form.get_by_role("button", name="Open terminal").click()
            dialog = page.get_by_role("dialog", name=re.compile("Terminal on"))
            await expect(dialog.locator(".terminal-state")).to_have_attribute("data-state",
                                                                              "active")
            rows = dialog.locator(".xterm-rows")
            await dialog.locator(".xterm").click()
            await page.keyboard.type("echo $((6*7))-ok; stty size\n")
            await expect(rows).to_contain_text("42-ok")
            first = await _stty_size(rows)
            await page.keyboard.type("top -d 0.5\n")
            await expect(rows).to_contain_text(re.compile(r"Tasks:|load average"))
            await page.set_viewport_size({"width": 760, "height": 560})
            await page.keyboard.type("q")
            await page.keyboard.type("clear; stty size\n")
            assert await _stty_size(rows, first) != first
            await page.keyboard.type("printf 'caf\\303\\251\\n'\n")  # UTF-8 from the pty
            await expect(rows).to_contain_text("café")
            await dialog.locator("[data-action=end-terminal]").click()
            await expect(dialog.locator(".terminal-state")).to_have_attribute("data-state",
                                                                              "ended")
            await dialog.get_by_role("button", name="Close").click()
            await page.locator("[data-transcript]").first.click()
            played = page.get_by_role("dialog", name=re.compile("Transcript of a terminal"))
            await expect(played.locator(".xterm-rows")).to_contain_text("café")
    finally:
        await agent.stop()
