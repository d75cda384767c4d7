"""The one-click satisfaction survey of the resolution mail, end to end: real SMTP, real
server, real Chromium; a reused or tampered link is refused on the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

RICK = "rick@example.test"
LINK = re.compile(r"(\d) - [^:\n]+: \S+(/#/survey/(\S+))")


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1, a free port."""
    smtp = SmtpSink()
    await smtp.start()
    try:
        yield smtp
    finally:
        await smtp.stop()


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def _resolved_ticket(server: RunningServer) -> tuple[Client, Client, dict[str, Any]]:
    admin = await server.login("admin", ADMIN_PASSWORD)
    for name, role, addr in (("tina", "technician", "tina@example.test"),
                             ("rick", "requester", RICK)):
        resp = await admin.post("/api/v1/users", json={
            "username": name, "display_name": name.title(), "role": role,
            "password": PASSWORD, "email": addr})
        assert resp.status == 201, resp.body
    rick, tina = await server.login("rick"), await server.login("tina")
    group = (await admin.post("/api/v1/groups", json={"name": "Network"})).json
    resp = await admin.patch(f"/api/v1/groups/{group['id']}",
                             json={"manager_id": tina.user["id"]})
    assert resp.status == 200, resp.body
    ticket = (await rick.post("/api/v1/tickets", json={"title": "VPN drops",
                                                       "description": "Every hour."})).json
    resp = await tina.patch(f"/api/v1/tickets/{ticket['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "group_id": group["id"],
        "resolution_note": "New VPN profile pushed."})
    assert resp.status == 200, resp.body
    return rick, tina, ticket


async def test_a_survey_link_records_once_and_refuses_tampering(
        tmp_path: Path, sink: SmtpSink, browser: Any) -> None:
    """One click records the score without login and takes a comment; the same link
    again, or one with its score changed, is refused with a clear message; a later low
    score mails the group's manager."""
    server = await start_server(tmp_path / "data", **sink.settings())
    try:
        rick, tina, ticket = await _resolved_ticket(server)
        await sink.wait_for(2)
        [mail] = [m for m in sink.to(RICK) if "resolved" in _text(m)]
        links = {int(m.group(1)): m.group(2) for m in LINK.finditer(_text(mail))}
        assert sorted(links) == [1, 2, 3, 4, 5], _text(mail)
        url = links[4]
        async with open_page(browser, server.base_url, viewport={"width": 390,
                                                                 "height": 844}) as page:
            await page.goto(url)
            await expect(page.locator("[data-survey-score]")).to_have_attribute(
                "data-survey-score", "4")
            await page.get_by_label("Anything you want to tell us? (optional)").fill(
                "Quick and kind.")
            await page.get_by_role("button", name="Send comment").click()
            await expect(page.locator("[data-survey-done]")).to_be_visible()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            # The same mail's links are spent once one was used.
            await page.goto(links[1])
            await expect(page.locator("[data-survey-refused]")).to_have_text(
                re.compile("already used"))
            # An attacker's edit of the score (or of the ticket) breaks the signature.
            token = url.rsplit("/", 1)[1]
            forged = token.replace(".4.", ".1.", 1)
            await page.goto(f"/#/survey/{forged}")
            await expect(page.locator("[data-survey-refused]")).to_have_attribute(
                "data-survey-refused", "invalid_link")
        shown = (await tina.get(f"/api/v1/tickets/{ticket['id']}")).json["satisfaction"]
        assert (shown["score"], shown["comment"], shown["via"]) == (4, "Quick and kind.", "mail")
        other = (await rick.post("/api/v1/tickets", json={"title": "Other"})).json
        moved = token.replace(f"{ticket['id']}.", f"{other['id']}.", 1)
        resp = await server.client().post("/api/v1/survey/answer", json={"token": moved})
        assert (resp.status, resp.json["error"]["code"]) == (422, "invalid_link")
        # Changed to a low score within the window: the group's manager hears of it.
        resp = await rick.put(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 2})
        assert resp.status == 200, resp.body
        await eventually(lambda: any("low score" in _text(m)
                                     for m in sink.to("tina@example.test")))
        [alert] = [m for m in sink.to("tina@example.test") if "low score" in _text(m)]
        assert "2/5" in _text(alert)
    finally:
        await server.close()
