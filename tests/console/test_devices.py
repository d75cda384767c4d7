"""Devices and enrollment in the console, in headless Chromium, with real agents on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from endpoint_agent.enroll import enroll
from endpoint_agent.errors import FatalConnectionError
from endpoint_agent.state import AgentState
from server.keys import HUB
from tests.console.test_console import log_in, nav
from tests.support.agents import RunningAgent, enroll_device, fake_inventory, start_agent
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

# The list polls every 10 s and the device page every 5 s; the tests move the page's
# clock on instead of waiting for them.
LIST_POLL_MS = 10_000
DEVICE_POLL_MS = 5_000


async def device_of(admin: Client, uid: str) -> dict[str, Any]:
    """Return the API's device with this uid (revoked ones too)."""
    for revoked in ("false", "true"):
        resp = await admin.get(f"/api/v1/devices?revoked={revoked}&limit=200")
        for item in resp.json["items"]:
            if item["uid"] == uid:
                return dict(item)
    raise AssertionError(f"no device {uid!r}")


@contextlib.asynccontextmanager
async def online_agent(server: RunningServer, admin: Client, state_dir: Path, *,
                       inventory: dict[str, Any] | None = None,
                       inventory_interval: float = 3600.0) -> AsyncIterator[
                           tuple[RunningAgent, dict[str, Any]]]:
    """Enroll and run an agent until the server lists it online with its inventory."""
    state, enrollment = await enroll_device(server, admin, state_dir)
    running = await start_agent(state, inventory=inventory,
                                inventory_interval=inventory_interval)
    try:
        device: dict[str, Any] = {}

        async def ready() -> bool:
            nonlocal device
            device = await device_of(admin, enrollment.device_id)
            inv = (await admin.get(f"/api/v1/devices/{device['id']}")).json["inventory"]
            return bool(device["online"] and device["metrics"] and "softwares" in inv)

        await eventually(ready)
        yield running, device
    finally:
        await running.stop()


async def until_offline(server: RunningServer, admin: Client, device_id: int) -> None:
    """Wait until the server no longer counts the device as connected, with its last-seen time."""
    async def offline() -> bool:
        return not (await admin.get(f"/api/v1/devices/{device_id}")).json["device"]["online"]

    await eventually(offline)
    await server.app[HUB].flush()  # the hub writes last-seen times every few seconds


async def test_enrolled_device_appears_online_with_inventory_and_goes_offline(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path) -> None:
    """An enrolled device appears online with its inventory, and goes offline when it stops."""
    async with online_agent(server, admin, tmp_path / "agent") as (running, device):
        await page.clock.install()  # time runs normally until the test moves it on
        await log_in(page, "admin", ADMIN_PASSWORD)
        await nav(page).get_by_role("link", name="Devices").click()
        row = page.locator("tr[data-device='pc-001']")
        await expect(row.locator(".status")).to_have_text("Online")
        await expect(row).to_contain_text("Debian GNU/Linux 12")
        await expect(row).to_contain_text("alice")
        await expect(row).to_contain_text("SN-pc-001")
        await expect(row).to_contain_text("40%")  # memory of the agent's sample

        # A second tab keeps the list open while the first one shows the device.
        list_page = await page.context.new_page()
        await list_page.goto("/#/devices")
        list_row = list_page.locator("tr[data-device='pc-001']")
        await expect(list_row.locator(".status")).to_have_text("Online")

        await row.get_by_role("link", name="pc-001").click()
        await expect(page.locator("#page-title")).to_have_text("pc-001")
        state = page.locator(".device-line")
        await expect(state).to_have_attribute("data-state", "online")
        await expect(state).to_contain_text("Online")
        await expect(page.locator("[data-metric=disk_percent] .gauge-value")).to_have_text("55%")
        await expect(page.locator("#tabpanel-overview")).to_contain_text("Debian GNU/Linux")
        await page.get_by_role("tab", name=re.compile("Software")).click()
        await expect(page.get_by_role("tab", name=re.compile("Software"))).to_contain_text("2")
        openssl = page.locator("tr[data-software=openssl]")
        await expect(openssl).to_contain_text("3.0.15")
        await expect(page).to_have_url(re.compile(rf"#/devices/{device['id']}/software$"))

        await running.stop()
        await until_offline(server, admin, device["id"])
        await page.clock.fast_forward(DEVICE_POLL_MS)
        await expect(state).to_have_attribute("data-state", "offline")
        await expect(state).to_contain_text("Offline")
        await expect(page.locator("[data-metric=cpu_percent]")).to_have_class(
            re.compile("gauge-stale"))
        await list_page.clock.fast_forward(LIST_POLL_MS)
        await expect(list_row.locator(".status")).to_have_text("Offline")
        await expect(list_row).to_contain_text("seen just now")
        await list_page.close()


