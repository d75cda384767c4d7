"""Mailboxes end to end: IMAP from a real Dovecot, LMTP and SMTP fed by smtplib, the admin
API, held mail and failing addresses."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.db.schema import tickets
from server.mail.inbound.service import MAIL_IN
from server.mail.inbound.tables import mail_inbound
from tests.support.dovecot import Dovecot
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


def _mail(n: int, sender: str = "rick@example.test", subject: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Rick <{sender}>"
    msg["To"] = "help@deskmate.test"
    msg["Subject"] = subject or f"Problem number {n}"
    msg["Message-ID"] = f"<box-{n}@example.test>"
    msg.set_content(f"Details of problem {n}.")
    return msg.as_bytes()


async def _admin(server: RunningServer) -> Client:
    admin = await server.login("admin", ADMIN_PASSWORD)
    resp = await admin.post("/api/v1/users", json={
        "username": "rick", "display_name": "Rick", "role": "requester",
        "email": "rick@example.test"})
    assert resp.status == 201, resp.body
    return admin


async def _email_tickets(server: RunningServer) -> list[Any]:
    return await server.db.read(lambda c: c.execute(
        sa.select(tickets).where(tickets.c.source == "email").order_by(tickets.c.id)).all())


def _imap_box(dovecot: Dovecot, **extra: Any) -> dict[str, Any]:
    return {"name": "Help desk", "kind": "imap", "address": "help@deskmate.test",
            "host": "127.0.0.1", "port": dovecot.imaps_port, "security": "tls",
            "username": dovecot.username, "password": dovecot.password, **extra}


async def test_imap_mail_becomes_tickets_and_leaves_the_mailbox(
        tmp_path: Path, dovecot: Dovecot) -> None:
    """Messages in an IMAPS mailbox become tickets routed to the mailbox's group, and are
    deleted from the mailbox only once written; the password is never shown."""
    await asyncio.to_thread(dovecot.append, [_mail(n) for n in range(3)])
    server = await start_server(tmp_path / "data", mail_imap_ca_file=str(dovecot.ca_file))
    try:
        admin = await _admin(server)
        group = (await admin.post("/api/v1/groups", json={"name": "Service desk"})).json
        resp = await admin.post("/api/v1/mailboxes", json=_imap_box(
            dovecot, group_id=group["id"]))
        assert resp.status == 201, resp.body
        assert "password" not in resp.json and resp.json["has_password"] is True

        async def done() -> bool:
            return len(await _email_tickets(server)) == 3 and await asyncio.to_thread(
                dovecot.count) == 0

        await eventually(done, within=30)
        rows = await _email_tickets(server)
        assert {r.title for r in rows} == {f"Problem number {n}" for n in range(3)}
        assert {r.group_id for r in rows} == {group["id"]}
        box = (await admin.get(f"/api/v1/mailboxes/{resp.json['id']}")).json
        assert box["last_error"] is None
    finally:
        await server.close()


async def test_idle_picks_up_new_mail_and_starttls_moves_it(
        tmp_path: Path, dovecot: Dovecot) -> None:
    """With STARTTLS and a done folder, a message that arrives while the reader waits in
    IDLE (polling is set to 5 minutes) is taken in and moved to the done folder."""
    await asyncio.to_thread(dovecot.create_folder, "Done")
    server = await start_server(tmp_path / "data", mail_imap_ca_file=str(dovecot.ca_file),
                                mail_imap_poll_seconds=300)
    try:
        admin = await _admin(server)
        resp = await admin.post("/api/v1/mailboxes", json=_imap_box(
            dovecot, port=dovecot.imap_port, security="starttls", done_folder="Done"))
        assert resp.status == 201, resp.body
        [(reader, _task)] = server.app[MAIL_IN].readers.values()
        await eventually(lambda: reader.rounds >= 1, within=20)  # now waiting in IDLE
        await asyncio.to_thread(dovecot.append, [_mail(7)])

        async def moved() -> bool:
            return len(await _email_tickets(server)) == 1 and await asyncio.to_thread(
                dovecot.count, "Done") == 1

        await eventually(moved, within=20)
        assert await asyncio.to_thread(dovecot.count) == 0
    finally:
        await server.close()


async def test_a_wrong_password_is_reported_on_the_mailbox(
        tmp_path: Path, dovecot: Dovecot) -> None:
    """A mailbox that cannot log in shows the error; nothing is taken or lost."""
    await asyncio.to_thread(dovecot.append, [_mail(1)])
    server = await start_server(tmp_path / "data", mail_imap_ca_file=str(dovecot.ca_file))
    try:
        admin = await _admin(server)
        resp = await admin.post("/api/v1/mailboxes", json=_imap_box(dovecot, password="nope"))
        box_id = resp.json["id"]

        async def failed() -> bool:
            box = (await admin.get(f"/api/v1/mailboxes/{box_id}")).json
            return bool(box["last_error"])

        await eventually(failed, within=20)
        assert await asyncio.to_thread(dovecot.count) == 1
        assert await _email_tickets(server) == []
    finally:
        await server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _send(port: int, raw: bytes, rcpt: list[str], *, lmtp: bool) -> dict[str, Any]:
    client: smtplib.SMTP = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP(
        "127.0.0.1", port)
    with client:
        return client.sendmail("rick@example.test", rcpt, raw)


async def test_lmtp_delivery_writes_before_it_answers(tmp_path: Path) -> None:
    """A message delivered over LMTP is a ticket when the 250 comes back; an address with
    no mailbox is refused at RCPT; a second delivery of it makes nothing new."""
    port = _free_port()
    server = await start_server(tmp_path / "data", mail_lmtp_port=port)
    try:
        admin = await _admin(server)
        resp = await admin.post("/api/v1/mailboxes", json={
            "name": "Direct", "kind": "lmtp", "address": "Help@Deskmate.test"})
        assert resp.status == 201, resp.body
        refused = await asyncio.to_thread(
            _send, port, _mail(1), ["help+dm-x@deskmate.test", "nobody@deskmate.test"],
            lmtp=True)
        assert list(refused) == ["nobody@deskmate.test"]
        assert [r.title for r in await _email_tickets(server)] == ["Problem number 1"]
        await asyncio.to_thread(_send, port, _mail(1), ["help@deskmate.test"], lmtp=True)
        assert len(await _email_tickets(server)) == 1
    finally:
        await server.close()


async def test_smtp_delivery_and_held_mail(tmp_path: Path, sink: SmtpSink) -> None:
    """Over SMTP, mail from a stranger is held; staff see it, download it, and accept it
    into a ticket for a new requester; a held message can be discarded instead."""
    port = _free_port()
    server = await start_server(tmp_path / "data", mail_lmtp_port=port,
                                mail_lmtp_protocol="smtp", **sink.settings())
    try:
        admin = await _admin(server)
        await admin.post("/api/v1/mailboxes", json={
            "name": "Direct", "kind": "lmtp", "address": "help@deskmate.test"})
        await asyncio.to_thread(_send, port, _mail(1, "new@example.test"),
                                ["help@deskmate.test"], lmtp=False)
        await asyncio.to_thread(_send, port, _mail(2, "spam@example.test"),
                                ["help@deskmate.test"], lmtp=False)
        held = (await admin.get("/api/v1/mail/inbound?outcome=held")).json["items"]
        assert [(m["sender"], m["reason"]) for m in held] == [
            ("spam@example.test", "unknown sender"), ("new@example.test", "unknown sender")]
        raw = await admin.get(f"/api/v1/mail/inbound/{held[1]['id']}/raw")
        assert raw.status == 200 and b"Details of problem 1." in raw.body
        assert raw.headers["Content-Disposition"].startswith("attachment")
        accepted = await admin.post(f"/api/v1/mail/inbound/{held[1]['id']}/accept")
        assert accepted.status == 200, accepted.body
        assert accepted.json["outcome"] == "ticket"
        again = await admin.post(f"/api/v1/mail/inbound/{held[1]['id']}/accept")
        assert again.status == 409 and again.error_code == "conflict"
        resp = await admin.delete(f"/api/v1/mail/inbound/{held[0]['id']}")
        assert resp.status == 204
        rows = await server.db.read(lambda c: c.execute(
            sa.select(mail_inbound.c.outcome).order_by(mail_inbound.c.id)).scalars().all())
        assert rows == ["ticket", "ignored"]
        [ticket] = await _email_tickets(server)
        assert ticket.title == "Problem number 1"
    finally:
        await server.close()


async def test_mailbox_validation(tmp_path: Path) -> None:
    """A mailbox that would send its password in clear, or names no host or a missing
    group, is refused with a 422; requesters and technicians cannot see mailboxes."""
    server = await start_server(tmp_path / "data")
    try:
        admin = await _admin(server)
        base = {"name": "X", "kind": "imap", "address": "x@deskmate.test",
                "host": "imap.example.org", "username": "x", "password": "p"}
        for bad in ({"security": "none"}, {"host": ""}, {"group_id": 999}):
            resp = await admin.post("/api/v1/mailboxes", json={**base, **bad})
            assert resp.status == 422, (bad, resp.body)
        resp = await admin.post("/api/v1/mailboxes", json=base)
        assert resp.status == 201
        resp = await admin.post("/api/v1/mailboxes", json=base)
        assert resp.status == 409
        tech = await server.create_user(admin, "tina", "technician")
        tina = await server.login(tech["username"])
        assert (await tina.get("/api/v1/mailboxes")).status == 403
    finally:
        await server.close()
