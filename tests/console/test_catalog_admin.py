"""Admin pages for the catalog, categories and canned responses, driven in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in, nav
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ENGLISH = json.loads((Path(__file__).resolve().parents[2] / "console" / "static" / "locales"
                      / "en.json").read_text(encoding="utf-8"))


async def no_sideways_scroll(page: Any) -> None:
    """Fail when the document is wider than the viewport."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


async def content_fits(page: Any) -> None:
    """Fail when the page's own content (the shell's main area) is wider than the viewport.

    The top bar belongs to the shell, which the phone layout of the console lays out
    (tests/console/test_layout.py walks every route for the whole document).
    """
    width = await page.evaluate("document.querySelector('main').scrollWidth")
    assert width <= page.viewport_size["width"], width


async def _category(page: Any, panel: str, name: str, under: str | None = None) -> None:
    """Create a category in the named panel of the Categories page, optionally under another."""
    box = page.locator("section.panel", has=page.get_by_role("heading", name=panel))
    if under is None:
        await box.get_by_role("button", name=re.compile("^New .*categor")).click()
    else:
        await box.get_by_role("button", name=f"Add under {under}").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_role("button", name="Create category").click()
    await expect(dialog).to_have_count(0)
    await expect(box.locator(".category-row", has_text=name).first).to_be_visible()


@pytest.mark.timeout(180)
async def test_admin_sets_up_a_request_type_and_a_requester_files_it_on_a_phone(
        server: RunningServer, admin: Client, page: Any, browser: Any) -> None:
    """Categories, an approver and a two-field request type made in the console reach the portal; the request shows its answers and awaits approval."""  # noqa: E501
    await log_in(page, "admin", ADMIN_PASSWORD)
    # The approver, made on the Users page.
    await nav(page).get_by_role("link", name="Users").click()
    await page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("User name").fill("bella")
    await dialog.get_by_label("Display name").fill("Bella Boss")
    await dialog.get_by_role("button", name="Create user").click()
    await expect(dialog).to_have_count(0)

    await nav(page).get_by_role("link", name="Categories").click()
    await _category(page, "Ticket categories", "Hardware")
    await _category(page, "Ticket categories", "Laptops", under="Hardware")
    await _category(page, "Knowledge-base categories", "VPN")

    await nav(page).get_by_role("link", name="Service catalog").click()
    await page.get_by_role("button", name="New request type").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name", exact=True).fill("New laptop")
    await dialog.get_by_label("Description").fill("A laptop for work.")
    await dialog.get_by_label("Category of its tickets").select_option(
        label="Hardware \u203a Laptops")
    await dialog.get_by_label("Approval").select_option("approver")
    await dialog.get_by_label("Approver").fill("Bella Boss (bella)")
    await dialog.get_by_role("button", name="Add a field").click()
    first = dialog.locator(".form-field").nth(0)
    await first.get_by_label("Label").fill("Model")
    await first.get_by_label("Type").select_option("select")
    await first.get_by_label("Required").check()
    await first.get_by_label("Choices").fill("13-inch\n15-inch")
    await dialog.get_by_role("button", name="Add a field").click()
    second = dialog.locator(".form-field").nth(1)
    await second.get_by_label("Label").fill("Needed by")
    await second.get_by_label("Type").select_option("date")
    # Reorder with the keyboard-reachable buttons, then back.
    await dialog.get_by_role("button", name="Move field Needed by up").click()
    first_label = dialog.locator(".form-field").nth(0).get_by_label("Label")
    await expect(first_label).to_have_value("Needed by")
    await dialog.get_by_role("button", name="Move field Needed by down").click()
    await dialog.get_by_role("button", name="Create request type").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator("tr[data-item='New laptop']")).to_contain_text(
        "Approved by Bella Boss")

    items = (await admin.get("/api/v1/catalog")).json["items"]
    assert [(f["name"], f["type"], f["required"], f["options"]) for f in items[0]["fields"]] == [
        ("model", "select", True, ["13-inch", "15-inch"]), ("needed_by", "date", False, [])]
    assert items[0]["approval"] == "approver"

    await server.create_user(admin, "rick", "requester")
    context = await browser.new_context(ignore_https_errors=True, base_url=server.base_url,
                                        viewport=PHONE)
    try:
        phone = await context.new_page()
        await log_in(phone, "rick", PASSWORD)
        await phone.goto("/#/portal/new")
        await phone.get_by_text("I need something").click()
        await phone.get_by_label("Request type").select_option(label="New laptop")
        await phone.get_by_label("Model").select_option("15-inch")
        await phone.get_by_label("Needed by (optional)").fill("2027-01-15")
        await no_sideways_scroll(phone)
        await phone.get_by_role("button", name="Submit ticket").click()
        await expect(phone).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
        body = phone.locator("main")
        await expect(body).to_contain_text("15-inch")
        await expect(body).to_contain_text("2027-01-15")
        await expect(phone.locator(".approval-requested").first).to_be_visible()
        await no_sideways_scroll(phone)
    finally:
        await context.close()
    ticket = (await admin.get("/api/v1/tickets")).json["items"][0]
    full = (await admin.get(f"/api/v1/tickets/{ticket['id']}")).json
    assert full["approval"] == "requested" and full["approver"]["display_name"] == "Bella Boss"
    assert full["form"] == {"model": "15-inch", "needed_by": "2027-01-15"}
    laptops = [c for c in (await admin.get("/api/v1/categories")).json["items"]
               if c["name"] == "Laptops"]
    assert full["category_id"] == laptops[0]["id"]


