"""Admin → Outgoing mail and Admin → Branding in the browser, with a real SMTP server:
settings saved, a test mail received, errors in words next to the fields, branding on
the login page and the portal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.server.test_branding import PNG
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1, a free port."""
    smtp = SmtpSink()
    await smtp.start()
    try:
        yield smtp
    finally:
        await smtp.stop()


async def test_mail_settings_saved_and_test_mail_received(
        server: RunningServer, admin: Client, page: Any, sink: SmtpSink) -> None:
    """An admin sets the mail server in the console and a test mail reaches the SMTP server; bad values are explained by the field and not saved."""  # noqa: E501
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/mail")
    form = page.get_by_role("form", name="Mail server settings")
    await expect(page.locator("[data-mail-status]")).to_have_text(
        "E-mail is off: no notifications are sent.")
    await form.get_by_label("Mail server").fill("mail.example.org")
    await form.get_by_label("Port").fill("99999")
    await form.get_by_label("Encryption").select_option("none")
    await form.get_by_label("Sender address").fill("not an address")
    await form.get_by_role("button", name="Save").click()
    await expect(form.locator("[data-field='smtp_port'] .field-error")).to_contain_text(
        "from 1 to 65535")
    await expect(form.locator("[data-field='smtp_security'] .field-error")).to_contain_text(
        "Choose STARTTLS or TLS")
    await expect(form.locator("[data-field='mail_from'] .field-error")).to_contain_text(
        "sender address")
    assert (await admin.get("/api/v1/settings/mail")).json["enabled"] is False

    await form.get_by_label("Mail server").fill("127.0.0.1")
    await form.get_by_label("Port").fill(str(sink.port))
    await form.get_by_label("Sender address").fill("Service desk <desk@example.test>")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("[data-mail-status]")).to_contain_text("notifications go through "
                                                                    "127.0.0.1")
    test = page.get_by_role("form", name="Send a test mail")
    await test.get_by_label("Send to").fill("boss@example.test")
    await test.get_by_role("button", name="Send a test mail").click()
    await expect(page.locator("[data-sent='true']")).to_contain_text("accepted a test mail")
    [mail] = await sink.wait_for(1)
    assert (mail["To"], mail["From"]) == ("boss@example.test", "Service desk <desk@example.test>")

    # A server that cannot be found is answered in words.
    await form.get_by_label("Mail server").fill("no-such-host.invalid")
    await form.get_by_label("Encryption").select_option("starttls")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("[data-mail-status]")).to_contain_text("no-such-host.invalid")
    await test.get_by_role("button", name="Send a test mail").click()
    await expect(page.locator("[data-sent='false']")).to_contain_text("could not be found")


async def test_branding_shows_on_login_page_and_portal(
        server: RunningServer, admin: Client, page: Any, browser: Any, tmp_path: Any) -> None:
    """An admin renames the product, picks a colour and logo and writes a welcome; a too-light colour is refused by the field; the login page and a requester's portal show the branding."""  # noqa: E501
    await server.create_user(admin, "rick", "requester")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/branding")
    form = page.get_by_role("form", name="Branding", exact=True)
    await form.get_by_label("Accent colour", exact=True).fill("#ffff00")
    await form.get_by_role("button", name="Save").click()
    await expect(form.locator("[data-field='accent_color'] .field-error")).to_contain_text(
        "too light")
    assert (await admin.get("/api/v1/branding")).json["accent_color"] == "#2563eb"
    await form.get_by_label("Product name").fill("Layanan TI")
    await form.get_by_label("Accent colour", exact=True).fill("#0f5132")
    await form.get_by_label("Welcome text on the portal").fill("Selamat datang!")
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Branding saved.")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    logo_form = page.get_by_role("form", name="Logo")
    await logo_form.get_by_label("New logo").set_input_files(str(logo))
    await logo_form.get_by_role("button", name="Upload logo").click()
    await expect(page.get_by_role("status")).to_contain_text("The new logo is shown.")

    async with open_page(browser, server.base_url) as fresh:
        await fresh.goto("/")
        await expect(fresh.locator(".login-brand .brand-name")).to_have_text("Layanan TI")
        logo_url = (await admin.get("/api/v1/branding")).json["logo_url"]
        await expect(fresh.locator(".login-brand img")).to_have_attribute("src", logo_url)
        accent = await fresh.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent')")
        assert accent.strip() == "#0f5132"
        await log_in(fresh, "rick", PASSWORD)
        await expect(fresh.locator(".portal-welcome")).to_have_text("Selamat datang!")


async def test_technician_is_refused_the_settings_pages(
        server: RunningServer, technician: Client, page: Any) -> None:
    """A technician gets "Not allowed" on the mail and branding pages and 403 from their API."""
    await log_in(page, "tina", PASSWORD)
    for route in ("#/admin/mail", "#/admin/branding", "#/admin/mail/templates",
                  "#/admin/mail/incoming"):
        await page.goto(f"/{route}")
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert (await technician.get("/api/v1/settings/mail")).status == 403
    assert (await technician.patch("/api/v1/settings/branding",
                                   json={"product_name": "X"})).status == 403


async def test_settings_pages_fit_a_phone(server: RunningServer, admin: Client,
                                          page: Any) -> None:
    """At 390x844 the SLA (with the policy editor open), groups, mail and branding pages are no wider than the screen."""  # noqa: E501
    # The page's own content; the shell's top bar is the navigation's business.
    await admin.post("/api/v1/groups", json={"name": "Network team"})
    await page.set_viewport_size({"width": 390, "height": 844})
    await log_in(page, "admin", ADMIN_PASSWORD)
    width = ("Math.max(...[...document.querySelectorAll('#main *, dialog *')]"
             ".filter((e) => !e.closest('thead, .sr-only'))"
             ".map((e) => e.getBoundingClientRect().right))")
    for route, ready in (("#/admin/groups/1", "Person to add"), ("#/admin/mail", "Mail server"),
                         ("#/admin/branding", "Product name")):
        await page.goto(f"/{route}")
        await expect(page.get_by_label(ready, exact=True)).to_be_visible()
        assert await page.evaluate(width) <= 390, route
    await page.goto("/#/admin/sla")
    await page.get_by_role("button", name="New policy").click()
    form = page.get_by_role("form", name="New policy")
    await form.get_by_role("button", name="Add a rule").click()
    await expect(form.get_by_role("group", name="Rule 1")).to_be_visible()
    dialog_width = await page.evaluate(
        "document.querySelector('dialog.modal').getBoundingClientRect().right")
    assert dialog_width <= 390
    assert await page.evaluate(width) <= 390
