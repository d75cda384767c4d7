"""The desk's bulk actions in the console: tick tickets, then assign, move and tag them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket, queue_rows
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_technician_assigns_moves_and_tags_three_tickets_at_once(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A technician ticks three of four tickets (mouse and keyboard) and assigns, changes the status of and tags all three."""  # noqa: E501
    tina = await server.create_user(admin, "tina", "technician")
    await server.create_user(admin, "rick", "requester")
    rick = await server.login("rick")
    made = [await new_ticket(rick, title=f"Printer {i} jams") for i in range(4)]
    await log_in(page, "tina", PASSWORD)
    await page.get_by_role("tab", name="All open").click()
    await expect(queue_rows(page)).to_have_count(4)
    bar = page.get_by_role("region", name="Selected tickets")
    await expect(bar).to_be_hidden()
    await page.get_by_role("checkbox", name=f"Select {made[0]['number']}").check()
    await page.get_by_role("checkbox", name=f"Select {made[1]['number']}").check()
    # The keyboard ticks too: Tab onto the box, Space.
    third = page.get_by_role("checkbox", name=f"Select {made[2]['number']}")
    await third.focus()
    await page.keyboard.press("Space")
    await expect(third).to_be_checked()
    await expect(bar).to_contain_text("3 selected")
    select_all = page.get_by_role("checkbox", name="Select all tickets on this page")
    assert await select_all.evaluate("el => el.indeterminate")

    await bar.get_by_role("button", name="Assign").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Technician").select_option(label="Tina (me)")
    await dialog.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")

    await bar.get_by_role("button", name="Change status").click()
    await dialog.get_by_label("New status").select_option("in_progress")
    await dialog.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")

    await bar.get_by_role("button", name="Add tag").click()
    await dialog.get_by_role("textbox", name="Tag").fill("two words")
    await dialog.get_by_role("button", name="Apply").click()
    await expect(dialog.locator(".field-error")).to_contain_text("A tag is one word")
    await dialog.get_by_role("textbox", name="Tag").fill("printer")
    await dialog.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")
    await expect(queue_rows(page).locator(".chip", has_text="printer")).to_have_count(3)

    for ticket in made[:3]:
        got = (await rick.get(f"/api/v1/tickets/{ticket['id']}")).json
        assert got["status"] == "in_progress"
        assert got["assignee"]["id"] == tina["id"]
    tech = await server.login("tina")
    tags = [(await tech.get(f"/api/v1/tickets/{t['id']}")).json["tags"] for t in made]
    assert tags == [["printer"], ["printer"], ["printer"], []]


async def test_technician_saves_a_view_and_reopens_it_after_a_reload(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A technician saves the desk's filters under a name; after a reload, opening the view brings them back."""  # noqa: E501
    await server.create_user(admin, "tina", "technician")
    await server.create_user(admin, "rick", "requester")
    rick = await server.login("rick")
    await new_ticket(rick, title="Scanner offline", impact=1, urgency=1)
    await new_ticket(rick, title="Mouse squeaks")
    await log_in(page, "tina", PASSWORD)
    await page.get_by_role("tab", name="All", exact=True).click()
    await page.get_by_label("Filter by priority").select_option("1")
    await page.locator("#queue-sort").select_option("priority")
    await expect(queue_rows(page)).to_have_count(1)
    views = page.get_by_role("region", name="Saved views")
    await views.get_by_role("button", name="Save view").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Save view").click()
    await expect(dialog.locator(".field-error")).to_have_text("Give the view a name.")
    await dialog.get_by_role("textbox", name="Name").fill("Urgent ones")
    await dialog.get_by_role("button", name="Save view").click()
    await expect(page.get_by_role("status")).to_contain_text("View \u201cUrgent ones\u201d saved.")
    await expect(views.get_by_role("button", name="Urgent ones")).to_have_attribute(
        "aria-current", "true")

    await page.reload()
    await expect(page.get_by_role("tab", name="My open")).to_have_attribute(
        "aria-selected", "true")
    await views.get_by_role("button", name="Urgent ones").click()
    await expect(page.get_by_role("tab", name="All", exact=True)).to_have_attribute(
        "aria-selected", "true")
    await expect(page.get_by_label("Filter by priority")).to_have_value("1")
    await expect(page.locator("#queue-sort")).to_have_value("priority")
    await expect(queue_rows(page)).to_have_count(1)
    await expect(queue_rows(page)).to_contain_text("Scanner offline")

    # A name already used is said next to the field, and nothing is saved.
    await views.get_by_role("button", name="Save view").click()
    await dialog.get_by_role("textbox", name="Name").fill("urgent ONES")
    await dialog.get_by_role("button", name="Save view").click()
    await expect(dialog.locator(".field-error")).to_contain_text("already called")
    await dialog.get_by_role("button", name="Cancel").click()
    await views.get_by_role("button", name="Rename").click()
    await dialog.get_by_role("textbox", name="Name").fill("P1 everywhere")
    await dialog.get_by_role("button", name="Rename").click()
    await expect(views.get_by_role("button", name="P1 everywhere")).to_be_visible()
    tina = await server.login("tina")
    assert [v["name"] for v in (await tina.get("/api/v1/views")).json["items"]] == [
        "P1 everywhere"]
