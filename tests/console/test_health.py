"""Health checks in the console: thresholds per group, a device's checks, failing filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in, nav
from tests.server.health.test_health_incidents import add_check, incidents
from tests.support.agents import FakeProbe, enroll_device, start_agent
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser



@pytest.mark.screenshots
async def test_admin_sets_levels_and_sees_a_failing_device(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path,
        screenshots: Path) -> None:
    """An admin adds a check in the console; a device over it shows Critical with its incident."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await nav(page).get_by_role("link", name="Health checks").click()
    await page.get_by_role("button", name="Add check").click()
    form = page.get_by_role("form", name="New health check")
    await form.get_by_label("Name").fill("Disk /")
    await form.get_by_label("Target").fill("/")
    await form.get_by_label("Warning at (%)").fill("80")
    await form.get_by_label("Critical at (%)").fill("90")
    await form.get_by_label("Recovered after (s)").fill("0")
    await form.get_by_role("button", name="Add check").click()
    row = page.locator("tr[data-check='Disk /']")
    await expect(row).to_contain_text("critical \u2265 90 %")
    await add_check(admin, name="Memory", kind="memory", target="", warning=85, critical=95)
    await page.reload()
    await expect(page.locator("tr[data-check='Memory']")).to_be_visible()
    await page.screenshot(path=str(screenshots / "health-checks.png"))

    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    probe = FakeProbe(values={"disk": 96.5, "memory": 40.0})
    running = await start_agent(state, probe=probe)
    try:
        await eventually(lambda: _incidents(admin, 1))
        device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
        await page.goto(f"/#/devices/{device_id}")
        checks = page.get_by_role("table", name="Health checks")
        disk = checks.locator("tr[data-check='Disk /']")
        await expect(disk.locator("[data-health]")).to_have_text("Critical")
        await expect(disk).to_contain_text("/ is 96.5% full")
        number = (await incidents(admin))[0]["number"]
        await expect(disk.get_by_role("link", name=number)).to_be_visible()
        await expect(checks.locator("tr[data-check='Memory'] [data-health]")).to_have_text("OK")
        await page.locator(".panel-health").screenshot(path=str(screenshots / "device-health.png"))

        await page.goto("/#/devices")
        await expect(page.locator("tr[data-id]")).to_have_count(1)
        await page.get_by_label("Filter by health").select_option("failing")
        await expect(page.locator(f"tr[data-id='{device_id}']")).to_be_visible()
        probe.values["disk"] = 10.0

        async def recovered() -> bool:
            return (await incidents(admin))[0]["status"] == "resolved"

        await eventually(recovered)
        await page.get_by_label("Filter by health").select_option("critical")
        await expect(page.get_by_text("No devices match")).to_be_visible()
    finally:
        await running.stop()


async def _incidents(admin: Client, n: int) -> bool:
    return len(await incidents(admin)) >= n
