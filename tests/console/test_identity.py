"""Two-step login and password reset in headless Chromium (real server, real SMTP)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from server.auth import totp
from tests.console.test_console import log_in
from tests.console.test_form_errors import expect_field_error
from tests.server.identity.test_directory import GROUPS, PEOPLE
from tests.support import slapd
from tests.support.browser import open_page
from tests.support.server import PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser
LINK = re.compile(r"https?://\S+/#/reset-password/[A-Za-z0-9_-]+")


async def test_totp_enrolment_and_two_step_login(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A technician sets up TOTP from the Account page, sees the recovery codes once, and
    the next login asks for a code after the password."""
    await server.create_user(admin, "tina", "technician")
    await log_in(page, "tina", PASSWORD)
    await page.goto("/#/account")
    await page.get_by_role("button", name="Set up two-step login").click()
    await expect(page.get_by_role("img", name="QR code to scan")).to_be_visible()
    secret = (await page.locator(".totp-secret").text_content()).strip()
    await page.get_by_label("Code from the app").fill(totp.code_at(secret, time.time()))
    await page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    await expect(codes).to_have_count(10)
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_label("User name").fill("tina")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    code = page.get_by_label("Authentication code")
    await code.fill("000000" if totp.code_at(secret, time.time()) != "000000" else "111111")
    await page.get_by_role("button", name="Verify").click()
    await expect_field_error(code, re.compile("^Wrong or already used code"))  # by the field
    await code.fill(totp.code_at(secret, time.time() + totp.STEP_SECONDS))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture
async def mailing(tmp_path: Path, sink: SmtpSink) -> AsyncIterator[RunningServer]:
    """A server that sends its mail to the SMTP sink."""
    server = await start_server(tmp_path / "data", **sink.settings())
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1, a free port."""
    smtp = SmtpSink()
    await smtp.start()
    try:
        yield smtp
    finally:
        await smtp.stop()


async def test_password_reset_by_email_link(
        mailing: RunningServer, sink: SmtpSink, browser: Any) -> None:
    """"Forgot password?" sends a link; opening it sets a new password that logs in."""
    admin = await mailing.login("admin", "admin-password-1")
    resp = await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick", "role": "requester",
        "password": PASSWORD, "email": "rick@example.test"})
    assert resp.status == 201, resp.body
    async with open_page(browser, mailing.base_url) as page:
        await page.goto("/")
        await page.get_by_role("link", name="Forgot password?").click()
        await page.get_by_label("E-mail address").fill("rick@example.test")
        await page.get_by_role("button", name="Send reset link").click()
        await expect(page.get_by_role("status")).to_contain_text("a reset link is on its way")
        [mail] = await sink.wait_for(1)
        found = LINK.search(mail.get_content())
        assert found is not None
        # The mail links to public_url (port 0 here: the test server's real port differs).
        await page.goto("/#" + found.group(0).split("/#", 1)[1])
        await page.get_by_label("New password", exact=True).fill("a-fresh-password-9")
        await page.get_by_label("Repeat new password").fill("a-fresh-password-9")
        await page.get_by_role("button", name="Save password").click()
        await expect(page.get_by_text("Your password is changed")).to_be_visible()
        await page.get_by_role("link", name="Back to log in").click()
        await log_in(page, "rick", "a-fresh-password-9")


@pytest.fixture
def ldap() -> Iterator[slapd.Slapd]:
    """A real slapd with 20 people."""
    with slapd.running_slapd(PEOPLE[:20], GROUPS[:1]) as server:
        yield server


async def test_directories_page_tests_previews_and_syncs(
        server: RunningServer, admin: Client, page: Any, ldap: slapd.Slapd) -> None:
    """An admin adds a directory on the Directories page and uses Test connection,
    Preview sync (nothing written) and Sync now; a synced user then signs in by bind."""
    await log_in(page, "admin", "admin-password-1")
    await page.goto("/#/admin/directories")
    await page.get_by_role("button", name="Add directory").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name", exact=True).fill("corp")
    await dialog.get_by_label("Server URLs").fill(ldap.ldaps_url)
    await dialog.get_by_label("CA certificate (PEM)").fill(ldap.ca_pem)
    await dialog.get_by_label("Service account DN").fill(slapd.SERVICE_DN)
    await dialog.get_by_label("Service account password").fill(slapd.SERVICE_PASSWORD)
    await dialog.get_by_label("User search base").fill(slapd.PEOPLE)
    await dialog.get_by_label("Group search base").fill(slapd.GROUPS)
    # No schedule: its first sync, soon after saving, would race the preview below.
    await dialog.get_by_label("Sync every (minutes)").fill("0")
    await dialog.get_by_role("button", name="Save directory").click()
    await expect(page.get_by_role("status").first).to_contain_text("Directory corp added")
    await page.get_by_role("button", name="Test connection corp").click()
    await expect(page.get_by_text("corp: connection works.")).to_be_visible()
    await page.get_by_role("button", name="Preview sync corp").click()
    await expect(page.get_by_text("Preview: nothing was written.")).to_be_visible()
    await expect(page.get_by_text("20 accounts to create")).to_be_visible()
    assert (await admin.get("/api/v1/users?q=u005")).json["items"] == []
    await page.get_by_role("button", name="Sync now corp").click()
    await expect(page.get_by_text("Sync finished.")).to_be_visible()
    resp = await server.client().post("/api/v1/auth/login", json={
        "username": "u005", "password": slapd.USER_PASSWORD})
    assert resp.status == 200, resp.body


async def test_an_admin_is_held_on_the_set_up_page_when_totp_is_required(
        tmp_path: Path, browser: Any) -> None:
    """With totp_required_for_admins, an admin without TOTP sees only the set-up page
    after logging in, and reaches the desk once it is on."""
    server = await start_server(tmp_path / "data", totp_required_for_admins=True)
    try:
        async with open_page(browser, server.base_url) as page:
            await log_in(page, "admin", "admin-password-1", ok=False)
            await expect(page.get_by_role("heading", name="Set up two-step login")).to_be_visible()
            await page.goto("/#/admin/users")
            await expect(page.get_by_role("heading", name="Set up two-step login")).to_be_visible()
            await page.get_by_role("button", name="Set up two-step login").click()
            secret = (await page.locator(".totp-secret").text_content()).strip()
            await page.get_by_label("Code from the app").fill(totp.code_at(secret, time.time()))
            await page.get_by_role("button", name="Turn on").click()
            await page.get_by_role("button", name="Continue to Deskmate").click()
            await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    finally:
        await server.close()
