"""A desk set up from an empty install through the console alone, then used by its people.

Issue 14's first acceptance point: an admin creates the users, a round-robin group, a
category tree, a catalog request type with two fields and an approver, and an SLA policy
with an escalation rule, all on the admin pages; a requester files that request on a phone;
the approver approves it; a technician works the queue with the desk's bulk actions. Nothing
is set up through the API; the assertions read what the pages show.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_catalog_admin import PHONE, no_sideways_scroll
from tests.console.test_console import log_in, nav
from tests.console.test_tickets import queue_rows
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, RunningServer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PEOPLE = [("tina", "Tina Tech", "technician"), ("otto", "Otto Tech", "technician"),
          ("rick", "Rick Requester", "requester")]
PASSWORDS = {username: f"{username}-password-1" for username, _, _ in PEOPLE}


async def _create_users(page: Any) -> None:
    """Create the desk's people on Admin → Users, each with an initial password."""
    await nav(page).get_by_role("link", name="Users").click()
    for username, display_name, role in PEOPLE:
        await page.get_by_role("button", name="New user").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("User name").fill(username)
        await dialog.get_by_label("Display name").fill(display_name)
        await dialog.get_by_label("Role").select_option(role)
        await dialog.get_by_label("Initial password").fill(PASSWORDS[username])
        await dialog.get_by_role("button", name="Create user").click()
        await expect(dialog).to_have_count(0)
        await expect(page.get_by_role("status")).to_contain_text(f"User {username} created.")
        await expect(page.locator(f"tr[data-user='{username}']")).to_contain_text(display_name)


async def _create_group(page: Any) -> None:
    """Create a round-robin group with both technicians on Admin → Groups."""
    await nav(page).get_by_role("link", name="Groups").click()
    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name").fill("Service desk")
    await dialog.get_by_label("Automatic assignment").select_option(label="Members in turn")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(page.get_by_role("list", name="Groups")).to_contain_text("Service desk")
    picker = page.get_by_label("Person to add")
    await expect(picker.locator("option", has_text="Rick Requester")).to_have_count(0)
    for label in ("Tina Tech (Technician)", "Otto Tech (Technician)"):
        await picker.select_option(label=label)
        await page.get_by_role("button", name="Add member").click()
        await expect(page.get_by_role("table", name="Members")).to_contain_text(
            label.removesuffix(" (Technician)"))
    form = page.get_by_role("form", name="Edit group")
    await expect(form.get_by_label("Automatic assignment")).to_have_value("round_robin")


async def _create_categories(page: Any) -> None:
    """Create a parent and a child ticket category on Admin → Categories."""
    await nav(page).get_by_role("link", name="Categories").click()
    box = page.locator("section.panel", has=page.get_by_role("heading", name="Ticket categories"))
    for name, button in (("Hardware", re.compile("^New .*categor")),
                         ("Laptops", "Add under Hardware")):
        await box.get_by_role("button", name=button).click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Name").fill(name)
        await dialog.get_by_role("button", name="Create category").click()
        await expect(dialog).to_have_count(0)
        await expect(box.locator(".category-row", has_text=name).first).to_be_visible()


async def _create_request_type(page: Any) -> None:
    """Create a two-field request type, routed to the group and approved by Tina, on Admin → Service catalog."""  # noqa: E501
    await nav(page).get_by_role("link", name="Service catalog").click()
    await page.get_by_role("button", name="New request type").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name", exact=True).fill("New laptop")
    await dialog.get_by_label("Description").fill("A laptop for work.")
    await dialog.get_by_label("Handled by group").select_option(label="Service desk")
    await dialog.get_by_label("Category of its tickets").select_option(
        label="Hardware \u203a Laptops")
    await dialog.get_by_label("Approval").select_option("approver")
    await dialog.get_by_label("Approver").fill("Tina Tech (tina)")
    await dialog.get_by_role("button", name="Add a field").click()
    model = dialog.locator(".form-field").nth(0)
    await model.get_by_label("Label").fill("Model")
    await model.get_by_label("Type").select_option("select")
    await model.get_by_label("Required").check()
    await model.get_by_label("Choices").fill("13-inch\n15-inch")
    await dialog.get_by_role("button", name="Add a field").click()
    reason = dialog.locator(".form-field").nth(1)
    await reason.get_by_label("Label").fill("Reason")
    await reason.get_by_label("Type").select_option("text")
    await dialog.get_by_role("button", name="Create request type").click()
    await expect(dialog).to_have_count(0)
    row = page.locator("tr[data-item='New laptop']")
    await expect(row).to_contain_text("Service desk")
    await expect(row).to_contain_text("Approved by Tina Tech")


