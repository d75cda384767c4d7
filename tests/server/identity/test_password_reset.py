"""Password reset by e-mail through a real SMTP server: the same answer for known and
unknown addresses, single-use expiring links, rate limits, other sessions ended."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.auth.tables import password_resets
from server.db.schema import utcnow
from server.directory.tables import directories, directory_accounts
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink

RICK = "rick@example.test"
NEW = "a-brand-new-password"
LINK = re.compile(r"/#/reset-password/([A-Za-z0-9_-]+)")


@pytest.fixture
async def mailing(tmp_path: Path, sink: SmtpSink) -> AsyncIterator[RunningServer]:
    """A server that sends its mail to the SMTP sink."""
    server = await start_server(tmp_path / "data", **sink.settings())
    try:
        yield server
    finally:
        await server.close()


async def add_rick(server: RunningServer) -> tuple[Client, int]:
    admin = await server.login("admin", ADMIN_PASSWORD)
    resp = await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick", "role": "requester",
        "password": PASSWORD, "email": RICK})
    assert resp.status == 201, resp.body
    return admin, resp.json["id"]


async def ask(server: RunningServer, email: str) -> tuple[int, object]:
    resp = await server.client().post("/api/v1/auth/password-reset", json={"email": email})
    return resp.status, resp.json


async def test_known_and_unknown_addresses_get_the_same_answer(
        mailing: RunningServer, sink: SmtpSink) -> None:
    """The answer does not tell whether an address exists; only a known one gets mail."""
    await add_rick(mailing)
    known = await ask(mailing, "Rick@Example.test")
    unknown = await ask(mailing, "nobody@example.test")
    assert known == unknown and known[0] == 202
    [mail] = await sink.wait_for(1)
    assert mail["To"] == RICK and "reset" in mail["Subject"].lower()


async def test_the_link_sets_a_password_once_and_ends_other_sessions(
        mailing: RunningServer, sink: SmtpSink) -> None:
    """Using the link changes the password, ends every session and token, and works once."""
    _admin, _rick_id = await add_rick(mailing)
    rick = await mailing.login("rick")
    assert (await rick.post("/api/v1/auth/tokens", json={"name": "t"})).status == 201
    await ask(mailing, RICK)
    [mail] = await sink.wait_for(1)
    match = LINK.search(mail.get_content())
    assert match is not None
    token = match.group(1)
    anonymous = mailing.client()
    resp = await anonymous.post("/api/v1/auth/password-reset/confirm",
                                json={"token": token, "new_password": NEW})
    assert resp.status == 204, resp.body
    assert (await rick.get("/api/v1/auth/session")).status == 401  # the old session ended
    await mailing.login("rick", NEW)
    resp = await anonymous.post("/api/v1/auth/password-reset/confirm",
                                json={"token": token, "new_password": "yet-another-one-1"})
    assert resp.status == 403 and resp.error_code == "invalid_reset_link"


async def test_an_expired_or_tampered_link_is_refused(
        mailing: RunningServer, sink: SmtpSink) -> None:
    """A link past its expiry, or with a changed secret, sets nothing."""
    await add_rick(mailing)
    await ask(mailing, RICK)
    [mail] = await sink.wait_for(1)
    match = LINK.search(mail.get_content())
    assert match is not None
    token = match.group(1)
    client = mailing.client()
    resp = await client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token[:-2] + "xx", "new_password": NEW})
    assert resp.status == 403 and resp.error_code == "invalid_reset_link"
    await mailing.db.write(lambda c: c.execute(password_resets.update().values(
        expires_at=utcnow())))
    resp = await client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token, "new_password": NEW})
    assert resp.status == 403 and resp.error_code == "invalid_reset_link"
    await mailing.login("rick")  # the old password still works


async def test_requests_are_limited_per_address_and_per_ip(
        tmp_path: Path, sink: SmtpSink) -> None:
    """Past the per-address limit the same address waits; past the per-IP limit any does."""
    server = await start_server(tmp_path / "data", password_reset_max_per_address=2,
                                password_reset_max_per_ip=4, **sink.settings())
    try:
        statuses = [(await ask(server, "a@example.test"))[0] for _ in range(3)]
        assert statuses == [202, 202, 429]
        statuses = [(await ask(server, f"{n}@example.test"))[0] for n in "bcd"]
        assert statuses == [202, 202, 429]
    finally:
        await server.close()


async def test_directory_accounts_get_no_reset_mail(
        mailing: RunningServer, sink: SmtpSink) -> None:
    """A user whose account comes from a directory is not sent a reset link."""
    _admin, rick_id = await add_rick(mailing)

    def link_to_directory(conn: sa.Connection) -> None:
        now = utcnow()
        directory_id = conn.execute(directories.insert().values(
            name="corp", kind="openldap", enabled=True, urls=["ldaps://127.0.0.1:1"],
            security="ldaps", allow_plaintext=False, ca_pem="", bind_dn="cn=x",
            bind_password="", user_base="dc=x", user_filter="(uid=*)", disabled_filter="",
            attributes={}, group_base="", group_filter="", nested_groups="client",
            group_mappings=[], default_role="requester", sync_minutes=0, page_size=100,
            timeout_seconds=5, created_at=now, updated_at=now)).inserted_primary_key[0]
        conn.execute(directory_accounts.insert().values(
            user_id=rick_id, directory_id=directory_id, external_id="x", dn="uid=rick"))

    await mailing.db.write(link_to_directory)
    assert (await ask(mailing, RICK))[0] == 202
    rows = await mailing.db.read(lambda c: c.execute(sa.select(password_resets)).all())
    assert rows == [] and sink.messages == []


async def test_admins_only_passwords_send_no_link_to_others(
        mailing: RunningServer, sink: SmtpSink) -> None:
    """With local passwords for admins only, a requester gets no reset mail, and a link
    asked for before the switch stops working; an admin's link still works."""
    admin, _rick_id = await add_rick(mailing)
    await ask(mailing, RICK)
    [early] = await sink.wait_for(1)
    match = LINK.search(early.get_content())
    assert match is not None
    assert (await admin.patch("/api/v1/users/1", json={"email": "root@example.test"})
            ).status == 200
    assert (await admin.put("/api/v1/identity-providers/settings",
                            json={"local_login_admins_only": True})).status == 200

    assert (await ask(mailing, RICK))[0] == 202
    resp = await mailing.client().post("/api/v1/auth/password-reset/confirm",
                                       json={"token": match.group(1), "new_password": NEW})
    assert resp.status == 403 and resp.error_code == "invalid_reset_link"
    assert (await ask(mailing, "root@example.test"))[0] == 202
    [_, admins] = await sink.wait_for(2)
    assert admins["To"] == "root@example.test"
    assert len(sink.messages) == 2  # nothing more went to rick
