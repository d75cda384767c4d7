"""Mail templates edited per language: checked when saved, previewed, tested, used by the
outbox with the threading headers the server adds, reset to the catalogues' text; admins
only."""

from __future__ import annotations

import pytest

from server.mail import templates
from tests.server.mail.test_mail_delivery import _text
from tests.server.mail.test_mail_settings import _console_mail
from tests.support.server import PASSWORD, Client, RunningServer
from tests.support.smtp import SmtpSink

PATH = "/api/v1/mail/templates"


def test_default_templates_are_the_catalogue_texts_and_fill_to_them() -> None:
    """Every kind's default, in every language, uses only its own placeholders and passes its own check."""  # noqa: E501
    for kind in templates.KINDS:
        for language in ("en", "id"):
            default = templates.default(kind, language)
            assert templates.check(kind, default) == [], (kind, language)
            assert "${number}" in default.subject
    assert "Halo ${name}," in templates.default("reply", "id").body
    filled = templates.fill(templates.Template(subject="Costs $$5: ${title}", body="Hi"),
                            {"title": "Printer", "number": "INC-000009"}, number="INC-000009")
    assert filled.subject == "[#INC-000009] Costs $5: Printer"  # the tag is always there


@pytest.mark.parametrize(("subject", "body", "field", "words"), [
    ("${number} ${nope}", "Hi", "subject", "unknown placeholder ${nope}"),
    ("${number}", "Pay $5 now", "body", "'$5' is not a placeholder"),
    ("${number}", "${text}", None, None),
    ("line\nbreak", "Hi", "subject", "one line"),
    ("${number}", "  ", "body", "must not be empty"),
])
def test_a_template_is_checked_by_field(subject: str, body: str, field: str | None,
                                        words: str | None) -> None:
    """Unknown placeholders, a stray dollar, a two-line subject and an empty body are each refused by their field."""  # noqa: E501
    problems = templates.check("reply", templates.Template(subject=subject, body=body))
    if field is None:
        assert problems == []
        assert templates.check("assigned", templates.Template(subject, body))[0].field == "body"
        return
    assert problems[0].field == field
    assert words in str(problems[0].message)


async def test_admin_edits_tests_and_resets_a_template_the_outbox_uses(
        server: RunningServer, admin: Client, sink: SmtpSink) -> None:
    """A saved Indonesian receipt is what an Indonesian requester gets, still threaded and tagged; English ones keep the catalogue text; reset brings the default back; "send me a test" arrives; only admins may do any of it."""  # noqa: E501
    off = await admin.post(f"{PATH}/reply/en/test", json={"subject": "a", "body": "b"})
    assert (off.status, off.json["error"]["code"]) == (422, "mail_off")
    listed = (await admin.get(PATH)).json
    assert listed["languages"] == ["en", "id"]
    assert len(listed["items"]) == len(templates.KINDS) * 2
    receipt_id = next(i for i in listed["items"]
                      if (i["kind"], i["language"]) == ("received", "id"))
    assert receipt_id["custom"] is False and "text" in receipt_id["placeholders"]
    bad = await admin.put(f"{PATH}/received/id", json={"subject": "${number}",
                                                       "body": "Halo ${nama}"})
    assert bad.status == 422
    assert bad.json["error"]["field"] == "body"
    assert "${nama}" in bad.json["error"]["message"]
    assert (await admin.put(f"{PATH}/nope/id", json={"subject": "a", "body": "b"})).status == 404
    assert (await admin.put(f"{PATH}/received/xx", json={"subject": "a",
                                                         "body": "b"})).status == 404
    mine = {"subject": "Tiket ${title} diterima",
            "body": "Halo ${name}, tiket ${number} sudah kami catat.\n\n${text}\n\n${link}"}
    preview = await admin.post(f"{PATH}/received/id/preview", json=mine)
    assert preview.status == 200, preview.body
    assert preview.json["subject"].startswith("[#INC-000123] Tiket ")
    assert "Halo Rina Wijaya, tiket INC-000123" in preview.json["body"]
    saved = await admin.put(f"{PATH}/received/id", json=mine)
    assert (saved.status, saved.json["custom"]) == (200, True)

    assert (await admin.patch("/api/v1/settings/mail", json=_console_mail(sink))).status == 200
    for name, language in (("rina", "id"), ("rick", "en")):
        created = await admin.post("/api/v1/users", json={
            "username": name, "display_name": name.title(), "role": "requester",
            "password": PASSWORD, "email": f"{name}@example.test"})
        assert created.status == 201, created.body
        assert (await admin.patch(f"/api/v1/users/{created.json['id']}",
                                  json={"language": language})).status == 200
        person = await server.login(name)
        assert (await person.post("/api/v1/tickets", json={
            "title": "Printer", "description": "Macet lagi."})).status == 201
    rina, rick = sorted(await sink.wait_for(2), key=lambda m: str(m["To"]))[::-1]
    assert str(rina["Subject"]).startswith("[#INC-") and "Tiket Printer diterima" in rina["Subject"]
    assert "sudah kami catat" in _text(rina) and "  Macet lagi." in _text(rina)
    assert rina["Message-ID"].startswith("<ticket-") and rina["Auto-Submitted"]
    assert "We have received your ticket" in _text(rick)  # English: the catalogue's text

    reset = await admin.delete(f"{PATH}/received/id")
    assert (reset.status, reset.json["custom"]) == (200, False)
    assert reset.json["body"] == reset.json["default_body"]

    # "Send me a test": the filled-in template to the admin's own address.
    text = {"subject": "${number}", "body": "Hello ${name}: ${text}"}
    no_address = await admin.post(f"{PATH}/reply/en/test", json=text)
    assert (no_address.status, no_address.json["error"]["code"]) == (422, "no_email")
    me = (await admin.get("/api/v1/auth/session")).json["user"]
    changed = await admin.patch(f"/api/v1/users/{me['id']}", json={"email": "boss@example.test"})
    assert changed.status == 200, changed.body
    sent = await admin.post(f"{PATH}/reply/en/test", json=text)
    assert (sent.status, sent.json["sent"], sent.json["to"]) == (200, True, "boss@example.test")
    [mail] = [m for m in await sink.wait_for(3) if m["To"] == "boss@example.test"]
    assert "Hello Rina Wijaya:   I restarted it" in _text(mail)

    # Nobody but an admin reads or changes them.
    await server.create_user(admin, "tina", "technician")
    for client in (await server.login("tina"), await server.login("rick")):
        assert (await client.get(PATH)).status == 403
        assert (await client.put(f"{PATH}/reply/en", json=text)).status == 403
        assert (await client.post(f"{PATH}/reply/en/preview", json=text)).status == 403
        assert (await client.post(f"{PATH}/reply/en/test", json=text)).status == 403
        assert (await client.delete(f"{PATH}/reply/en")).status == 403