async def test_device_list_searches_and_filters(server: RunningServer, admin: Client,
                                                page: Any, tmp_path: Path) -> None:
    """The devices list narrows by host name, online state, operating system and software."""
    other = fake_inventory("lab-02")
    other["operatingsystem"] = {"name": "Ubuntu", "version": "24.04"}
    other["softwares"] = [{"name": "openssl", "version": "3.0.13", "arch": "amd64"}]
    other["users"] = [{"login": "bob"}]
    async with online_agent(server, admin, tmp_path / "one") as (_, first), \
            online_agent(server, admin, tmp_path / "two", inventory=other) as (second, lab):
        await second.stop()
        await until_offline(server, admin, lab["id"])
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto("/#/devices")
        rows = page.get_by_role("table", name="Devices").locator("tbody tr")
        await expect(rows).to_have_count(2)
        await expect(page.locator("tr[data-device=lab-02] .status")).to_contain_text("Offline")

        await page.get_by_label("Filter by status").select_option("online")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("pc-001")
        await page.get_by_label("Filter by status").select_option("")

        await page.get_by_label("Search devices").fill("bob")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("lab-02")
        await page.get_by_label("Search devices").fill("")

        await page.get_by_label("Filter by operating system").fill("debian")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("pc-001")
        await page.get_by_label("Filter by operating system").fill("")

        await page.get_by_label("Filter by installed software").fill("openssl")
        await expect(rows).to_have_count(2)
        await page.get_by_label("Software version").fill("3.0.13")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("lab-02")
        await page.get_by_label("Filter by installed software").fill("no-such-package")
        await expect(page.get_by_text("No devices match")).to_be_visible()
        assert first["id"] != lab["id"]


async def test_device_page_shows_the_change_timeline(server: RunningServer, admin: Client,
                                                     page: Any, tmp_path: Path) -> None:
    """An upgraded package and a new kernel appear on the Changes tab as before → after."""
    inventory = fake_inventory()
    async with online_agent(server, admin, tmp_path / "agent", inventory=inventory,
                            inventory_interval=0.05) as (_, device):
        inventory["softwares"] = [{"name": "firefox-esr", "version": "128.5", "arch": "amd64"},
                                  {"name": "openssl", "version": "3.0.16", "arch": "amd64"},
                                  {"name": "vim", "version": "9.0", "arch": "amd64"}]
        inventory["operatingsystem"] = {**inventory["operatingsystem"], "kernel_version": "6.1.1"}

        async def two_changes() -> bool:
            items = (await admin.get(f"/api/v1/devices/{device['id']}/changes")).json["items"]
            return {i["section"] for i in items if i["change"]["kind"] == "changed"} == {
                "softwares", "operatingsystem"}

        await eventually(two_changes)
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/devices/{device['id']}/changes")
        timeline = page.get_by_role("list", name="Inventory changes")
        newest = timeline.locator(".timeline-entry").first
        await expect(newest).to_contain_text("Software")
        await expect(newest.locator(".change-added")).to_contain_text("vim 9.0 (amd64)")
        await expect(newest.locator(".change-changed")).to_contain_text("openssl (amd64)")
        await expect(newest.locator(".change-changed")).to_contain_text("version: 3.0.15 → 3.0.16")
        await expect(newest).to_contain_text("kernel_version: 6.1.0 → 6.1.1")
        await expect(timeline.locator(".timeline-entry").last).to_contain_text(
            re.compile("First reported.*Software"))


