"""The knowledge base in the console: deflection in the portal, writing with a preview,
history and restore, search, feedback and required reading (headless Chromium)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in, nav
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def article(client: Client, **body: Any) -> dict[str, Any]:
    """Create an article through the API and return it."""
    body.setdefault("body", "Some text.")
    resp = await client.post("/api/v1/kb/articles", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_requester_typing_a_problem_marks_the_suggested_article_as_solving_it(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A requester typing a problem sees the matching public article and marks it as having solved the problem; a deflection is recorded, no ticket is made, and internal or draft articles are never suggested."""  # noqa: E501 - the issue's words
    await server.create_user(admin, "rick", "requester")
    public = await article(admin, title="Printer shows a paper jam but the tray is empty",
                           summary="Clear the rear roller and restart the printer.",
                           body="Open the rear door, remove scraps from the **roller**, then "
                                "switch the printer off and on.",
                           visibility="public", status="published")
    await article(admin, title="Printer paper jam: firmware reset codes (internal)",
                  body="Service menu: 3-5-7.", visibility="internal", status="published")
    await article(admin, title="Printer paper jam draft", body="Not ready.",
                  visibility="public", status="draft")

    await log_in(page, "rick", PASSWORD)
    await page.get_by_role("link", name="New ticket").first.click()
    form = page.get_by_role("form", name="New ticket")
    await form.get_by_label("Title").press_sequentially("The printer says paper jam", delay=15)
    suggestions = page.get_by_role("region", name="Suggested articles")
    await expect(suggestions).to_be_visible()
    cards = suggestions.locator(".kb-suggestion")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text(public["title"])
    await expect(cards.first.locator("mark").first).to_be_visible()
    await expect(suggestions).not_to_contain_text("internal")
    await expect(suggestions).not_to_contain_text("draft")

    await cards.first.get_by_role("button", name="Read it here").click()
    await expect(cards.first.locator(".kb-body strong")).to_have_text("roller")
    await cards.first.get_by_role("button", name="This solved my problem").click()
    await expect(page).to_have_url(re.compile(r"#/portal$"))
    await expect(page.get_by_text("No ticket was created")).to_be_visible()

    stats = (await admin.get("/api/v1/kb/stats")).json["items"]
    by_id = {s["article_id"]: s for s in stats}
    assert by_id[public["id"]]["deflections"] == 1
    assert sum(s["deflections"] for s in stats) == 1
    assert (await admin.get("/api/v1/tickets")).json["items"] == []


