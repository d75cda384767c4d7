"""Problem management in the console: work a problem to a KB workaround and resolve it
with its incidents; accept a recurring-problem suggestion (also at phone size)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer

WORDS = ("Outlook freezes when opening the shared team calendar",
         "Shared team calendar freezes Outlook when opening",
         "Opening the shared calendar freezes Outlook for the team",
         "Outlook hangs and freezes opening shared team calendar",
         "Team calendar shared in Outlook freezes on opening")


async def test_problem_workaround_and_resolution_with_incidents(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        page: Any) -> None:
    """The technician writes root cause and workaround, publishes it to the KB, then
    resolves the problem with the open incidents ticked in the dialog."""
    incidents = [await new_ticket(requester, title=w) for w in WORDS[:3]]
    problem = await new_ticket(technician, kind="problem", title="Outlook freezes on calendars")
    resp = await technician.post(f"/api/v1/problems/{problem['id']}/incidents",
                                 json={"incident_ids": [i["id"] for i in incidents]})
    assert resp.status == 200, resp.body
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{problem['id']}")
    form = page.get_by_role("form", name="Problem analysis")
    await form.get_by_label("Root cause").fill("A calendar add-in blocks the UI thread.")
    await form.get_by_label("Workaround", exact=True).fill("Turn off the calendar sync add-in.")
    await form.get_by_role("checkbox", name="Known error").check()
    await form.get_by_role("button", name="Save analysis").click()
    await expect(page.locator("[data-known-error]")).to_be_visible()
    await page.get_by_role("button", name="Publish workaround as KB article").click()
    await expect(page.locator("[data-workaround-article]")).to_be_visible()
    await page.get_by_role("button", name="Resolve…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("input[data-incident]")).to_have_count(3)
    await dialog.locator(f"input[data-incident='{incidents[2]['id']}']").uncheck()
    await dialog.get_by_label("Message to the requesters").fill("The add-in was updated.")
    await dialog.get_by_role("button", name="Resolve", exact=True).click()
    await expect(dialog).to_be_hidden()
    statuses = [(await technician.get(f"/api/v1/tickets/{i['id']}")).json["status"]
                for i in incidents]
    assert statuses == ["resolved", "resolved", "new"]
    shown = (await technician.get(f"/api/v1/tickets/{problem['id']}")).json
    assert shown["status"] == "resolved" and shown["workaround_article_id"] is not None


async def test_accepting_a_suggestion_opens_the_new_problem(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        browser: Any) -> None:
    """Similar incidents become a suggestion listing them; accepting it makes a problem
    linking them; a technician of another group sees no suggestion."""
    group = (await admin.post("/api/v1/groups", json={"name": "Messaging"})).json
    await admin.put(f"/api/v1/groups/{group['id']}/members/{technician.user['id']}")
    made = [await new_ticket(requester, title=w, description=w) for w in WORDS]
    for ticket in made:
        await technician.patch(f"/api/v1/tickets/{ticket['id']}", json={"group_id": group["id"]})
    await server.create_user(admin, "otto", "technician")
    otto = await server.login("otto")
    async with open_page(browser, server.base_url, viewport={"width": 390, "height": 844}) as page:
        await log_in(page, "tina", PASSWORD)
        await page.goto("/#/desk/problems")
        await page.get_by_role("button", name="Look again").click()
        card = page.locator("[data-suggestion]")
        await expect(card).to_have_count(1)
        await expect(card.get_by_role("link")).to_have_count(len(made))
        assert (await otto.get("/api/v1/problem-suggestions")).json["items"] == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await card.get_by_role("button", name="Accept as problem").click()
        await page.get_by_role("dialog").get_by_role("button", name="Accept as problem").click()
        await expect(page).to_have_url(re.compile(r"#/desk/tickets/\d+$"))
        problem_id = int(page.url.rsplit("/", 1)[1])
        await expect(page.get_by_role("list", name="Linked incidents").get_by_role(
            "link")).to_have_count(len(made))
    linked = (await technician.get(f"/api/v1/problems/{problem_id}/incidents")).json["items"]
    assert sorted(i["id"] for i in linked) == sorted(t["id"] for t in made)
