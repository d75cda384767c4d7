"""A ticket's kind in the console: what the portal files, and the desk changing it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def file_in_portal(page: Any, choice: str, title: str) -> dict[str, Any]:
    """File a ticket through the portal's form with the kind ``choice``; return it."""
    await page.goto("/#/portal/new")
    form = page.get_by_role("form", name="New ticket")
    await form.locator("label.choice", has_text=choice).click()
    await page.screenshot(path=f"/tmp/product/portal-new-{choice[:6].strip()}.png")
    await form.get_by_label("Title").fill(title)
    await form.get_by_label("Description").fill("Since this morning.")
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")
                                    and r.request.method == "POST") as answer:
        await form.get_by_role("button", name="Submit ticket").click()
    await expect(page).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
    return dict(await (await answer.value).json())


async def test_portal_files_the_kind_the_requester_picked(
        server: RunningServer, requester: Client, page: Any) -> None:
    """"Something is not working" files an incident and "I need something" a service request."""
    await log_in(page, "rick", PASSWORD)
    await page.set_viewport_size({"width": 390, "height": 844})
    broken = await file_in_portal(page, "Something is not working", "Printer jams")
    assert (broken["kind"], broken["number"][:4]) == ("incident", "INC-")
    await expect(page.locator(".ticket-head")).to_contain_text(broken["number"])
    wanted = await file_in_portal(page, "I need something", "A second screen")
    assert (wanted["kind"], wanted["number"][:4]) == ("service_request", "REQ-")
    mine = await requester.get("/api/v1/tickets")
    assert sorted(t["kind"] for t in mine.json["items"]) == ["incident", "service_request"]


async def test_desk_changes_the_kind_and_the_old_number_still_finds_the_ticket(
        server: RunningServer, technician: Client, requester: Client, browser: Any,
        page: Any) -> None:
    """A technician turns an incident into a service request on its page; the number, timeline, queue search and the requester's portal follow."""  # noqa: E501
    filed = await requester.post("/api/v1/tickets", json={"title": "Need a headset"})
    tid = filed.json["id"]
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{tid}")
    await expect(page.locator(".ticket-head .ticket-number")).to_have_text("INC-000001")
    await page.get_by_label("Kind", exact=True).select_option("service_request")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Make INC-000001 a service request?")
    await dialog.get_by_role("button", name="Change kind").click()
    await expect(page.locator(".ticket-head .ticket-number")).to_have_text("REQ-000001")
    await expect(page.get_by_label("Kind", exact=True)).to_have_value("service_request")
    await expect(page.locator(".former-numbers")).to_have_text("INC-000001")
    line = page.get_by_role("list", name="Timeline").locator(".tl-kind")
    await expect(line).to_contain_text("changed the kind")
    await expect(line).to_contain_text("now REQ-000001 (was INC-000001)")
    # The queue's search box finds it by its old number.
    await page.goto("/#/desk")
    await page.get_by_role("tab", name="All open").click()
    await page.get_by_role("searchbox").fill("INC-000001")
    rows = page.get_by_role("table", name="Tickets").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("REQ-000001")
    # The requester reads the change on their ticket.
    async with open_page(browser, server.base_url) as portal:
        await log_in(portal, "rick", PASSWORD)
        await portal.goto(f"/#/portal/tickets/{tid}")
        await expect(portal.locator(".ticket-head .ticket-number")).to_have_text("REQ-000001")
        await expect(portal.locator(".ticket-head")).to_contain_text("formerly INC-000001")
        kind_line = portal.get_by_role("list", name="Timeline").locator(".tl-kind")
        await expect(kind_line).to_contain_text("incident \u2192 service request")
        # On a phone the head and the line stay inside the screen.
        await portal.set_viewport_size({"width": 390, "height": 844})
        for part in (portal.locator(".ticket-head"), kind_line):
            box = await part.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        await portal.screenshot(path="/tmp/product/portal-kind-phone.png", full_page=True)