async def test_admin_creates_an_enrollment_token_that_enrolls_a_device(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path) -> None:
    """A token made on the Enrollment page shows its install command once and enrolls a machine."""
    group = (await admin.post("/api/v1/groups", json={"name": "Lab"})).json
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                         origin=server.base_url)
    await log_in(page, "admin", ADMIN_PASSWORD)
    await nav(page).get_by_role("link", name="Enrollment").click()
    await expect(page.get_by_text("No enrollment tokens")).to_be_visible()
    await page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Expires in").fill("2")
    await dialog.get_by_label("Unit").select_option("days")
    await dialog.get_by_label("Max uses").fill("1")
    await dialog.get_by_label("Group").select_option(label="Lab")
    await dialog.get_by_label("Note").fill("Test bench")
    await dialog.get_by_role("button", name="Create token").click()
    await expect(dialog).to_have_count(0)

    box = page.get_by_label("Install command")
    command = await box.inner_text()
    assert "--fingerprint sha256:" in command
    await expect(page.get_by_text("shown only once")).to_be_visible()
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == command
    row = page.get_by_role("table", name="Enrollment tokens").locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Test bench")
    await expect(row).to_contain_text("Lab")
    await expect(row).to_contain_text("0 / 1")
    await expect(row).to_contain_text("Active")

    token = re.search(r"--token (\S+)", command)
    fingerprint = re.search(r"--fingerprint (\S+)", command)
    assert token and fingerprint and server.tls is not None
    assert fingerprint.group(1) == server.tls.fingerprint
    state = AgentState(tmp_path / "agent")
    enrollment = await asyncio.to_thread(enroll, state, server.base_url, token.group(1),
                                         fingerprint.group(1))
    device = await device_of(admin, enrollment.device_id)
    assert device["group_id"] == group["id"]

    await page.reload()
    await expect(row).to_contain_text("1 / 1")
    await expect(row).to_contain_text("Used up")
    await expect(page.get_by_label("Install command")).to_have_count(0)  # shown only once


async def test_admin_revokes_an_enrollment_token(server: RunningServer, admin: Client,
                                                 page: Any) -> None:
    """Revoking a token on the Enrollment page after confirming makes the API refuse it."""
    created = (await admin.post("/api/v1/enrollment-tokens", json={"note": "Old batch"})).json
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/enrollment")
    prefix = created["info"]["prefix"]
    await page.get_by_role("button", name=f"Revoke token {prefix}").click()
    await page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    row = page.locator(f"tr[data-token='{prefix}']")
    await expect(row).to_contain_text("Revoked")
    await expect(page.get_by_role("button", name=f"Revoke token {prefix}")).to_have_count(0)
    (token,) = (await admin.get("/api/v1/enrollment-tokens")).json["items"]
    assert token["state"] == "revoked"


async def test_revoking_a_device_disconnects_its_agent(server: RunningServer, admin: Client,
                                                       page: Any, tmp_path: Path) -> None:
    """Revoking a device on its page disconnects the agent for good and shows it revoked."""
    async with online_agent(server, admin, tmp_path / "agent") as (running, device):
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/devices/{device['id']}")
        state = page.locator(".device-line")
        await expect(state).to_have_attribute("data-state", "online")
        await page.get_by_role("button", name="Revoke").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text("Revoke pc-001?")
        await dialog.get_by_role("button", name="Revoke device").click()

        with pytest.raises(FatalConnectionError):
            await asyncio.wait_for(asyncio.shield(running.task), 10)
        await expect(state).to_have_attribute("data-state", "revoked")
        await expect(state).to_contain_text("Revoked")
        await expect(page.get_by_role("note")).to_contain_text("cannot connect again")
        await expect(page.get_by_role("status")).to_contain_text("Device pc-001 revoked")
        await expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
        assert (await device_of(admin, device["uid"]))["revoked_at"]

        await page.goto("/#/devices")
        await expect(page.get_by_text("No devices enrolled yet")).to_be_visible()
        await page.get_by_label("Filter by status").select_option("revoked")
        await expect(page.locator("tr[data-device=pc-001] .status")).to_have_text("Revoked")


