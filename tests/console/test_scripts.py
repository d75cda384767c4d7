"""Scripts in the console: a technician writes one with a parameter, an admin approves it,
and the technician runs it from a ticket and reads its output, on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console import walk
from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.toolbox import terminal_agent, unattended_group

pytestmark = [pytest.mark.browser]


@pytest.mark.timeout(120)
async def test_a_script_is_written_approved_and_run_from_a_ticket(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        tmp_path: Path) -> None:
    """The parameters builder declares a parameter; once approved the script runs from the
    ticket's Toolbox with the value typed, and the device's output shows live, all within
    a 390 px wide screen."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    try:
        async with open_page(browser, server.base_url, viewport=walk.PHONE) as page:
            await log_in(page, "tina", PASSWORD)
            await page.goto("/#/desk/scripts")
            await page.get_by_role("button", name="New script").click()
            form = page.get_by_role("dialog", name="New script")
            await form.get_by_label("Name", exact=True).fill("Say hello")
            await form.get_by_label("Script", exact=True).fill('echo "hello $PARAM_WHO"')
            await form.locator("[data-action=add-param]").click()
            await form.get_by_label("Name (a-z, 0-9, _)").fill("who")
            await form.get_by_label("Label").fill("Who")
            await form.get_by_label("Required").check()
            assert await _fits(form)
            await form.get_by_role("button", name="Add script").click()
            await expect(page.locator("tr[data-script='Say hello']")).to_contain_text(
                "Awaiting approval")
            script = (await technician.get("/api/v1/scripts")).json["items"][0]
            assert (await admin.post(f"/api/v1/scripts/{script['id']}/versions/1/approve")
                    ).status == 200
            await page.goto(f"/#/desk/tickets/{ticket['id']}")
            await page.locator("[data-action=run-script]").click()
            run = page.get_by_role("dialog", name="Run a script")
            await run.get_by_label("Who *").fill("world; id")
            await run.get_by_label("Reason").fill("check the greeting")
            assert await _fits(run)
            await run.get_by_role("button", name="Run").click()
            card = run.locator(".script-run")
            await expect(card).to_have_attribute("data-outcome", "succeeded")
            await expect(card.locator(".script-out")).to_have_text("hello world; id\n")
            await expect(card.locator("a.tl-file")).to_be_visible()
    finally:
        await agent.stop()


async def _fits(dialog: Any) -> bool:
    """Tell whether a dialog and everything in it fit a 390 px screen (no sideways scroll)."""
    return bool(await dialog.evaluate(
        "d => d.getBoundingClientRect().right <= innerWidth && [d, ...d.querySelectorAll('*')]"
        ".every(e => e.scrollWidth <= e.clientWidth + 1"
        " || getComputedStyle(e).overflowX !== 'visible' || e.tagName === 'PRE')"))