async def _create_sla_policy(page: Any) -> None:
    """Create a policy for service requests whose resolution breach reassigns to the group, on Admin → SLA."""  # noqa: E501
    await nav(page).get_by_role("link", name="SLA").click()
    await expect(page.get_by_role("table", name="Business calendars").locator("tbody tr")
                 ).to_have_count(1)
    await page.get_by_role("button", name="New policy").click()
    form = page.get_by_role("form", name="New policy")
    await form.get_by_label("Name").fill("Laptop requests")
    await form.get_by_label("Calendar").select_option(label="24x7")
    first_response = form.get_by_role("group", name="First response")
    await first_response.get_by_label("min", exact=True).fill("30")
    await form.get_by_role("group", name="Resolution").get_by_label("h", exact=True).fill("8")
    await form.get_by_role("group", name="Kinds (none: any)").get_by_label(
        "Service request").check()
    await form.get_by_role("button", name="Add a rule").click()
    rule = form.get_by_role("group", name="Rule 1")
    await rule.get_by_label("When").select_option(label="On breach")
    await rule.get_by_label("Clock").select_option(label="Resolution")
    await rule.get_by_label("Then").select_option(label="Reassign to a group")
    await rule.get_by_label("Group").select_option(label="Service desk")
    await form.get_by_role("button", name="Create policy").click()
    await expect(page.get_by_role("table", name="SLA policies")).to_contain_text(
        "On breach (Resolution) \u2192 reassign to Service desk")


async def _file_requests_on_a_phone(browser: Any, base_url: str) -> None:
    """As Rick on a phone, file the catalog request and two ordinary tickets in the portal."""
    async with open_page(browser, base_url, viewport=PHONE) as phone:
        await log_in(phone, "rick", PASSWORDS["rick"])
        await phone.goto("/#/portal/new")
        await phone.get_by_text("I need something").click()
        await phone.get_by_label("Request type").select_option(label="New laptop")
        await expect(phone.locator(".catalog-form")).to_contain_text("A laptop for work.")
        await phone.get_by_label("Model").select_option("15-inch")
        await phone.get_by_label("Reason (optional)").fill("The old one's hinge broke")
        await no_sideways_scroll(phone)
        await phone.get_by_role("button", name="Submit ticket").click()
        await expect(phone).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
        body = phone.locator("main")
        await expect(body).to_contain_text("New laptop")
        await expect(body).to_contain_text("15-inch")
        await expect(body).to_contain_text("The old one's hinge broke")
        await expect(phone.locator(".approval-requested").first).to_contain_text("Tina Tech")
        await no_sideways_scroll(phone)

        for title in ("Docking station flickers", "Charger missing"):
            await phone.goto("/#/portal/new")
            await phone.get_by_label("Title").fill(title)
            await phone.get_by_label("Category").select_option(label="Hardware \u203a Laptops")
            await phone.get_by_role("button", name="Submit ticket").click()
            await expect(phone).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
            await expect(phone.locator("main")).to_contain_text(title)
        await phone.goto("/#/portal")
        for title in ("New laptop", "Docking station flickers", "Charger missing"):
            await expect(phone.locator("main")).to_contain_text(title)


