"""Outgoing mail set in the console: stored over the static settings, applied without a
restart, the password write-only, the static security rules, and the test mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.db.schema import audit_events
from tests.server.mail.test_mail_delivery import _people, _text
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink


def _console_mail(sink: SmtpSink, **extra: Any) -> dict[str, Any]:
    return {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "none",
            "mail_from": "Service desk <desk@example.test>", **extra}


async def test_mail_set_in_the_console_is_used_at_once(
        server: RunningServer, admin: Client, sink: SmtpSink) -> None:
    """With no static SMTP, console settings turn mail on without a restart; a new ticket's receipt arrives."""  # noqa: E501
    before = (await admin.get("/api/v1/settings/mail")).json
    assert (before["enabled"], before["smtp_host"], before["sources"]["smtp_host"]) == (
        False, "", "config")
    resp = await admin.patch("/api/v1/settings/mail", json=_console_mail(
        sink, smtp_username="", smtp_password="s3cret-pass"))
    assert resp.status == 200, resp.body
    body = resp.json
    assert (body["enabled"], body["smtp_port"], body["password_set"]) == (True, sink.port, True)
    assert body["sources"]["smtp_host"] == "console"
    assert "s3cret-pass" not in resp.body.decode()
    assert "s3cret-pass" not in (await admin.get("/api/v1/settings/mail")).body.decode()
    created = await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick", "role": "requester",
        "email": "rick@example.test", "password": "user-password-1"})
    assert created.status == 201
    rick = await server.login("rick")
    assert (await rick.post("/api/v1/tickets", json={"title": "Printer"})).status == 201
    [mail] = await sink.wait_for(1)
    assert (mail["To"], mail["From"]) == ("rick@example.test", "Service desk <desk@example.test>")
    # Audited by field name, never with the password.
    rows = await server.db.read(lambda c: c.execute(sa.select(audit_events).where(
        audit_events.c.action == "settings.mail")).all())
    assert [sorted(r.detail["fields"]) for r in rows] == [sorted(
        ["smtp_host", "smtp_port", "smtp_security", "mail_from", "smtp_username",
         "smtp_password"])]
    assert "s3cret" not in str(rows[0].detail)
    # Turning the host off stops queueing mail.
    off = await admin.patch("/api/v1/settings/mail", json={"smtp_host": ""})
    assert (off.status, off.json["enabled"]) == (200, False)
    assert (await rick.post("/api/v1/tickets", json={"title": "Scanner"})).status == 201
    assert len(sink.messages) == 1


async def test_test_mail_reaches_the_smtp_server_or_says_why_not(
        admin: Client, sink: SmtpSink) -> None:
    """A test mail arrives at the typed address; a refusing or unknown server is answered in words."""  # noqa: E501
    assert (await admin.patch("/api/v1/settings/mail", json=_console_mail(sink))).status == 200
    ok = await admin.post("/api/v1/settings/mail/test", json={"to": "boss@example.test"})
    assert ok.status == 200, ok.body
    assert ok.json["sent"] is True
    [mail] = await sink.wait_for(1)
    assert mail["To"] == "boss@example.test"
    assert "test mail" in mail["Subject"]
    sink.refuse = "554 5.7.1 relaying denied"
    refused = (await admin.post("/api/v1/settings/mail/test", json={"to": "x@example.test"})).json
    assert refused == {"sent": False, "message": refused["message"]}
    assert "554 5.7.1 relaying denied" in refused["message"]
    await sink.stop()
    down = (await admin.post("/api/v1/settings/mail/test", json={"to": "x@example.test"})).json
    assert down["sent"] is False
    assert "refused the connection" in down["message"]
    bad = await admin.patch("/api/v1/settings/mail", json={"smtp_host": "no-such-host.invalid"})
    assert bad.status == 422  # plaintext to a remote host: refused before the test
    assert (await admin.patch("/api/v1/settings/mail", json={
        "smtp_host": "no-such-host.invalid", "smtp_security": "starttls"})).status == 200
    unknown = (await admin.post("/api/v1/settings/mail/test",
                                json={"to": "x@example.test"})).json
    assert unknown["sent"] is False
    assert "could not be found" in unknown["message"]


async def test_bad_mail_settings_are_refused_by_field_and_change_nothing(
        admin: Client, technician: Client, sink: SmtpSink) -> None:
    """Plaintext to a remote host, a bad port, host or sender are refused naming the field; a technician may not read or change mail."""  # noqa: E501
    cases = [
        ({**_console_mail(sink), "smtp_host": "mail.example.org"}, "smtp_security: none would"),
        ({**_console_mail(sink), "smtp_port": 70000}, "smtp_port"),
        ({**_console_mail(sink), "smtp_host": "bad host!"}, "smtp_host:"),
        ({**_console_mail(sink), "mail_from": "not an address"}, "mail_from:"),
        ({**_console_mail(sink), "mail_from": "x@y.org\r\nBcc: z@y.org"}, "mail_from:"),
        ({"smtp_security": "ssl"}, "smtp_security"),
        ({"smtp_pass": "x"}, "smtp_pass"),
        ({}, "nothing to change"),
    ]
    for body, words in cases:
        resp = await admin.patch("/api/v1/settings/mail", json=body)
        assert resp.status == 422, (body, resp.body)
        assert words in resp.json["error"]["message"], resp.body
    after = (await admin.get("/api/v1/settings/mail")).json
    assert (after["enabled"], set(after["sources"].values())) == (False, {"config"})
    off = await admin.post("/api/v1/settings/mail/test", json={"to": "x@example.test"})
    assert (off.status, off.json["error"]["message"].startswith("smtp_host:")) == (422, True)
    assert (await technician.get("/api/v1/settings/mail")).status == 403
    assert (await technician.patch("/api/v1/settings/mail",
                                   json={"smtp_host": ""})).status == 403
    assert (await technician.post("/api/v1/settings/mail/test",
                                  json={"to": "x@example.test"})).status == 403


async def test_console_values_override_the_static_config_one_by_one(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A server configured by file takes a console sender address over it; null restores the file's."""  # noqa: E501
    server = await start_server(tmp_path / "data", **sink.settings())
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        first = (await admin.get("/api/v1/settings/mail")).json
        assert (first["enabled"], first["smtp_host"]) == (True, sink.host)
        changed = await admin.patch("/api/v1/settings/mail",
                                    json={"mail_from": "Help <help@example.test>"})
        assert changed.json["mail_from"] == "Help <help@example.test>"
        assert changed.json["sources"]["smtp_host"] == "config"
        assert (await admin.post("/api/v1/settings/mail/test",
                                 json={"to": "a@example.test"})).json["sent"] is True
        [mail] = await sink.wait_for(1)
        assert mail["From"] == "Help <help@example.test>"
        back = await admin.patch("/api/v1/settings/mail", json={"mail_from": None})
        assert back.json["mail_from"] == "Deskmate <desk@deskmate.test>"
    finally:
        await server.close()


async def test_mails_sign_with_the_product_name(tmp_path: Path, sink: SmtpSink) -> None:
    """After the product is renamed, a new ticket's receipt is signed with the new name."""
    server = await start_server(tmp_path / "data", **sink.settings())
    try:
        people = await _people(server)
        assert (await people["admin"].patch("/api/v1/settings/branding", json={
            "product_name": "Layanan TI"})).status == 200
        assert (await people["req"].post("/api/v1/tickets", json={"title": "VPN"})).status == 201
        [mail] = await sink.wait_for(1)
        assert "This message was sent automatically by Layanan TI." in _text(mail)
        assert "not read" not in _text(mail)  # replies are read when a mailbox is set up
    finally:
        await server.close()