async def test_technician_writes_with_a_live_preview_then_restores_a_version(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A technician writes an article watching the sanitized preview, edits it, compares the versions and restores the first."""  # noqa: E501
    await server.create_user(admin, "tina", "technician")
    await log_in(page, "tina", PASSWORD)
    await nav(page).get_by_role("link", name="Knowledge base").click()
    await page.get_by_role("link", name="New article").click()
    form = page.get_by_role("form", name="New article")
    await form.get_by_label("Title").fill("Map a network drive")
    await form.get_by_label("Article (Markdown)").fill(
        "Open **Explorer** and choose *Map network drive*.\n\n<script>window.pwned = 1</script>")
    preview = form.get_by_label("Preview")
    await expect(preview.locator("strong")).to_have_text("Explorer")
    await expect(preview.locator("script")).to_have_count(0)
    await form.get_by_label("Visibility").select_option("public")
    await form.get_by_label("Status").select_option("published")
    await form.get_by_role("button", name="Create").click()

    await expect(page).to_have_url(re.compile(r"#/kb/articles/\d+$"))
    article_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator(".kb-article-title")).to_have_text("Map a network drive")
    await expect(page.locator(".kb-body strong")).to_have_text("Explorer")
    assert await page.evaluate("window.pwned === undefined")

    await page.get_by_role("link", name="Edit").click()
    edit = page.get_by_role("form", name="Edit article")
    await edit.get_by_label("Article (Markdown)").fill("Use **net use Z:** in a terminal.")
    await expect(edit.get_by_label("Preview").locator("strong")).to_have_text("net use Z:")
    await edit.get_by_role("button", name="Save a new version").click()
    await expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    await expect(page.locator(".kb-body strong")).to_have_text("net use Z:")

    await page.get_by_role("link", name="History").click()
    versions = page.get_by_role("list", name="Versions")
    await expect(versions.locator(".kb-version")).to_have_count(2)
    diff = page.get_by_label("Differences")
    await expect(diff.locator(".diff-del")).to_contain_text(["Explorer"])
    await expect(diff.locator(".diff-add")).to_contain_text(["net use Z:"])
    await versions.locator('.kb-version[data-number="1"]').get_by_role(
        "button", name="Restore").click()
    await page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    await expect(page.get_by_text("Version 1 is restored as version 3.")).to_be_visible()
    await expect(versions.locator(".kb-version")).to_have_count(3)

    stored = (await admin.get(f"/api/v1/kb/articles/{article_id}")).json
    assert stored["version"] == 3 and "Explorer" in stored["body"]


async def test_search_feedback_and_required_reading(
        server: RunningServer, admin: Client, browser: Any, page: Any) -> None:
    """A requester finds an article by search with the match highlighted, says it helped and acknowledges it as required reading; the technician sees who has not read it."""  # noqa: E501
    rick = await server.create_user(admin, "rick", "requester")
    await server.create_user(admin, "tina", "technician")
    group = (await admin.post("/api/v1/groups", json={"name": "Sales"})).json
    await admin.put(f"/api/v1/groups/{group['id']}/members/{rick['id']}")
    vpn = await article(admin, title="Connect to the VPN from home",
                        body="Start the *VPN client* and sign in with your token.",
                        visibility="public", status="published", tags=["remote"])
    await article(admin, title="VPN concentrator maintenance", visibility="internal",
                  status="published")
    assigned = await admin.post(f"/api/v1/kb/articles/{vpn['id']}/required-reading",
                                json={"group_id": group["id"]})
    assert assigned.status == 201

    await log_in(page, "rick", PASSWORD)
    await nav(page).get_by_role("link", name="Help articles").click()
    await page.get_by_label("Search articles").fill("vpn")
    results = page.get_by_role("list", name="Articles")
    await expect(results.locator(".kb-result")).to_have_count(1)
    await expect(results.locator(".kb-result mark").first).to_have_text(re.compile("vpn", re.I))
    await results.get_by_role("link", name=vpn["title"]).click()

    await expect(page.locator(".kb-article-title")).to_have_text(vpn["title"])
    await page.get_by_label("Comment").fill("Clear steps, thanks.")
    await page.get_by_role("button", name="Helpful", exact=True).click()
    await expect(page.get_by_text("glad it helped")).to_be_visible()
    await page.get_by_role("region", name="Required reading").get_by_role(
        "button", name="I have read it").click()
    await expect(page.get_by_text("your reading is recorded")).to_be_visible()

    stats = {s["article_id"]: s for s in (await admin.get("/api/v1/kb/stats")).json["items"]}
    assert stats[vpn["id"]]["helpful"] == 1 and stats[vpn["id"]]["views"] >= 1

    async with open_page(browser, server.base_url) as desk:
        await log_in(desk, "tina", PASSWORD)
        await desk.goto("/#/kb/reading")
        row = desk.locator(f'tr[data-article="{vpn["id"]}"]')
        await expect(row).to_contain_text("Sales")
        await expect(row).to_contain_text("1 of 1")
        await expect(row.locator(".kb-not-read")).to_contain_text("everyone has read it")


async def test_ticket_links_articles_sends_one_and_drafts_another(
        server: RunningServer, admin: Client, browser: Any, page: Any) -> None:
    """On a ticket a technician links an article found by search and sends it as a reply; the requester sees it on their ticket; a resolved ticket drafts a new article."""  # noqa: E501
    await server.create_user(admin, "tina", "technician")
    await server.create_user(admin, "rick", "requester")
    rick = await server.login("rick")
    ticket = (await rick.post("/api/v1/tickets", json={
        "title": "Outlook asks for my password", "description": "Every ten minutes."})).json
    public = await article(admin, title="Outlook keeps asking for a password",
                           summary="Remove the stale credential.", visibility="public",
                           status="published")

    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{ticket['id']}")
    kb_panel = page.locator(".panel").filter(has=page.get_by_role("heading", name="Knowledge base"))
    await kb_panel.get_by_role("button", name="Link").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Find an article").fill("outlook password")
    await dialog.get_by_role("button", name=re.compile("Outlook keeps asking")).click()
    linked = kb_panel.get_by_role("list", name="Linked articles")
    await expect(linked).to_contain_text(public["title"])
    await linked.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        "Remove the stale credential.")

    async with open_page(browser, server.base_url) as portal:
        await log_in(portal, "rick", PASSWORD)
        await portal.goto(f"/#/portal/tickets/{ticket['id']}")
        helpful = portal.locator(".panel").filter(
            has=portal.get_by_role("heading", name="Helpful articles"))
        await expect(helpful.get_by_role("link", name=public["title"])).to_be_visible()
        await expect(helpful.get_by_role("button", name="Send")).to_have_count(0)

    tpath = f"/api/v1/tickets/{ticket['id']}"
    tina = await server.login("tina")
    await tina.patch(tpath, json={"assignee_id": tina.user["id"]})
    await tina.patch(tpath, json={"status": "resolved", "resolution_code": "fixed",
                                  "resolution_note": "Removed the stale credential."})
    await page.reload()
    await kb_panel.get_by_role("button", name="Draft article").click()
    await expect(page).to_have_url(re.compile(r"#/kb/articles/\d+/edit$"))
    edit = page.get_by_role("form", name="Edit article")
    await expect(edit.get_by_label("Title")).to_have_value(ticket["title"])
    await expect(edit.get_by_label("Article (Markdown)")).to_have_value(
        re.compile("Removed the stale credential."))
