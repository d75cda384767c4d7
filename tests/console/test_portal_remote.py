"""The requester sees in the portal who looked at their screen, when, how and if recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.server.remote.test_recordings_api import (
    RECORDING_AGENT,
    recorded_group,
    run_recorded_session,
)
from tests.support.remote import enrolled, frame, remote_agent, wait_state
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def test_requester_sees_the_remote_sessions_on_their_ticket(
        server: RunningServer, admin: Client, requester: Client, page: Any,
        tmp_path: Path) -> None:
    """The portal's timeline names the technician, the mode and the recording of each session, without the desk's details."""  # noqa: E501
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await admin.post("/api/v1/tickets", json={
        "title": "Screen flickers", "device_ids": [device.id],
        "requester_id": requester.user["id"]})
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket.json["id"],
                                         [frame(1, key=True, size=300), frame(2)])
    await wait_state(admin, sid, "ended")

    await log_in(page, "rick", PASSWORD)
    await page.goto(f"/#/portal/tickets/{ticket.json['id']}")
    lines = page.get_by_role("list", name="Timeline").locator(".tl-remote-session")
    await expect(lines).to_have_count(3)
    requested = lines.nth(0)
    await expect(requested).to_contain_text("Administrator")
    await expect(requested).to_contain_text("Requested a remote session (view)")
    await expect(requested.locator(".chip-mode")).to_have_text("View only")
    await expect(requested.locator(".chip-recorded")).to_be_visible()
    await expect(lines.nth(1)).to_contain_text("The user allowed the remote session.")
    ended = lines.nth(2)
    await expect(ended).to_contain_text("Remote session ended by Administrator after")
    await expect(ended.locator(".chip-recorded")).to_be_visible()
    await expect(ended.locator("time")).to_be_visible()
    text = await page.locator("main").inner_text()
    for desk_only in ("frames", "MB", "input events", "Play the recording"):
        assert desk_only not in text, desk_only
    # On a phone the lines wrap inside the screen.
    await page.set_viewport_size({"width": 390, "height": 844})
    await ended.scroll_into_view_if_needed()
    box = await ended.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    await page.screenshot(path="/tmp/product/portal-remote-phone.png", full_page=True)
