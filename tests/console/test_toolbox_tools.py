"""The toolbox policy page and the process tool in the console (headless Chromium)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.toolbox import terminal_agent, unattended_group

pytestmark = [pytest.mark.browser]


async def _save_policy(page: Any, *, tools: dict[str, bool], consent: str,
                       switches: dict[str, bool]) -> None:
    panel = page.get_by_role("form", name="Toolbox")
    for tool, on in tools.items():
        await panel.locator(f"[data-toolbox-option={tool}] input").set_checked(on)
    await panel.locator(f"[data-toolbox-consent={consent}] input").check()
    for name, on in switches.items():
        await panel.locator(f"[data-toolbox-option={name}] input").set_checked(on)
    await panel.get_by_role("button", name="Save toolbox policy").click()
    await expect(page.get_by_role("status")).to_contain_text("Toolbox policy of Kiosks saved")


@pytest.mark.timeout(120)
async def test_the_policy_page_saves_each_option_and_a_process_is_ended_from_the_console(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        tmp_path: Path) -> None:
    """On a phone an admin turns each toolbox option on, then off, with no JSON and nothing
    wider than the screen; a technician then ends a process from the ticket's Processes
    dialog, filtered by its PID, and the action is on the ticket's timeline."""
    device = await enrolled(server, admin, tmp_path / "a")
    gid = await unattended_group(admin, device, name="Kiosks")
    url = f"/api/v1/groups/{gid}/toolbox-policy"
    async with open_page(browser, server.base_url,
                         viewport={"width": 390, "height": 844}) as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/admin/groups/{gid}")
        await expect(page.get_by_role("form", name="Toolbox")).to_be_visible()
        on = {"terminal_root": True, "system_root": True, "record_terminal": True}
        await _save_policy(page, tools={"services": False, "terminal": False},
                           consent="notify", switches=on)
        stored = (await admin.get(url)).json
        assert stored["allowed_tools"] == ["processes"]
        assert stored["consent"] == "notify" and all(stored[k] for k in on)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await _save_policy(page, tools={"services": True, "terminal": True},
                           consent="unattended", switches={k: False for k in on})
        stored = (await admin.get(url)).json
        assert stored["allowed_tools"] == ["terminal", "processes", "services"]
        assert stored["consent"] == "unattended" and not any(stored[k] for k in on)
        await page.reload()
        panel = page.get_by_role("form", name="Toolbox")
        await expect(panel.locator("[data-toolbox-consent=unattended] input")).to_be_checked()
        await expect(panel.locator("[data-toolbox-option=system_root] input")).not_to_be_checked()
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    sleeper = await asyncio.create_subprocess_exec(sys.executable, "-c",
                                                   "import time; time.sleep(600)")
    try:
        async with open_page(browser, server.base_url) as page:
            await log_in(page, "tina", PASSWORD)
            await page.goto(f"/#/desk/tickets/{ticket['id']}")
            await page.locator("[data-action=open-processes]").click()
            form = page.get_by_role("dialog", name="Open the process list")
            await form.get_by_label("Reason").fill("frozen program")
            await form.get_by_role("button", name="Processes").click()
            dialog = page.get_by_role("dialog", name=re.compile("Processes on"))
            await expect(dialog.locator(".terminal-state")).to_have_attribute("data-state",
                                                                              "active")
            await dialog.get_by_label("Filter").fill(str(sleeper.pid))
            row = dialog.locator(f"tr[data-pid='{sleeper.pid}']")
            await row.get_by_role("button", name=f"End process {sleeper.pid}").click()
            await expect(dialog).to_contain_text(f"Sent SIGTERM to process {sleeper.pid}")
            assert await asyncio.wait_for(sleeper.wait(), 10) == -15
        events = (await technician.get(f"/api/v1/tickets/{ticket['id']}/events")).json["items"]
        assert any(f"ended process {sleeper.pid}" in (e["body"] or "") and e["public"]
                   for e in events)
    finally:
        if sleeper.returncode is None:
            sleeper.kill()
        await sleeper.wait()
        await agent.stop()
