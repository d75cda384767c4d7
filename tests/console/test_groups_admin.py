"""Admin → Groups: members picked by name (staff only), a manager, auto-assignment that
then assigns new tickets, and errors shown next to the field."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_group_set_up_in_the_console_auto_assigns_new_tickets(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """An admin creates a round-robin group, adds two technicians and a manager by name; new tickets for it go to the members in turn."""  # noqa: E501
    otto = await server.create_user(admin, "otto", "technician")
    await server.create_user(admin, "rick", "requester")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/groups")
    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name").fill("Network team")
    await dialog.get_by_label("Automatic assignment").select_option(label="Members in turn")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(page.get_by_role("list", name="Groups")).to_contain_text("Network team")
    picker = page.get_by_label("Person to add")
    # Requesters are not offered: members are the desk's staff.
    await expect(picker.locator("option", has_text="Rick")).to_have_count(0)
    for label in ("Tina (Technician)", "Otto (Technician)"):
        await picker.select_option(label=label)
        await page.get_by_role("button", name="Add member").click()
        await expect(page.get_by_role("table", name="Members")).to_contain_text(label.split()[0])
    form = page.get_by_role("form", name="Edit group")
    await form.get_by_label("Manager").select_option(label="Otto (Technician)")
    await form.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text('Group "Network team" saved')
    (group,) = (await admin.get("/api/v1/groups")).json["items"]
    assert (group["auto_assign"], group["manager_id"]) == ("round_robin", otto["id"])
    assert sorted(group["member_ids"]) == sorted([technician.user["id"], otto["id"]])

    first = await new_ticket(admin, title="Switch down", group_id=group["id"])
    second = await new_ticket(admin, title="Wi-Fi slow", group_id=group["id"])
    assert {first["assignee"]["id"], second["assignee"]["id"]} == {
        technician.user["id"], otto["id"]}


async def test_bad_group_input_is_shown_by_the_field(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A blank or taken name and an empty member choice get messages next to the field; nothing changes."""  # noqa: E501
    await admin.post("/api/v1/groups", json={"name": "Desk"})
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/groups")
    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(dialog.locator("[data-field='name'] .field-error")).to_have_text(
        "Enter a name for the group.")
    await expect(dialog.get_by_label("Name")).to_be_focused()
    await dialog.get_by_label("Name").fill("DESK")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(dialog.locator("[data-field='name'] .field-error")).to_contain_text("is taken")
    await dialog.get_by_role("button", name="Cancel").click()
    assert [g["name"] for g in (await admin.get("/api/v1/groups")).json["items"]] == ["Desk"]
    await page.get_by_role("list", name="Groups").get_by_role("link", name="Desk").click()
    await page.get_by_role("button", name="Add member").click()
    await expect(page.locator("[data-field='user_id'] .field-error")).to_have_text(
        "Choose the person to add.")


async def test_technician_cannot_change_groups(technician: Client) -> None:
    """A technician may read groups but not create, change or fill them."""
    group_id = 1
    assert (await technician.post("/api/v1/groups", json={"name": "X"})).status == 403
    assert (await technician.patch(f"/api/v1/groups/{group_id}",
                                   json={"auto_assign": "round_robin"})).status == 403
    assert (await technician.get("/api/v1/groups")).status == 200
