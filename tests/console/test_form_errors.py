"""Bad input in a console form: a plain message by the field, the focus on it, nothing saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def expect_field_error(control: Any, message: str | re.Pattern[str]) -> None:
    """Check that ``control`` is marked invalid, focused, and described by ``message``."""
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_be_focused()
    await expect(control).to_have_accessible_description(message)


async def test_a_blank_display_name_is_said_next_to_the_field(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A cleared display name says "Display name is required." under the field; nothing is saved."""
    rick = await server.create_user(admin, "rick", "requester")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/users")
    await page.get_by_role("button", name="Edit rick").click()
    dialog = page.get_by_role("dialog", name="Edit rick")
    name = dialog.get_by_label("Display name")
    await name.fill("   ")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect_field_error(name, "Display name is required.")
    await expect(dialog.locator(".field-error")).to_have_count(1)
    await expect(dialog.get_by_role("alert")).to_have_count(0)  # nothing at the top
    await name.fill("Rick Olsen")
    await expect(name).not_to_have_attribute("aria-invalid", "true")  # gone once corrected
    await dialog.get_by_label("Email").fill("rick@")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect_field_error(dialog.get_by_label("Email"), re.compile("e-mail address like"))
    assert (await admin.get(f"/api/v1/users/{rick['id']}")).json["display_name"] == "Rick"


async def test_the_servers_field_error_lands_next_to_its_field(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A 422 naming its field (a rule the page does not check itself) is shown by that field."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/kb/new")
    form = page.get_by_role("form", name="New article")
    title = form.get_by_label("Title")
    await title.fill("   ")
    await title.evaluate("(el) => el.removeAttribute('required')")  # only the server knows now
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/kb/articles")) as answer:
        await form.get_by_role("button", name="Create").click()
    response = await answer.value
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "title"
    await expect_field_error(title, "Title is required.")
    assert (await admin.get("/api/v1/kb/articles")).json["items"] == []


async def test_every_form_says_what_is_wrong_beside_the_field(
        server: RunningServer, admin: Client, page: Any) -> None:
    """New ticket, reply, enrollment token and health check forms put their errors by the field."""
    await server.create_user(admin, "rick", "requester")
    rick = await server.login("rick")
    ticket = (await rick.post("/api/v1/tickets", json={"title": "Printer", "description": ""})).json
    await log_in(page, "rick", PASSWORD)
    await page.goto("/#/portal/new")
    form = page.get_by_role("form", name="New ticket")
    await form.get_by_role("button", name="Submit ticket").click()
    await expect_field_error(form.get_by_label("Title"), "Title is required.")
    await page.goto(f"/#/portal/tickets/{ticket['id']}")
    reply = page.get_by_role("form", name="Write a message")
    await reply.get_by_role("button", name="Send reply").click()
    await expect_field_error(reply.get_by_label("Message"), "Message is required.")
    assert len((await rick.get("/api/v1/tickets")).json["items"]) == 1
    events = (await rick.get(f"/api/v1/tickets/{ticket['id']}/events")).json["items"]
    assert not [e for e in events if e["type"] == "comment"]

    await page.get_by_role("button", name="Log out").click()
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/enrollment")
    await page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Expires in").fill("0")
    await dialog.get_by_role("button", name="Create token").click()
    await expect_field_error(dialog.get_by_label("Expires in"), "Expires in must be at least 1.")
    await dialog.get_by_label("Expires in").fill("400")
    await dialog.get_by_role("button", name="Create token").click()
    await expect_field_error(dialog.get_by_label("Expires in"),
                             "A token may last from one hour to one year.")
    await dialog.get_by_role("button", name="Cancel").click()
    assert (await admin.get("/api/v1/enrollment-tokens")).json["items"] == []

    await page.goto("/#/admin/health")
    await page.get_by_role("button", name="Add check").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Warning at (%)").fill("150")
    await dialog.get_by_role("button", name="Add check").click()
    await expect_field_error(dialog.get_by_label("Name"), "Name is required.")
    await expect(dialog.get_by_label("Warning at (%)")).to_have_accessible_description(
        "Warning at must be at most 100.")
    await expect(dialog.locator(".field-error")).to_have_count(2)
