"""The language select of the Account page, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_account_page_switches_the_users_language(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A requester picks Bahasa Indonesia: the server stores it and the console speaks it;
    going back to the browser's language stores none."""
    made = await admin.post("/api/v1/users", json={
        "username": "rina", "display_name": "Rina", "role": "requester", "password": PASSWORD})
    assert made.status == 201, made.body
    await log_in(page, "rina", PASSWORD)
    await page.goto("/#/account")
    select = page.get_by_role("combobox", name="Language", exact=True)
    await expect(select).to_be_enabled()
    await expect(select).to_have_value("")
    await select.select_option("id")
    # the page, rebuilt in Indonesian
    chosen = page.get_by_role("combobox", name="Bahasa", exact=True)
    await expect(chosen).to_have_value("id")
    await expect(page.locator("html")).to_have_attribute("lang", "id")
    user = await admin.get(f"/api/v1/users/{made.json['id']}")
    assert user.json["language"] == "id"
    await chosen.select_option("")
    await expect(page.get_by_role("combobox", name="Language", exact=True)).to_have_value("")
    assert (await admin.get(f"/api/v1/users/{made.json['id']}")).json["language"] is None
