"""Starting a session from the device page, and the group consent policy, in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.remote import ui
from server.db.schema import devices
from server.keys import REMOTE
from shared import protocol as p
from tests.console.test_console import log_in, nav
from tests.console.test_remote import READ_BARS, agent_on, close_to
from tests.support.browser import open_page
from tests.support.remote import enrolled, next_message, remote_agent, ticket_with_device
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import BAR, PATTERN, pattern_app, press_in_window

pytestmark = [pytest.mark.browser]

VIEWER_URL = re.compile(r"#/desk/remote/(\d+)$")


def ticket_choice(dialog: Any, number: str) -> Any:
    return dialog.locator(f"label.choice[data-ticket='{number}']")


@pytest.mark.x11
@pytest.mark.timeout(150)
@pytest.mark.screenshots
async def test_session_from_the_device_page_on_a_chosen_ticket(
        server: RunningServer, admin: Client, technician: Client, browser: Any,
        x_display: str, tmp_path: Path,
        screenshots: Path) -> None:
    """The device dialog lists its open tickets; starting on one opens the viewer after consent."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    field = await admin.post("/api/v1/groups", json={"name": "Field"})
    theirs = await ticket_with_device(admin, device.id, group_id=field.json["id"])
    done = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    assert (await admin.patch(f"/api/v1/tickets/{done['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "resolution_note": "ok"})).status == 200
    await admin.post("/api/v1/tickets", json={"title": "Elsewhere",
                                              "assignee_id": technician.user["id"]})
    async with pattern_app(x_display) as app, agent_on(device, x_display), \
            open_page(browser, server.base_url) as page:
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/devices/{device.id}")
        await page.locator("[data-action=device-remote]").click()
        dialog = page.get_by_role("dialog", name="Remote session on")
        # Open tickets linked to the device: the technician's own, and one they may not use.
        mine = ticket_choice(dialog, ticket["number"])
        await expect(mine).to_contain_text(ticket["title"])
        await expect(mine.get_by_role("radio")).to_be_checked()
        not_mine = ticket_choice(dialog, theirs["number"])
        await expect(not_mine.get_by_role("radio")).to_be_disabled()
        await expect(not_mine).to_contain_text("group Field, unassigned")
        await expect(not_mine).to_contain_text("Only its assignee, members of its group")
        # Resolved and unlinked tickets are not offered; a new ticket always is.
        await expect(dialog.locator("label.choice")).to_have_count(3)
        await expect(ticket_choice(dialog, "new")).to_contain_text("A new ticket for this device")
        await expect(dialog.get_by_label("Title of the new ticket")).to_be_hidden()
        await dialog.get_by_label("Reason (the user sees it)").fill("Printer settings")
        await dialog.get_by_label("Mode").select_option("control")
        await page.screenshot(path=str(screenshots / "remote-device-start.png"))  # docs/remote.md
        await dialog.get_by_role("button", name="Start").click()
        await expect(page).to_have_url(VIEWER_URL)
        match = VIEWER_URL.search(page.url)
        assert match is not None
        session_id = int(match.group(1))
        await expect(page.locator(".remote-state")).to_have_attribute("data-state", "requested")
        # The user allows it on their screen; the viewer shows the screen.
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await expect(page.locator(".remote-state")).to_have_attribute("data-state", "active")
        spot = [app.canvas[0], app.canvas[1], BAR[0], BAR[1]]

        async def pattern_shown() -> bool:
            try:
                return close_to(await page.evaluate(READ_BARS, spot), PATTERN)
            except Exception:  # the canvas is not the screen's size before the first frame
                return False

        await eventually(pattern_shown, within=20)
        got = await technician.get(f"/api/v1/remote-sessions/{session_id}")
        assert (got.json["ticket_id"], got.json["device_id"], got.json["mode"],
                got.json["reason"]) == (ticket["id"], device.id, "control", "Printer settings")
        await page.get_by_role("button", name="End session").click()
        await expect(page.locator(".remote-banner")).to_contain_text(
            "Session ended by a technician")
    # The session is on the chosen ticket's timeline, not on the other one's.
    other = await admin.get(f"/api/v1/tickets/{theirs['id']}/remote-sessions")
    assert other.json["items"] == []


async def test_device_without_open_ticket_creates_one_for_its_user(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        page: Any, tmp_path: Path) -> None:
    """With no open ticket, the dialog says so and creates one for the logged-in user's
    bound person."""
    device = await enrolled(server, admin, tmp_path / "a")
    plain = await enrolled(server, admin, tmp_path / "b")
    await server.db.write(lambda c: c.execute(devices.update().where(
        devices.c.id == device.id).values(logged_in_users="rick")))
    bound = await admin.put(f"/api/v1/devices/{device.id}/bindings/rick",
                            json={"user_id": requester.user["id"]})
    assert bound.status == 200, bound.body
    async with remote_agent(server, device) as ws, \
            remote_agent(server, plain, capabilities=("inventory",)):
        await log_in(page, "tina", PASSWORD)
        # An agent that does not offer remote sessions: the action is there but disabled.
        await page.goto(f"/#/devices/{plain.id}")
        await expect(page.locator("[data-action=device-remote]")).to_be_disabled()
        await page.goto(f"/#/devices/{device.id}")
        await page.locator("[data-action=device-remote]").click()
        dialog = page.get_by_role("dialog", name="Remote session on")
        await expect(dialog).to_contain_text("No open ticket is linked to")
        new = ticket_choice(dialog, "new")
        await expect(new.get_by_role("radio")).to_be_checked()
        await expect(new).to_contain_text("Requested by Rick (login \u2018rick\u2019 on")
        title = dialog.get_by_label("Title of the new ticket")
        await title.fill("Outlook keeps asking for the password")
        await dialog.get_by_label("Reason (the user sees it)").fill("Check the mail profile")
        await dialog.get_by_role("button", name="Start").click()
        await expect(page).to_have_url(VIEWER_URL)
        request = await next_message(ws, p.SessionRequest)
        assert request.technician == "Tina" and request.reason == "Check the mail profile"
        session = (await technician.get(f"/api/v1/remote-sessions/{request.session}")).json
        assert (session["device_id"], session["mode"]) == (device.id, "view")
        ticket = (await technician.get(f"/api/v1/tickets/{session['ticket_id']}")).json
        assert ticket["title"] == "Outlook keeps asking for the password"
        assert ticket["device_ids"] == [device.id]
        assert ticket["requester"]["id"] == requester.user["id"]
        assert ticket["assignee"]["id"] == technician.user["id"]
        assert request.ticket == ticket["number"]
        live = server.app[REMOTE].by_id[request.session]
        await eventually(lambda: len(live.viewers) == 1, within=10)  # the viewer is connected
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=False,
                                               reason="denied")))
        await expect(page.locator(".remote-banner")).to_contain_text("refused")
    # The requester sees their new ticket in the portal list.
    mine = await requester.get("/api/v1/tickets")
    assert [t["id"] for t in mine.json["items"]] == [ticket["id"]]


