"""Changing one's e-mail address: confirmed by a single-use, expiring link to the new one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from server.db.schema import utcnow
from server.users.tables import email_changes
from tests.server.mail.test_mail_delivery import RICK, _people, _start, _text
from tests.support.server import RunningServer
from tests.support.smtp import SmtpSink

NEW = "rick.new@example.test"
LINK = re.compile(r"/#/account/confirm-email/([A-Za-z0-9_-]+)")


async def test_new_address_takes_effect_only_through_the_mailed_link(
        tmp_path: Path, sink: SmtpSink) -> None:
    """The link goes to the new address; opening it once changes the address and tells the old one."""  # noqa: E501
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        rick = people["req"]
        asked = await rick.patch("/api/v1/account", json={"email": NEW})
        assert asked.status == 200, asked.body
        assert asked.json["user"]["email"] == RICK  # not yet
        assert asked.json["pending_email"] == NEW
        [mail] = await sink.wait_for(1)
        assert mail["To"] == NEW and mail["Subject"] == "Confirm your new e-mail address"
        found = LINK.search(_text(mail))
        assert found is not None, _text(mail)
        token = found.group(1)
        # Someone else holding the link cannot use it; nothing changes.
        other = await people["tech"].post("/api/v1/account/email/confirm",
                                          json={"token": token})
        assert other.status == 422 and other.error_code == "invalid_link"
        done = await rick.post("/api/v1/account/email/confirm", json={"token": token})
        assert done.status == 200, done.body
        assert done.json["user"]["email"] == NEW and done.json["pending_email"] is None
        again = await rick.post("/api/v1/account/email/confirm", json={"token": token})
        assert again.status == 422 and again.error_code == "invalid_link"
        mails = await sink.wait_for(2)
        told = [m for m in mails if m["To"] == RICK]
        assert len(told) == 1 and NEW in _text(told[0])
        assert "did not make this change" in _text(told[0])
    finally:
        await server.close()


async def test_an_expired_or_replaced_link_changes_nothing(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A link past email_confirm_hours, or one a newer request replaced, is refused."""
    server = await _start(tmp_path / "data", sink)
    try:
        rick = (await _people(server))["req"]
        await rick.patch("/api/v1/account", json={"email": "first@example.test"})
        await rick.patch("/api/v1/account", json={"email": NEW})
        mails = await sink.wait_for(2)
        tokens = {m["To"]: LINK.search(_text(m)).group(1) for m in mails}  # type: ignore[union-attr]
        replaced = await rick.post("/api/v1/account/email/confirm",
                                   json={"token": tokens["first@example.test"]})
        assert replaced.status == 422 and replaced.error_code == "invalid_link"
        past = utcnow() - dt.timedelta(seconds=1)
        await server.db.write(lambda c: c.execute(
            sa.update(email_changes).values(expires_at=past)))
        expired = await rick.post("/api/v1/account/email/confirm",
                                  json={"token": tokens[NEW]})
        assert expired.status == 422 and expired.error_code == "invalid_link"
        account = (await rick.get("/api/v1/account")).json
        assert account["user"]["email"] == RICK and account["pending_email"] is None
    finally:
        await server.close()


async def test_without_mail_only_admins_change_addresses(server: RunningServer) -> None:
    """With no SMTP server a requester is told to ask an admin; an admin's own change applies."""
    admin = await server.login("admin", "admin-password-1")
    await server.create_user(admin, "rick", "requester")
    rick = await server.login("rick")
    refused = await rick.patch("/api/v1/account", json={"email": NEW})
    assert refused.status == 409 and refused.error_code == "email_unconfirmable"
    assert refused.json["error"]["message"].startswith("email: ")
    assert (await rick.get("/api/v1/account")).json["user"]["email"] is None
    mine = await admin.patch("/api/v1/account", json={"email": "boss@example.test"})
    assert mine.status == 200 and mine.json["user"]["email"] == "boss@example.test"