async def test_renaming_moving_and_retiring_keeps_an_old_tickets_category(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """A category renamed, moved and retired in the console stays on its old ticket and leaves the pickers."""  # noqa: E501
    hw = (await admin.post("/api/v1/categories", json={"name": "Hardware"})).json
    other = (await admin.post("/api/v1/categories", json={"name": "Other"})).json
    ticket = (await technician.post("/api/v1/tickets", json={
        "title": "Broken screen", "kind": "incident", "category_id": hw["id"]})).json
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/categories")
    await page.get_by_role("button", name="Rename or move Hardware").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name").fill("Old hardware")
    await dialog.get_by_label("Under").select_option(label="Other")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(dialog).to_have_count(0)
    await page.get_by_role("button", name="Retire Other \u203a Old hardware").click()
    await expect(page.locator(".notice-success")).to_contain_text("is retired")
    row = page.locator(".category-row", has_text="Old hardware")
    await expect(row).to_contain_text("Retired")
    got = (await admin.get("/api/v1/categories")).json["items"]
    moved = next(c for c in got if c["id"] == hw["id"])
    assert (moved["name"], moved["parent_id"], moved["active"]) == (
        "Old hardware", other["id"], False)

    # The old ticket keeps it (marked retired); a new ticket is not offered it.
    await page.goto(f"/#/desk/tickets/{ticket['id']}")
    picker = page.locator(".ticket-side").get_by_label("Category")
    await expect(picker.locator("option:checked")).to_have_text(
        "Other \u203a Old hardware (retired)")
    assert (await admin.get(f"/api/v1/tickets/{ticket['id']}")).json["category_id"] == hw["id"]
    await page.goto("/#/portal/new")
    await expect(page.get_by_label("Category").locator("option")).to_have_text(["None", "Other"])


async def test_bad_input_shows_field_messages_and_saves_nothing(
        server: RunningServer, admin: Client, page: Any) -> None:
    """Each admin form puts a plain message next to the wrong field and stores nothing."""
    await admin.post("/api/v1/categories", json={"name": "Network"})
    await admin.post("/api/v1/catalog", json={"name": "Phone"})
    await log_in(page, "admin", ADMIN_PASSWORD)

    await page.goto("/#/admin/catalog")
    await page.get_by_role("button", name="New request type").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Create request type").click()
    await expect(dialog.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(dialog.locator(".field-error").first).to_have_text("Enter a name.")
    await dialog.get_by_label("Name", exact=True).fill("phone")
    await dialog.get_by_label("Approval").select_option("approver")
    await dialog.get_by_label("Approver").fill("Nobody at all")
    await dialog.get_by_role("button", name="Add a field").click()
    await dialog.locator(".form-field").get_by_label("Type").select_option("select")
    await dialog.get_by_role("button", name="Create request type").click()
    errors = dialog.locator(".field-error")
    await expect(errors).to_have_text([
        "Nobody on the list has this name: pick a person from the suggestions.",
        "Enter a label for this field.", "A choice field needs at least one choice."])
    await dialog.get_by_label("Approval").select_option("none")
    await dialog.locator(".form-field").get_by_label("Label").fill("Colour")
    await dialog.locator(".form-field").get_by_label("Choices").fill("Red")
    await dialog.get_by_role("button", name="Create request type").click()
    await expect(errors).to_have_text(["Another request type already has this name."])
    name_field = dialog.locator(".field", has=page.get_by_label("Name", exact=True))
    await expect(name_field).to_contain_text("Another request type already has this name.")
    assert [i["name"] for i in (await admin.get("/api/v1/catalog")).json["items"]] == ["Phone"]
    await dialog.get_by_role("button", name="Cancel").click()

    await page.goto("/#/admin/categories")
    box = page.locator("section.panel", has=page.get_by_role("heading", name="Ticket categories"))
    await box.get_by_role("button", name="New category (tickets)").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Create category").click()
    await expect(dialog.locator(".field-error")).to_have_text(["Enter a name."])
    await dialog.get_by_label("Name").fill("network")
    await dialog.get_by_role("button", name="Create category").click()
    await expect(dialog.locator(".field-error")).to_have_text(
        ["A category with this name is already there."])
    await dialog.get_by_role("button", name="Cancel").click()
    assert len((await admin.get("/api/v1/categories")).json["items"]) == 1

    await page.goto("/#/desk/canned")
    await page.get_by_role("button", name="New canned response").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Title").fill("   ")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.locator(".field-error")).to_have_text(
        ["Enter a title.", "Enter the text of the reply."])
    await expect(dialog.get_by_label("Title")).to_be_focused()
    assert (await admin.get("/api/v1/canned-responses")).json["items"] == []


async def test_canned_responses_page_follows_the_apis_rules(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """A technician adds and edits their own replies and sees shared ones read-only; an admin edits shared ones."""  # noqa: E501
    await admin.post("/api/v1/canned-responses",
                     json={"title": "Welcome", "body": "Hello and welcome.", "shared": True})
    await log_in(page, "tina", PASSWORD)
    await nav(page).get_by_role("link", name="Canned responses").click()
    shared = page.locator("tr[data-canned='Welcome']")
    await expect(shared).to_contain_text("Admins edit shared ones")
    await expect(shared.get_by_role("button")).to_have_count(0)
    await page.get_by_role("button", name="New canned response").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_label("Shared with the whole desk")).to_have_count(0)
    await dialog.get_by_label("Title").fill("Reboot")
    await dialog.get_by_label("Text").fill("Please restart your computer.")
    await dialog.get_by_role("button", name="Create").click()
    await expect(page.locator("tr[data-canned='Reboot']")).to_contain_text("Personal")
    await page.get_by_role("button", name="Edit Reboot").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Text").fill("Please restart, then try again.")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(page.locator("tr[data-canned='Reboot']")).to_contain_text("then try again")
    await page.get_by_role("button", name="Delete Reboot").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page.locator("tr[data-canned='Reboot']")).to_have_count(0)
    titles = [c["title"] for c in (await technician.get("/api/v1/canned-responses")).json["items"]]
    assert titles == ["Welcome"]

    await page.get_by_role("button", name="Log out").click()
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/desk/canned")
    await page.get_by_role("button", name="Edit Welcome").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Title").fill("Welcome!")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(page.locator("tr[data-canned='Welcome!']")).to_contain_text("Shared")


