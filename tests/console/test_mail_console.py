"""The e-mail notification switch on the Account page, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.server import PASSWORD, Client, RunningServer

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
