"""Working tickets in the console: catalog requests with approval, merge, relate, canned replies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_requester_raises_a_catalog_request_with_its_form_and_the_approver_approves(
        server: RunningServer, admin: Client, browser: Any, page: Any) -> None:
    """A requester picks a request type, fills its own form, sees it wait for approval; the named approver approves it in the portal."""  # noqa: E501
    await server.create_user(admin, "rick", "requester")
    mona = await server.create_user(admin, "mona", "requester")
    item = await admin.post("/api/v1/catalog", json={
        "name": "New laptop", "description": "A laptop for a new or current employee.",
        "fields": [
            {"name": "model", "label": "Model", "type": "select", "required": True,
             "options": ["ThinkPad T14", "MacBook Air"]},
            {"name": "reason", "label": "Why is it needed", "type": "textarea", "required": True},
            {"name": "monitor", "label": "Also an external monitor", "type": "checkbox"}],
        "approval": "approver", "approver_id": mona["id"]})
    assert item.status == 201, item.body

    await log_in(page, "rick", PASSWORD)
    await page.get_by_role("link", name="New ticket").first.click()
    form = page.get_by_role("form", name="New ticket")
    await form.get_by_text("I need something").click()
    await form.get_by_label("Request type").select_option(label="New laptop")
    await expect(form.get_by_text("A laptop for a new or current employee.")).to_be_visible()
    await expect(form.get_by_text("needs an approval before work starts")).to_be_visible()
    await form.get_by_role("button", name="Submit ticket").click()  # required fields empty
    await expect(page).to_have_url(re.compile(r"#/portal/new$"))
    await form.get_by_label("Model").select_option("MacBook Air")
    await form.get_by_label("Why is it needed").fill("Starts on Monday in finance.")
    await form.get_by_label("Also an external monitor").check()
    await form.get_by_role("button", name="Submit ticket").click()

    await expect(page).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
    await expect(page.locator(".ticket-title")).to_have_text("New laptop")
    await expect(page.locator(".approval")).to_contain_text("Waiting for approval by Mona")
    facts = page.get_by_label("Request form")
    await expect(facts).to_contain_text("Model")
    await expect(facts).to_contain_text("MacBook Air")
    await expect(facts).to_contain_text("Also an external monitor")
    await expect(facts).to_contain_text("Yes")
    await expect(page.get_by_role("button", name="Approve\u2026")).to_have_count(0)

    async with open_page(browser, server.base_url) as approver:
        await log_in(approver, "mona", PASSWORD)
        waiting = approver.get_by_role("list", name="Waiting for my approval")
        await expect(waiting).to_contain_text("New laptop")
        await waiting.get_by_role("link").first.click()
        await expect(approver.locator(".ticket-meta")).to_contain_text("Opened by Rick")
        await approver.get_by_role("button", name="Approve\u2026").click()
        dialog = approver.get_by_role("form", name="Approve request")
        await dialog.get_by_label("Comment (optional)").fill("Welcome aboard.")
        await dialog.get_by_role("button", name="Approve").click()
        await expect(approver.locator(".approval")).to_contain_text("Approved")
        await expect(approver.get_by_role("list", name="Waiting for my approval")).to_have_count(0)

    # The requester's page follows the live feed: approved, with the approver's comment.
    await expect(page.locator(".approval")).to_contain_text("Approved", timeout=5000)
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text("Welcome aboard.")


async def test_technician_merges_two_tickets_from_the_keyboard(
        server: RunningServer, admin: Client, requester: Client, browser: Any,
        page: Any) -> None:
    """A technician merges one ticket into another with m; the merged one shows the reference, both are related; canned replies and related tickets work from the keyboard."""  # noqa: E501
    await server.create_user(admin, "tina", "technician")
    first = await new_ticket(requester, title="Outlook asks for the password again",
                             impact=1, urgency=2)
    second = await new_ticket(requester, title="Mail keeps asking me to sign in")
    third = await new_ticket(requester, title="Calendar invites arrive late")
    canned = await admin.post("/api/v1/canned-responses", json={
        "title": "Restart Outlook", "body": "Please close Outlook and open it again.",
        "shared": True})
    assert canned.status == 201, canned.body

    await log_in(page, "tina", PASSWORD)
    await page.goto(f"{server.base_url}/#/desk/tickets/{first['id']}")
    await expect(page.locator(".ticket-title")).to_have_text(first["title"])
    await expect(page.locator(".matrix-result")).to_contain_text("Impact 1 \u00d7 urgency 2")
    await expect(page.locator(".matrix-result .prio")).to_have_text("P2")

    # c: a canned response goes into the reply box.
    await page.keyboard.press("c")
    await page.get_by_role("button", name="Insert Restart Outlook").click()
    await expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value(
        "Please close Outlook and open it again.")
    await expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    await page.keyboard.press("Escape")
    await page.get_by_role("textbox", name="Message", exact=True).evaluate("el => el.blur()")

    # l: relate the third ticket, then unrelate it.
    await page.keyboard.press("l")
    await page.get_by_role("searchbox", name="Find a ticket").fill("calendar invites")
    await page.get_by_role("button", name=f"Relate {third['number']}").click()
    related = page.get_by_role("list", name="Related tickets")
    await expect(related).to_contain_text(third["number"])
    await page.get_by_role("button", name=f"Unrelate {third['number']}").click()
    await expect(page.get_by_role("list", name="Related tickets")).to_have_count(0)

    # m: merge into the second ticket.
    await page.keyboard.press("m")
    await page.get_by_role("searchbox", name="Find a ticket").fill("sign in")
    await page.get_by_role("button", name=f"Merge into {second['number']}").click()
    await expect(page.locator(".merged-ref")).to_contain_text(f"Merged into {second['number']}")
    await expect(page.locator(".ticket-head [data-status]")).to_have_text("Closed")
    await expect(page.get_by_role("list", name="Related tickets")).to_contain_text(
        second["number"])
    await page.locator(".merged-ref a").click()
    await expect(page.locator(".ticket-title")).to_have_text(second["title"])
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        f"{first['number']} ({first['title']}) was merged into this ticket.")
    merged = await requester.get(f"/api/v1/tickets/{first['id']}")
    assert (merged.json["status"], merged.json["merged_into_id"]) == ("closed", second["id"])
