"""The desk sees the device and OS login a ticket was raised for, as the device reported them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from shared import protocol as p
from tests.console.test_console import log_in
from tests.support.agents import enroll_device, raw_agent
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_the_desk_sees_the_reported_login_and_device_on_the_ticket(
        server: RunningServer, admin: Client, technician: Client, page: Any,
        tmp_path: Path) -> None:
    """A ticket a device raised for 'admin' is the unknown user's, and the ticket page and
    its timeline say which device reported which login."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device = (await admin.get("/api/v1/devices")).json["items"][0]
    async with raw_agent(server, state) as (ws, _):
        await ws.send(p.encode(p.TicketRequest(id="t1", title="Reset my password",
                                               requester_login="admin")))
        while not isinstance(created := p.decode_server_message(
                await asyncio.wait_for(ws.recv(), 10)), p.TicketCreated):
            pass
    said = f"reported by {device['hostname']} for login \u2018admin\u2019"
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{created.ticket_id}")
    await expect(page.locator(".ticket-meta")).to_contain_text(said)
    await expect(page.locator(".ticket-meta")).to_contain_text("Opened by Unknown user")
    facts = page.locator(".reported-login")
    await expect(facts).to_contain_text("admin on")
    await expect(facts.get_by_role("link", name=device["hostname"])).to_have_attribute(
        "href", f"#/devices/{device['id']}")
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(said)
