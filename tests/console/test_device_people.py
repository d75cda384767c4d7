"""Devices bound to people in the console (issue 15, item 5): a technician binds a login
seen on a device by picking a person by name; the requester finds the device under My
devices on a phone and raises a ticket about it; the desk sees their devices on it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from shared import protocol as p
from tests.console.test_console import log_in
from tests.support.agents import enroll_device, raw_agent
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


async def test_bind_a_login_then_the_requester_raises_a_ticket_about_their_device(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        browser: Any, page: Any, tmp_path: Path) -> None:
    """Bind… on the device page binds the login to the person picked by name (audited in
    its history); Rick's phone shows My devices and files a ticket about it, and the
    ticket page shows the desk Rick's devices."""
    await admin.patch(f"/api/v1/users/{requester.user['id']}",
                      json={"display_name": "Rick Olsen"})
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    async with raw_agent(server, state) as (ws, _):
        await ws.send(p.encode(p.TicketRequest(id="t1", title="Slow", requester_login="r.olsen")))
        while not isinstance(p.decode_server_message(await asyncio.wait_for(ws.recv(), 10)),
                             p.TicketCreated):
            pass

    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/devices/{device['id']}")
    logins = page.locator(".panel-logins")
    row = logins.locator("tr[data-login='r.olsen']")
    await expect(row).to_contain_text("Unknown user (not bound)")
    await row.get_by_role("button", name="Bind login r.olsen").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Person").fill("Rick")
    await expect(dialog.locator("datalist option")).to_have_count(1)
    await dialog.get_by_label("Person").fill("Rick Olsen (rick)")
    await dialog.get_by_role("button", name="Bind", exact=True).click()
    await expect(row).to_contain_text("Rick Olsen")
    await expect(row).to_contain_text("confirmed")
    await logins.get_by_text("Binding history").click()
    await expect(logins.get_by_role("list", name="Binding history")).to_contain_text(
        "r.olsen bound to Rick Olsen by Tina")

    async with open_page(browser, server.base_url, viewport=PHONE) as phone:
        await log_in(phone, "rick", PASSWORD)
        mine = phone.locator(".panel-my-devices")
        await expect(mine).to_contain_text(device["hostname"])
        await mine.get_by_role("link", name=f"Raise a ticket about {device['hostname']}").click()
        await expect(phone.locator(".about-device")).to_contain_text(device["hostname"])
        await phone.get_by_label("Title").fill("Battery drains overnight")
        await phone.get_by_role("button", name="Submit").click()
        await expect(phone).to_have_url(re.compile(r"#/portal/tickets/\d+$"))
        wide = await phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"]
    tickets = (await requester.get("/api/v1/tickets")).json["items"]
    filed = next(tk for tk in tickets if tk["title"] == "Battery drains overnight")
    assert filed["device_ids"] == [device["id"]]

    await page.goto(f"/#/desk/tickets/{filed['id']}")
    theirs = page.locator(".panel-requester-devices")
    await expect(theirs.get_by_role("link", name=device["hostname"])).to_have_attribute(
        "href", f"#/devices/{device['id']}")
    await expect(theirs).to_contain_text("login r.olsen")