async def test_technician_cannot_reach_the_admin_pages(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """The catalog and category pages say not allowed to a technician, whose API calls are refused."""  # noqa: E501
    await log_in(page, "tina", PASSWORD)
    links = nav(page)
    await expect(links.get_by_role("link", name="Service catalog")).to_have_count(0)
    await expect(links.get_by_role("link", name="Categories")).to_have_count(0)
    for route in ("#/admin/catalog", "#/admin/categories"):
        await page.goto(f"/{route}")
        await expect(page.locator("#page-title")).to_have_text("Not allowed")
    assert (await technician.post("/api/v1/catalog", json={"name": "X"})).status == 403
    assert (await technician.post("/api/v1/categories", json={"name": "X"})).status == 403
    hw = (await admin.post("/api/v1/kb/categories", json={"name": "VPN"})).json
    assert (await technician.patch(f"/api/v1/kb/categories/{hw['id']}",
                                   json={"name": "X"})).status == 403


async def test_admin_pages_fit_a_phone(server: RunningServer, admin: Client, browser: Any) -> None:
    """The three pages and the request-type dialog have no sideways scrolling at 390x844."""
    hw = (await admin.post("/api/v1/categories", json={"name": "Hardware"})).json
    await admin.post("/api/v1/categories", json={"name": "Laptops with a long name",
                                                 "parent_id": hw["id"]})
    await admin.post("/api/v1/catalog", json={"name": "New laptop", "fields": [
        {"name": "model", "label": "Model", "type": "select", "options": ["A", "B"]}]})
    await admin.post("/api/v1/canned-responses", json={"title": "Hello", "body": "Hi " * 80})
    async with open_page(browser, server.base_url) as page:
        await page.set_viewport_size(PHONE)
        await log_in(page, "admin", ADMIN_PASSWORD)
        for route, marker in (("#/admin/catalog", "tr[data-item]"),
                              ("#/admin/categories", ".category-row"),
                              ("#/desk/canned", "tr[data-canned]")):
            await page.goto(f"/{route}")
            await expect(page.locator(marker).first).to_be_visible()
            await content_fits(page)
        await page.goto("/#/admin/catalog")
        await page.get_by_role("button", name="Edit New laptop").click()
        await expect(page.get_by_role("dialog").locator(".form-field")).to_have_count(1)
        await content_fits(page)
        fits = await page.get_by_role("dialog").evaluate("d => d.scrollWidth <= d.clientWidth")
        assert fits


async def test_admin_pages_speak_indonesian(server: RunningServer, admin: Client,
                                            browser: Any) -> None:
    """With an Indonesian browser the three pages show their Indonesian texts, not the English ones."""  # noqa: E501
    english = ENGLISH
    await admin.post("/api/v1/catalog", json={"name": "Laptop"})
    await admin.post("/api/v1/categories", json={"name": "Perangkat"})
    context = await browser.new_context(ignore_https_errors=True, base_url=server.base_url,
                                        locale="id-ID")
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_label(re.compile("nama pengguna|user name", re.I)).fill("admin")
        await page.get_by_label(re.compile("kata sandi|password", re.I)).fill(ADMIN_PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.locator(".user-box")).to_be_visible()
        for route, text in (("#/admin/catalog", "Jenis permintaan baru"),
                            ("#/admin/categories", "Kategori tiket"),
                            ("#/desk/canned", "Balasan siap pakai baru")):
            await page.goto(f"/{route}")
            await expect(page.locator("main")).to_contain_text(text)
            shown = await page.locator("main").inner_text()
            leaked = [english[k] for k in english
                      if k.split(".")[0] in ("catalog", "categories", "canned")
                      and len(english[k]) > 8 and "{" not in english[k] and english[k] in shown]
            assert leaked == [], route
    finally:
        await context.close()
