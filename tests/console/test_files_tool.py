"""The Files tool in the console: headless Chromium on a real agent's folder, at phone size."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.toolbox.support import ToolSupport
from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.toolbox import own_login, terminal_agent, tool_events, unattended_group

pytestmark = [pytest.mark.browser]


@pytest.mark.timeout(120)
async def test_files_are_browsed_uploaded_downloaded_renamed_and_deleted_at_phone_size(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        tmp_path: Path) -> None:
    """At 390x844 a technician opens the device's files from the ticket, goes into a folder
    by its breadcrumbs, uploads a file (progress shown), downloads it, creates, renames and
    deletes a folder; the page never gets wider than the screen and the ticket records it."""
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "app.log").write_text("line 1\n")
    upload = tmp_path / "report.txt"
    upload.write_bytes(b"disk usage report\n" * 5000)
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                           files_root=str(home)))
    try:
        async with open_page(browser, server.base_url) as page:
            await log_in(page, "tina", PASSWORD)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(f"/#/desk/tickets/{ticket['id']}")
            await page.locator("[data-action=open-files]").click()
            form = page.get_by_role("dialog", name="Open the device's files")
            await form.get_by_label("Reason").fill("collect the logs")
            await form.get_by_role("button", name="Open files").click()
            dialog = page.get_by_role("dialog", name=re.compile("Files on"))
            await expect(dialog.locator(".terminal-state")).to_have_attribute("data-state",
                                                                              "active")
            await dialog.locator("[data-entry=logs]").click()
            await expect(dialog.locator("[aria-current=location]")).to_have_text("logs")
            await expect(dialog.locator("[data-entry='app.log']")).to_be_visible()
            await dialog.locator("[data-files=picker]").set_input_files(str(upload))
            await expect(dialog.locator("[data-entry='report.txt']")).to_be_visible()
            await expect(dialog.locator(".files-progress")).to_contain_text("report.txt")
            assert (home / "logs" / "report.txt").read_bytes() == upload.read_bytes()
            async with page.expect_download() as info:
                await dialog.get_by_role("link", name="Download report.txt").click()
            saved = await (await info.value).path()
            assert await asyncio.to_thread(Path(saved).read_bytes) == upload.read_bytes()
            await dialog.locator("[data-action=new-folder]").click()
            ask = page.get_by_role("dialog", name="New folder")
            await ask.get_by_label("Folder name").fill("old")
            await ask.get_by_role("button", name="Create").click()
            await dialog.get_by_role("button", name="Rename old").click()
            ask = page.get_by_role("dialog", name="Rename old")
            await ask.get_by_label("New name").fill("archive")
            await ask.get_by_role("button", name="Rename").click()
            await expect(dialog.locator("[data-entry=archive]")).to_be_visible()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
            await dialog.get_by_role("button", name="Delete archive").click()
            await page.get_by_role("dialog", name="Delete from the device").get_by_role(
                "button", name="Delete").click()
            await expect(dialog.locator("[data-entry=archive]")).to_have_count(0)
            await dialog.get_by_role("button", name="Up one folder").click()
            await expect(dialog.locator("[data-entry=logs]")).to_be_visible()
        assert sorted(p.name for p in (home / "logs").iterdir()) == ["app.log", "report.txt"]
        events = await tool_events(technician, ticket["id"])
        steps = [e["changes"]["step"] for e in events]
        assert steps[2:] == ["upload", "download", "mkdir", "rename", "delete"], steps
        sha = hashlib.sha256(upload.read_bytes()).hexdigest()
        assert events[2]["changes"]["sha256"] == sha
    finally:
        await agent.stop()