async def test_a_reported_login_is_never_taken_for_staff_or_a_look_alike(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        page: Any, tmp_path: Path) -> None:
    """Logins the device reports that name staff or differ in case bind to nobody: the
    new ticket is the technician's own, and nobody named by the device gets it."""
    device = await enrolled(server, admin, tmp_path / "a")
    await server.db.write(lambda c: c.execute(devices.update().where(
        devices.c.id == device.id).values(logged_in_users="admin,tina,Rick")))
    async with remote_agent(server, device):
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/devices/{device.id}")
        await page.locator("[data-action=device-remote]").click()
        dialog = page.get_by_role("dialog", name="Remote session on")
        new = ticket_choice(dialog, "new")
        await expect(new).to_contain_text("Requested by you (no login reported on")
        await expect(new).not_to_contain_text("Administrator")


@pytest.mark.screenshots
async def test_admin_allows_unattended_access_for_a_group(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path,
        screenshots: Path) -> None:
    """The group page's policy asks for confirmation, then the API says unattended."""
    group = await admin.post("/api/v1/groups", json={"name": "Kiosks",
                                                     "description": "Lobby and canteen screens"})
    gid = group.json["id"]
    device = await enrolled(server, admin, tmp_path / "a")
    await admin.patch(f"/api/v1/devices/{device.id}", json={"group_id": gid})
    policy_url = f"/api/v1/groups/{gid}/remote-policy"
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto(f"/#/admin/groups/{gid}")
    box = page.locator(".panel-remote-policy")
    await expect(box).to_contain_text("Applies to the 1 device in this group")
    await expect(box.locator("[data-policy-state]")).to_have_text("Asks the user")
    consent = box.get_by_role("radio", name="Ask the user for consent (default)")
    unattended = box.get_by_role("radio", name="Allow unattended access")
    save = box.get_by_role("button", name="Save policy")
    await expect(consent).to_be_checked()
    await expect(save).to_be_disabled()
    warning = box.locator(".policy-warning")
    await expect(warning).to_be_hidden()
    await unattended.check()
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("Nobody is asked.")
    await page.set_viewport_size({"width": 1280, "height": 1260})  # the whole group page
    await page.screenshot(path=str(screenshots / "remote-policy.png"))  # for docs/remote.md
    await page.set_viewport_size({"width": 1280, "height": 800})
    # Cancelling the confirmation stores nothing.
    await save.click()
    confirm = page.get_by_role("dialog", name="Allow unattended access")
    await expect(confirm).to_contain_text('devices of "Kiosks"')
    await confirm.get_by_role("button", name="Cancel").click()
    assert (await admin.get(policy_url)).json["unattended"] is False
    await save.click()
    await confirm.get_by_role("button", name="Allow unattended access").click()
    await expect(page.locator(".notice-success")).to_contain_text("now start without asking")
    await expect(box.locator("[data-policy-state]")).to_have_text("Unattended access")
    assert (await admin.get(policy_url)).json == {"group_id": gid, "unattended": True,
                                                  "record": False}
    # Going back to asking needs no confirmation; recording is its own choice.
    await consent.check()
    await box.get_by_role("checkbox", name="Record sessions").check()
    await save.click()
    await expect(page.locator(".notice-success")).to_contain_text(
        "now ask the user first and are recorded")
    assert (await admin.get(policy_url)).json == {"group_id": gid, "unattended": False,
                                                  "record": True}