async def _approve(browser: Any, base_url: str) -> None:
    """As Tina, the approver, open the request from the desk and approve it."""
    async with open_page(browser, base_url, viewport=DESKTOP) as page:
        await log_in(page, "tina", PASSWORDS["tina"])
        await page.get_by_role("tab", name="All open").click()
        request = queue_rows(page).filter(has_text="New laptop")
        # Work starts after approval: nobody is assigned yet.
        await expect(queue_rows(page).filter(has_text="Unassigned")).to_have_count(3)
        await request.get_by_role("link", name="New laptop").click()
        await expect(page).to_have_url(re.compile(r"#/desk/tickets/\d+$"))
        await expect(page.get_by_label("Category", exact=True).locator("option:checked")
                     ).to_contain_text("Laptops")
        await expect(page.locator("main")).to_contain_text("The old one's hinge broke")
        # The policy made on the SLA page runs this request's clocks.
        await expect(page.locator(".panel-sla")).to_contain_text("Laptop requests")
        await page.get_by_role("button", name="Approve\u2026").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_role("button", name="Approve", exact=True).click()
        await expect(dialog).to_have_count(0)
        await expect(page.locator("[data-approval='approved']").first).to_contain_text("Approved")
        # Approved, it goes to a member of the group in turn.
        await expect(page.get_by_label("Assignee").locator("option:checked")).to_have_text(
            re.compile(r"(Tina|Otto) Tech"))


async def _work_in_bulk(browser: Any, base_url: str) -> None:
    """As Otto, tick the three tickets and assign them to himself, start them and tag them."""
    async with open_page(browser, base_url, viewport=DESKTOP) as page:
        await log_in(page, "otto", PASSWORDS["otto"])
        await page.get_by_role("tab", name="All open").click()
        rows = queue_rows(page)
        await expect(rows).to_have_count(3)
        for title in ("New laptop", "Docking station flickers", "Charger missing"):
            await rows.filter(has_text=title).get_by_role("checkbox").check()
        bar = page.get_by_role("region", name="Selected tickets")
        await expect(bar).to_contain_text("3 selected")
        dialog = page.get_by_role("dialog")

        await bar.get_by_role("button", name="Assign").click()
        await dialog.get_by_label("Technician").select_option(label="Otto Tech (me)")
        await dialog.get_by_role("button", name="Apply").click()
        await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")

        await bar.get_by_role("button", name="Change status").click()
        await dialog.get_by_label("New status").select_option("in_progress")
        await dialog.get_by_role("button", name="Apply").click()
        await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")

        await bar.get_by_role("button", name="Add tag").click()
        await dialog.get_by_role("textbox", name="Tag").fill("laptops")
        await dialog.get_by_role("button", name="Apply").click()
        await expect(page.get_by_role("status")).to_contain_text("3 tickets changed.")

        await expect(rows.locator(".chip", has_text="laptops")).to_have_count(3)
        for index in range(3):
            await expect(rows.nth(index)).to_contain_text("Otto Tech")
            await expect(rows.nth(index)).to_contain_text("In progress")
        # They are now Otto's own open work.
        await page.get_by_role("tab", name="My open").click()
        await expect(rows).to_have_count(3)


@pytest.mark.timeout(300)
async def test_desk_set_up_in_the_console_alone_takes_a_phone_request_and_bulk_work(
        server: RunningServer, browser: Any) -> None:
    """From an empty install an admin sets up the whole desk in the console; a requester files the catalog request on a phone, the approver approves it and a technician works the tickets in bulk."""  # noqa: E501
    async with open_page(browser, server.base_url, viewport=DESKTOP) as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        await _create_users(page)
        await _create_group(page)
        await _create_categories(page)
        await _create_request_type(page)
        await _create_sla_policy(page)
    await _file_requests_on_a_phone(browser, server.base_url)
    await _approve(browser, server.base_url)
    await _work_in_bulk(browser, server.base_url)
