"""A ticket's kind in the console: what the portal files, and the desk changing it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def file_in_portal(page: Any, choice: str, title: str) -> dict[str, Any]:
    """File a ticket through the portal's form with the kind ``choice``; return it."""
    await page.goto("/#/portal/new")
    form = page.get_by_role("form", name="New ticket")
    await form.locator("label.choice", has_text=choice).click()
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
    broken = await file_in_portal(page, "Something is not working", "Printer jams")
    assert (broken["kind"], broken["number"][:4]) == ("incident", "INC-")
    await expect(page.locator(".ticket-head")).to_contain_text(broken["number"])
    wanted = await file_in_portal(page, "I need something", "A second screen")
    assert (wanted["kind"], wanted["number"][:4]) == ("service_request", "REQ-")
    mine = await requester.get("/api/v1/tickets")
    assert sorted(t["kind"] for t in mine.json["items"]) == ["incident", "service_request"]
