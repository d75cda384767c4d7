"""The e-mail notification switch on the Account page, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_account_page_turns_email_notifications_off_and_on(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A requester unticks the e-mail box; the server records it; ticking turns it back on."""
    resp = await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick", "role": "requester", "password": PASSWORD,
        "email": "rick@example.test"})
    assert resp.status == 201, resp.body
    path = f"/api/v1/users/{resp.json['id']}/notifications"
    await log_in(page, "rick", PASSWORD)
    await page.goto("/#/account")
    box = page.get_by_label("Send me e-mail about my tickets")
    await expect(box).to_be_checked()
    await expect(page.get_by_text("This server sends no e-mail at present.")).to_be_visible()
    await box.uncheck()
    await expect(page.get_by_role("status")).to_contain_text("E-mail notifications are off.")
    assert (await admin.get(path)).json["email_notifications"] is False
    await box.check()
    await expect(page.get_by_role("status")).to_contain_text("E-mail notifications are on.")
    assert (await admin.get(path)).json["email_notifications"] is True


async def test_admin_turns_off_a_users_email_in_the_edit_dialog(
        server: RunningServer, admin: Client, page: Any) -> None:
    """The Users page's edit dialog shows and changes the user's e-mail preference."""
    created = await server.create_user(admin, "rick", "requester")
    path = f"/api/v1/users/{created['id']}/notifications"
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/users")
    await page.get_by_role("button", name="Edit rick").click()
    dialog = page.get_by_role("dialog")
    box = dialog.get_by_label("E-mail notifications")
    await expect(box).to_be_enabled()
    await expect(box).to_be_checked()
    await box.uncheck()
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved changes to rick")
    assert (await admin.get(path)).json["email_notifications"] is False
    user = (await admin.get(f"/api/v1/users/{created['id']}")).json
    assert (user["display_name"], user["active"]) == ("Rick", True)  # nothing else changed
    await page.get_by_role("button", name="Edit rick").click()
    again = page.get_by_role("dialog").get_by_label("E-mail notifications")
    await expect(again).to_be_enabled()
    await expect(again).not_to_be_checked()
