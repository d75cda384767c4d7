"""A tray rating on the ticket timeline: the desk sees it, the requester's portal does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from server.db.schema import utcnow
from server.keys import DATABASE
from server.tickets.timeline import add_event
from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket, timeline
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer


async def test_rating_shows_on_the_desk_timeline_only(
        server: RunningServer, technician: Client, requester: Client, browser: Any,
        page: Any, tmp_path: Path) -> None:
    """The desk reads 'rated the service 4/5' and the comment; the requester sees neither."""
    ticket = await new_ticket(requester, title="Wi-Fi drops")
    me = ticket["requester"]["id"]
    await server.app[DATABASE].write(lambda c: add_event(
        c, ticket["id"], actor_id=me, type="rating", public=False, now=utcnow(),
        body="Fast, thank you", changes={"rating": {"score": 4, "scale": 5, "via": "tray"}}))
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{ticket['id']}")
    item = timeline(page).locator('[data-type="rating"]')
    await expect(item).to_contain_text("rated the service 4/5")
    await expect(item).to_contain_text("Fast, thank you")
    await item.screenshot(path=str(tmp_path / "rating.png"))
    async with open_page(browser, server.base_url) as portal:
        await log_in(portal, "rick", PASSWORD)
        await portal.goto(f"/#/portal/tickets/{ticket['id']}")
        await expect(timeline(portal)).to_contain_text("opened the ticket")
        await expect(timeline(portal)).not_to_contain_text("rated the service")
