"""Self-service in the console: one's own name and time zone; staff's "My requests"."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in, nav
from tests.console.test_tickets import new_ticket
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_a_user_changes_name_and_time_zone_and_sees_times_shift(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A requester renames themselves and picks Asia/Tokyo: the top bar shows the name and every time moves to Tokyo's clock."""  # noqa: E501
    rick = await server.create_user(admin, "rick", "requester")
    await log_in(page, "rick", PASSWORD)
    await page.goto("/#/account")
    since = page.locator("[data-time='member-since']")
    await expect(since).not_to_be_empty()
    before = await since.text_content()
    form = page.get_by_role("form", name="Profile")
    name = form.get_by_label("Display name")
    await name.fill("   ")
    await form.get_by_role("button", name="Save profile").click()
    await expect(form.locator(".field-error")).to_have_text("Your name cannot be blank.")
    assert (await admin.get(f"/api/v1/users/{rick['id']}")).json["display_name"] == "Rick"

    await name.fill("Rick Sanchez")
    await form.get_by_label("Time zone").select_option("Asia/Tokyo")
    await form.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    await expect(page.locator(".user-name")).to_have_text("Rick Sanchez")
    tokyo = await page.evaluate(
        """iso => new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short",
               timeZone: "Asia/Tokyo"}).format(new Date(iso))""", rick["created_at"])
    await expect(since).to_have_text(tokyo)
    assert tokyo != before  # the test browser runs on UTC: nine hours apart
    await expect(page.locator("[data-time='now']")).to_contain_text("Asia/Tokyo")
    stored = (await admin.get(f"/api/v1/users/{rick['id']}")).json
    assert (stored["display_name"], stored["time_zone"]) == ("Rick Sanchez", "Asia/Tokyo")

    # After a reload the zone comes with the session: the portal's times are Tokyo's too.
    ticket = await new_ticket(await server.login("rick"), title="Clock test")
    await page.goto(f"/#/portal/tickets/{ticket['id']}")
    await page.reload()
    await expect(page.locator(".ticket-title")).to_have_text("Clock test")  # session restored
    shown = await page.evaluate("async () => (await import('/static/js/format.js')).timeZone()")
    assert shown == "Asia/Tokyo"


async def test_staff_open_my_requests_beside_the_desk(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A technician's "My requests" lists the tickets they raised, not the desk's others."""
    await server.create_user(admin, "tina", "technician")
    await server.create_user(admin, "rick", "requester")
    tina = await server.login("tina")
    await new_ticket(tina, title="My monitor flickers")
    await new_ticket(await server.login("rick"), title="Rick's keyboard")
    await log_in(page, "tina", PASSWORD)
    link = nav(page).get_by_role("link", name="My requests")
    await expect(link).to_be_visible()
    await link.click()
    await expect(link).to_have_attribute("aria-current", "page")
    tickets = page.get_by_role("list", name="My tickets")
    await expect(tickets).to_contain_text("My monitor flickers")
    await expect(tickets.get_by_role("listitem")).to_have_count(1)