async def test_requester_cannot_see_devices(server: RunningServer, admin: Client,
                                            page: Any) -> None:
    """A requester has no Devices link, and the device and enrollment pages say not allowed."""
    await server.create_user(admin, "rick", "requester")
    await log_in(page, "rick", PASSWORD)
    await expect(nav(page).get_by_role("link", name="My tickets")).to_be_visible()
    for link in ("Devices", "Enrollment"):
        await expect(nav(page).get_by_role("link", name=link)).to_have_count(0)
    for hash_ in ("#/devices", "#/devices/1", "#/admin/enrollment"):
        await page.goto("/" + hash_)
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.locator("table")).to_have_count(0)


async def test_technician_sees_devices_without_admin_actions(server: RunningServer,
                                                             admin: Client, page: Any,
                                                             tmp_path: Path) -> None:
    """A technician sees devices but not the Enrollment page, the enroll link or Revoke."""
    await server.create_user(admin, "tina", "technician")
    await log_in(page, "tina", PASSWORD)
    await nav(page).get_by_role("link", name="Devices").click()
    await expect(page.get_by_text("No devices enrolled yet")).to_be_visible()
    await expect(page.get_by_text("Ask an administrator for an enrollment token")).to_be_visible()
    await expect(nav(page).get_by_role("link", name="Enrollment")).to_have_count(0)

    _, enrollment = await enroll_device(server, admin, tmp_path / "agent")
    device = await device_of(admin, enrollment.device_id)
    await page.goto(f"/#/devices/{device['id']}")
    await expect(page.locator(".device-line")).to_have_attribute("data-state", "offline")
    await expect(page.locator(".device-line")).to_contain_text("never connected")
    await expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    await page.goto("/#/admin/enrollment")
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


async def test_device_list_loads_more_and_keeps_every_page_on_refresh(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path) -> None:
    """The devices list pages with Load more, and its refresh keeps every loaded page."""
    token = (await admin.post("/api/v1/enrollment-tokens", json={})).json["token"]
    for i in range(53):
        await enroll_device(server, admin, tmp_path / f"agent-{i}", token=token)
    await page.clock.install()
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/devices")
    rows = page.get_by_role("table", name="Devices").locator("tbody tr")
    await expect(rows).to_have_count(50)
    await expect(page.get_by_text("50 devices (more available)")).to_be_visible()
    await page.get_by_role("button", name="Load more").click()
    await expect(rows).to_have_count(53)
    await expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    await enroll_device(server, admin, tmp_path / "late", token=token)
    await page.clock.fast_forward(LIST_POLL_MS)
    await expect(rows).to_have_count(54)  # the refresh brings the newcomer too
    await expect(page.get_by_text("54 devices · 0 online")).to_be_visible()


async def test_admin_moves_a_device_and_browses_a_long_software_list(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path) -> None:
    """An admin groups a device; a long software list shows 200 rows, filters, and shows all."""
    group = (await admin.post("/api/v1/groups", json={"name": "Front office"})).json
    inventory = fake_inventory()
    inventory["softwares"] = [{"name": f"pkg-{i:03d}", "version": "1.0", "arch": "amd64"}
                              for i in range(450)]
    async with online_agent(server, admin, tmp_path / "agent", inventory=inventory) as (_, device):
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/devices/{device['id']}")
        await page.get_by_role("button", name="Change group").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Group", exact=True).select_option(label="Front office")
        await dialog.get_by_role("button", name="Save").click()
        await expect(page.locator(".summary")).to_contain_text("Front office")
        assert (await device_of(admin, device["uid"]))["group_id"] == group["id"]

        await page.get_by_role("tab", name=re.compile("Software")).click()
        rows = page.get_by_role("table", name="Software").locator("tbody tr")
        await expect(rows).to_have_count(200)
        await expect(page.get_by_text("450 packages · showing the first 200")).to_be_visible()
        await page.get_by_label("Filter software").fill("pkg-31")
        await expect(rows).to_have_count(10)
        await expect(page.get_by_text("10 of 450 packages match")).to_be_visible()
        await page.get_by_label("Filter software").fill("")
        await page.get_by_role("button", name="Show all 450").click()
        await expect(rows).to_have_count(450)


async def test_unknown_device_shows_the_server_message(page: Any) -> None:
    """Opening a device that does not exist shows the API's not-found message."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/devices/999")
    await expect(page.get_by_role("alert")).to_have_text(re.compile("no device with id 999", re.I))
    await expect(page.get_by_text("This device cannot be shown")).to_be_visible()
