"""Admin → Mail templates and Admin → Incoming mail in headless Chromium (phone size), and
a mailed reply's collapsed original with its message on the ticket page."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.async_api import expect

from server.mail.inbound.ingest import Route
from server.mail.inbound.service import MAIL_IN
from server.mail.inbound.tables import mail_failing_addresses
from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


async def _fits(page: Any) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"


async def test_admin_edits_previews_and_resets_a_template_on_a_phone(
        server: RunningServer, admin: Client, browser: Any) -> None:
    """An unknown placeholder is refused by the text field; a fixed Indonesian reply template previews with sample values, saves as custom, and resets to the built-in text."""  # noqa: E501
    async with open_page(browser, server.base_url, viewport=PHONE) as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto("/#/admin/mail/templates")
        picker = page.get_by_role("form", name="Choose a template")
        await picker.get_by_label("Notification").select_option("reply")
        await picker.get_by_label("Language").select_option("id")
        form = page.get_by_role("form", name="Mail template")
        await expect(form.locator("[data-template-state=default]")).to_be_visible()
        body = form.get_by_role("textbox", name="Text", exact=True)
        await expect(body).to_have_value(re.compile(r"^Halo \$\{name\},"))
        await body.fill("Halo ${nama}, ada balasan: ${text}")
        await form.get_by_role("button", name="Save").click()
        await expect(form.locator("[data-field=body] .field-error")).to_contain_text("${nama}")
        await body.fill("Halo ")
        await body.press("End")
        await form.get_by_role("button", name="Insert the placeholder ${name}").click()
        await body.press("End")
        await body.type(", ada balasan:\n${text}")
        await form.get_by_role("button", name="Preview").click()
        await expect(page.locator("[data-preview-body]")).to_contain_text(
            "Halo Rina Wijaya, ada balasan:")
        await expect(page.locator("[data-preview-subject]")).to_contain_text("[#INC-000123]")
        await _fits(page)
        await form.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_contain_text("New notifications use this text.")
        await expect(form.locator("[data-template-state=custom]")).to_be_visible()
        saved = (await admin.get("/api/v1/mail/templates")).json["items"]
        [mine] = [i for i in saved if (i["kind"], i["language"]) == ("reply", "id")]
        assert mine["custom"] and mine["body"].startswith("Halo ${name}, ada balasan:")
        await form.get_by_role("button", name="Send me a test").click()
        await expect(page.locator("[data-sent=false]")).to_contain_text("E-mail is off")
        await form.get_by_role("button", name="Reset to default").click()
        await expect(form.locator("[data-template-state=default]")).to_be_visible()
        await expect(body).to_have_value(mine["default_body"])


def _mail(sender: str, subject: str, text: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "help@deskmate.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<console-{n}@example.test>"
    msg.set_content(text)
    return msg.as_bytes()


async def test_incoming_mail_page_and_the_mailed_original_on_the_ticket(
        server: RunningServer, admin: Client, browser: Any) -> None:
    """On a phone an admin adds a mailbox routed to a group by name, tests it, reads a held message and takes it in for a chosen requester, and clears a failing address; the ticket shows a mailed reply's quoted history collapsed, with the message to download."""  # noqa: E501
    group = (await admin.post("/api/v1/groups", json={"name": "Front desk"})).json
    rick = (await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick Requester", "role": "requester",
        "email": "rick@example.test"})).json
    intake = server.app[MAIL_IN].intake
    held = await intake.take(_mail("Stranger <stranger@example.test>", "Laptop fan is loud",
                                   "The fan of my laptop is loud.", 1), Route())
    assert held.outcome == "held"
    await server.db.write(lambda c: c.execute(mail_failing_addresses.insert().values(
        address="gone@example.test", since=dt.datetime.now(dt.UTC), reason="bounce")))

    async with open_page(browser, server.base_url, viewport=PHONE) as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto("/#/admin/mail/incoming")
        await page.get_by_role("button", name="Add mailbox").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Name", exact=True).fill("Direct")
        await dialog.get_by_label("How mail arrives").select_option("lmtp")
        await expect(dialog.get_by_label("IMAP server")).to_be_hidden()
        await dialog.get_by_label("Desk address").fill("help@deskmate.test")
        await dialog.get_by_label("Group of new tickets").select_option(label="Front desk")
        await dialog.get_by_label("Mail from unknown senders").select_option("create")
        await dialog.get_by_role("button", name="Add mailbox").click()
        await expect(page.get_by_role("status")).to_contain_text("Mailbox Direct added.")
        row = page.locator("tr[data-mailbox=Direct]")
        await expect(row).to_contain_text("Front desk")
        await _fits(page)
        [box] = (await admin.get("/api/v1/mailboxes")).json["items"]
        assert (box["group_id"], box["unknown_sender"]) == (group["id"], "create")
        await row.get_by_role("button", name="Test Direct").click()
        await expect(page.get_by_role("status")).to_contain_text("the receiver is off")

        await page.get_by_role("button", name="Read Laptop fan is loud").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog.locator("[data-mail-text]")).to_contain_text("The fan of my laptop")
        await expect(dialog.get_by_role("link", name="Download the message")).to_have_attribute(
            "href", re.compile(r"^/api/v1/mail/inbound/\d+/raw$"))
        await dialog.get_by_label("Take in for").fill("Rick Requester (rick)")
        await dialog.get_by_role("button", name="Take in as a ticket").click()
        await expect(page.get_by_role("status")).to_contain_text("The message is now a ticket.")
        [ticket] = (await admin.get("/api/v1/tickets?q=Laptop")).json["items"]
        assert ticket["requester"]["id"] == rick["id"]

        await page.get_by_role("button", name="Clear gone@example.test").click()
        await expect(page.get_by_role("status")).to_contain_text("gets mail again")
        assert (await admin.get("/api/v1/mail/failing-addresses")).json["items"] == []

        # Rick answers by mail, quoting the desk: the ticket shows the quote collapsed.
        reply = await intake.take(_mail(
            "Rick <rick@example.test>", f"Re: [#{ticket['number']}] Laptop fan is loud",
            "Still loud today.\n\nOn Mon, 7 Dec 2026, Desk wrote:\n> Please restart it.\n", 2),
            Route())
        assert reply.outcome == "comment", reply
        await page.goto(f"/#/desk/tickets/{ticket['id']}")
        comment = page.locator(".tl-message", has_text="Still loud today.")
        original = comment.locator("details.tl-original")
        await expect(original).not_to_have_attribute("open", "")
        await expect(original.get_by_text("Please restart it.")).to_be_hidden()
        await original.locator("summary").click()
        await expect(original.get_by_text("Please restart it.")).to_be_visible()
        await expect(comment.locator("[data-mail-raw]")).to_have_attribute(
            "href", re.compile(r"^/api/v1/attachments/\d+$"))
        await _fits(page)
