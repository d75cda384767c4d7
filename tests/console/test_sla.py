"""SLA in the console: queue badges sorted by due time, the ticket's SLA panel, notices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from server.sla.service import SlaEngine
from tests.console.test_console import log_in
from tests.console.test_tickets import feeds_open, new_ticket, queue_rows
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

async def _shot(page: Any, screenshots: Path, name: str) -> None:
    await page.screenshot(path=str(screenshots / name), full_page=True)


async def test_queue_sorts_by_sla_due_and_ticket_shows_its_clocks(
        server: RunningServer, admin: Client, technician: Client, page: Any,
        screenshots: Path) -> None:
    """The desk sorts by SLA due time with badges; a breach shows as overdue, live, with a notice; the ticket page lists its clocks."""  # noqa: E501
    for body in ({"name": "P1", "calendar_id": 1, "conditions": {"priorities": [1]},
                  "targets": {"first_response": 15, "resolution": 60},
                  "escalations": [{"on": "breach", "action": "notify",
                                   "clock": "resolution"}]},
                 {"name": "Standard", "calendar_id": 1, "fallback": True,
                  "targets": {"first_response": 240, "resolution": 2880}}):
        assert (await admin.post("/api/v1/sla/policies", json=body)).status == 201
    slow = await new_ticket(technician, title="Wallpaper request", impact=3, urgency=3)
    urgent = await new_ticket(technician, title="Payroll server down", impact=1, urgency=1)
    await log_in(page, "tina", PASSWORD)
    await page.get_by_role("tab", name="All open").click()
    await page.locator("#queue-sort").select_option("due")
    rows = queue_rows(page)
    await expect(rows.first).to_contain_text("Payroll server down")
    await expect(rows.nth(0).locator("[data-sla]")).to_have_attribute("data-sla", "running")
    await expect(rows.nth(1)).to_contain_text(slow["title"])
    await expect(rows.nth(1).locator("[data-sla]")).to_contain_text("left")
    await feeds_open(server, 1)

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=90)
    fired = await SlaEngine(server.app, now=lambda: later).run_pass()
    assert {(f.number, f.clock, f.notify) for f in fired} == {
        (urgent["number"], "first_response", False), (urgent["number"], "resolution", True)}
    # Live: the row turns overdue and the breach is announced in the notice area.
    await expect(rows.first.locator("[data-sla]")).to_have_attribute("data-sla", "breached")
    await expect(page.locator(".notice-error")).to_contain_text(
        f"{urgent['number']}: Resolution breached")
    await _shot(page, screenshots, "sla-queue.png")

    await rows.first.get_by_role("link", name="Payroll server down").click()
    clocks = page.locator(".panel-sla .sla-clock")
    await expect(clocks).to_have_count(2)
    await expect(clocks.nth(1)).to_have_attribute("data-state", "breached")
    await expect(clocks.nth(1)).to_contain_text("P1 \u00b7 target 1h 00m")
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        "Resolution SLA breached")
    await _shot(page, screenshots, "sla-ticket.png")


async def test_admin_manages_calendars_and_policies(
        server: RunningServer, admin: Client, page: Any, screenshots: Path) -> None:
    """An admin creates a business calendar and a fallback policy on it from the SLA page."""
    await log_in(page, "admin", "admin-password-1")
    await page.goto("/#/admin/sla")
    calendars = page.get_by_role("table", name="Business calendars")
    await expect(calendars.locator("tbody tr")).to_have_count(1)
    await page.get_by_role("button", name="New calendar").click()
    form = page.get_by_role("form", name="New calendar")
    await form.get_by_label("Name").fill("Berlin office")
    await form.get_by_label("Time zone").fill("Europe/Berlin")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        await form.get_by_label(day).fill("09:00-12:00, 13:00-17:00")
    await form.get_by_label("Every year").fill("12-25, 01-01")
    await form.get_by_role("button", name="Create calendar").click()
    await expect(calendars.locator("tbody tr")).to_have_count(2)
    await expect(calendars).to_contain_text("Mon 09:00-12:00, 13:00-17:00")

    await page.get_by_role("button", name="New policy").click()
    form = page.get_by_role("form", name="New policy")
    await form.get_by_label("Name").fill("Office hours")
    await form.get_by_label("Calendar").select_option(label="Berlin office")
    await form.get_by_role("group", name="First response").get_by_label("h", exact=True).fill("1")
    resolution = form.get_by_role("group", name="Resolution")
    await resolution.get_by_label("Unit").select_option(label="Business days")
    await resolution.get_by_label("business days").fill("2")
    await form.get_by_label("Fallback").check()
    await form.get_by_role("button", name="Create policy").click()
    policies = page.get_by_role("table", name="SLA policies")
    await expect(policies.locator("tbody tr")).to_have_count(1)
    await expect(policies).to_contain_text("Resolution 2 business days")
    await expect(policies).to_contain_text("Berlin office")
    stored = (await admin.get("/api/v1/sla/policies")).json["items"]
    assert [(p["name"], p["fallback"], p["targets"]["first_response"]) for p in stored] == [
        ("Office hours", True, 60)]
    await _shot(page, screenshots, "sla-admin.png")