async def test_technician_sees_no_policy_control(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """Technicians have no Groups page, so no consent-policy control either."""
    group = await admin.post("/api/v1/groups", json={"name": "Kiosks"})
    await log_in(page, "tina", PASSWORD)
    await expect(nav(page).get_by_role("link", name="Groups")).to_have_count(0)
    await page.goto(f"/#/admin/groups/{group.json['id']}")
    await expect(page.locator("[data-view=not-allowed]")).to_be_visible()
    await expect(page.locator(".panel-remote-policy")).to_have_count(0)
    await expect(page.get_by_role("radio", name="Allow unattended access")).to_have_count(0)


async def test_new_ticket_is_kept_when_the_session_cannot_start(
        server: RunningServer, admin: Client, technician: Client, page: Any,
        tmp_path: Path) -> None:
    """A created ticket whose session is refused is listed, chosen, and not created twice."""
    device = await enrolled(server, admin, tmp_path / "a")
    busy = await ticket_with_device(admin, device.id)  # the admin's, not the technician's
    async with remote_agent(server, device):
        held = await admin.post(f"/api/v1/tickets/{busy['id']}/remote-sessions",
                                json={"reason": "already looking"})
        assert held.status == 201, held.body
        await log_in(page, "tina", PASSWORD)
        await page.goto(f"/#/devices/{device.id}")
        await page.locator("[data-action=device-remote]").click()
        dialog = page.get_by_role("dialog", name="Remote session on")
        await expect(ticket_choice(dialog, busy["number"]).get_by_role("radio")).to_be_disabled()
        await expect(ticket_choice(dialog, "new").get_by_role("radio")).to_be_checked()
        await dialog.get_by_label("Reason (the user sees it)").fill("Slow start menu")
        await dialog.get_by_role("button", name="Start").click()
        await expect(dialog.locator(".notice-error")).to_contain_text(
            "was created, but the session did not start: a remote session is already running")
        listed = await technician.get(f"/api/v1/tickets?device_id={device.id}")
        assert len(listed.json["items"]) == 2
        new = listed.json["items"][0]
        assert new["assignee"]["id"] == technician.user["id"]
        assert new["requester"]["id"] == technician.user["id"]  # nobody logged in there
        mine = ticket_choice(dialog, new["number"])
        await expect(mine.get_by_role("radio")).to_be_checked()
        await expect(dialog.get_by_label("Reason (the user sees it)")).to_have_value(
            "Slow start menu")
        # A retry starts on that ticket (and is refused the same way), creating nothing.
        await dialog.get_by_role("button", name="Start").click()
        await expect(dialog.locator(".notice-error")).not_to_contain_text("was created")
        await expect(dialog.locator(".notice-error")).to_contain_text("already running")
        again = await technician.get(f"/api/v1/tickets?device_id={device.id}")
        assert len(again.json["items"]) == 2


async def test_ticket_page_offers_no_start_without_remote_support(
        server: RunningServer, admin: Client, technician: Client, page: Any,
        tmp_path: Path) -> None:
    """An online device whose agent does not offer remote sessions gets no start button
    on the ticket page, but a hint saying why; one that offers them enables it. A ticket
    the technician has no rights on says who may open its sessions instead."""
    device = await enrolled(server, admin, tmp_path / "a")
    others = await ticket_with_device(technician, device.id)
    ticket = await ticket_with_device(technician, device.id,
                                      assignee_id=technician.user["id"])
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/desk/tickets/{others['id']}")
    await expect(page.locator("[data-remote=no-rights]")).to_contain_text(
        "Only the ticket's assignee, members of its group and admins")
    start = page.locator("[data-action=start-remote]")
    await expect(start).to_have_count(0)
    async with remote_agent(server, device, capabilities=("inventory",)):
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        await expect(page.get_by_text("does not offer remote sessions")).to_be_visible()
        await expect(start).to_be_disabled()
    async with remote_agent(server, device):
        await page.reload()
        await expect(start).to_be_enabled()
