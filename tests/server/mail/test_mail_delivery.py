"""E-mail notifications end to end: the real server, its outbox and a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.db.schema import utcnow
from server.keys import MAIL_SENDER, SLA_ENGINE
from server.mail.tables import mail_outbox
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

RICK = "rick@example.test"
TINA = "tina@example.test"


async def _start(data: Path, sink: SmtpSink, **extra: Any) -> RunningServer:
    return await start_server(data, **sink.settings(), **extra)


async def _people(server: RunningServer) -> dict[str, Client]:
    """Log in an admin, a technician and a requester, both with an e-mail address."""
    admin = await server.login("admin", ADMIN_PASSWORD)
    for name, role, addr in (("tina", "technician", TINA), ("rick", "requester", RICK)):
        resp = await admin.post("/api/v1/users", json={
            "username": name, "display_name": name.title(), "role": role,
            "password": PASSWORD, "email": addr})
        assert resp.status == 201, resp.body
    return {"admin": admin, "tech": await server.login("tina"),
            "req": await server.login("rick")}


async def _outbox(server: RunningServer) -> list[Any]:
    return await server.db.read(lambda c: c.execute(
        sa.select(mail_outbox).order_by(mail_outbox.c.id)).all())


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_a_new_ticket_mails_the_requester(tmp_path: Path, sink: SmtpSink) -> None:
    """The requester gets a receipt, threaded by ticket, with a plain link and no token."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["req"].post("/api/v1/tickets", json={
            "title": "Printer on fire", "description": "Smoke from tray 2."})
        assert resp.status == 201, resp.body
        ticket = resp.json
        [mail] = await sink.wait_for(1)
        assert mail["To"] == RICK
        assert mail["From"] == "Deskmate <desk@deskmate.test>"
        assert mail["Subject"] == "[#INC-000001] Printer on fire"
        assert mail["Message-ID"] == f"<ticket-{ticket['id']}.inc-000001@deskmate.test>"
        assert mail["In-Reply-To"] is None
        assert mail["Auto-Submitted"] == "auto-generated"
        text = _text(mail)
        assert "Smoke from tray 2." in text
        link = f"{server.settings.base_url}/#/portal/tickets/{ticket['id']}"
        assert link in text
        assert "token" not in text.lower() and PASSWORD not in text
        assert sink.envelopes == [("desk@deskmate.test", [RICK])]

        async def recorded() -> bool:
            return [(r.status, r.attempts, r.reason) for r in await _outbox(server)] == [
                ("sent", 1, "received")]

        await eventually(recorded)  # recorded just after the SMTP server's answer
    finally:
        await server.close()


async def test_public_reply_mails_the_requester_and_internal_note_does_not(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A staff reply reaches the requester in the ticket's thread; an internal note never."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "VPN down"})).json
        await sink.wait_for(1)
        tid = ticket["id"]
        note = await people["tech"].post(f"/api/v1/tickets/{tid}/comments", json={
            "body": "Internal: user is on the old client.", "internal": True})
        assert note.status == 201, note.body
        reply = await people["tech"].post(f"/api/v1/tickets/{tid}/comments", json={
            "body": "Please update your VPN client."})
        assert reply.status == 201, reply.body
        mails = await sink.wait_for(2)
        assert [m["To"] for m in mails] == [RICK, RICK]
        answer = mails[1]
        assert "Please update your VPN client." in _text(answer)
        assert answer["In-Reply-To"] == answer["References"] == mails[0]["Message-ID"]
        assert answer["Message-ID"] != mails[0]["Message-ID"]
        assert answer["Subject"] == mails[0]["Subject"]
        assert all("old client" not in _text(m) for m in mails)
        # The note queued nothing at all: the outbox holds the receipt and the reply only.
        assert [r.reason for r in await _outbox(server)] == ["received", "reply"]
    finally:
        await server.close()


async def test_assignment_and_requester_reply_mail_the_technician(
        tmp_path: Path, sink: SmtpSink) -> None:
    """Assigning mails the assignee; the requester's reply then mails the assignee too."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "No sound"})).json
        await sink.wait_for(1)
        tina = people["tech"].user["id"]
        resp = await people["admin"].patch(f"/api/v1/tickets/{ticket['id']}",
                                           json={"assignee_id": tina})
        assert resp.status == 200, resp.body
        mails = await sink.wait_for(2)
        assigned = mails[1]
        assert assigned["To"] == TINA
        assert "Administrator assigned ticket INC-000001 to you on " in _text(assigned)
        assert f"/#/desk/tickets/{ticket['id']}" in _text(assigned)
        resp = await people["req"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                        json={"body": "Still silent after a reboot."})
        assert resp.status == 201, resp.body
        mails = await sink.wait_for(3)
        assert mails[2]["To"] == TINA
        assert "Still silent after a reboot." in _text(mails[2])
        assert len(sink.to(RICK)) == 1  # no mail about their own reply or the assignment
    finally:
        await server.close()


async def test_resolution_mails_the_requester_with_the_note(
        tmp_path: Path, sink: SmtpSink) -> None:
    """Resolving a ticket sends the requester the resolution note."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "Slow PC"})).json
        await sink.wait_for(1)
        resp = await people["tech"].patch(f"/api/v1/tickets/{ticket['id']}", json={
            "status": "resolved", "resolution_code": "fixed",
            "resolution_note": "Replaced the disk."})
        assert resp.status == 200, resp.body
        mails = await sink.wait_for(2)
        assert mails[1]["To"] == RICK
        assert "Replaced the disk." in _text(mails[1])
        assert "resolved by Tina" in _text(mails[1])
    finally:
        await server.close()


async def test_users_without_an_address_get_nothing(tmp_path: Path, sink: SmtpSink) -> None:
    """A requester with no e-mail address causes no outbox row."""
    server = await _start(tmp_path / "data", sink)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "nomail", "requester")
        user = await server.login("nomail")
        resp = await user.post("/api/v1/tickets", json={"title": "Mouse"})
        assert resp.status == 201, resp.body
        assert await _outbox(server) == []
    finally:
        await server.close()


async def test_mail_waits_while_the_smtp_server_is_down(tmp_path: Path, sink: SmtpSink) -> None:
    """With the SMTP server down the mail stays queued; after the backoff it is delivered."""
    await sink.stop()  # the port is known, nothing listens on it
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["req"].post("/api/v1/tickets", json={"title": "Keyboard"})
        assert resp.status == 201, resp.body

        async def tried() -> bool:
            rows = await _outbox(server)
            return len(rows) == 1 and rows[0].attempts >= 1

        await eventually(tried)
        [row] = await _outbox(server)
        assert row.status == "queued"
        assert "Connection" in (row.last_error or "") or "refused" in (row.last_error or "")
        assert row.next_attempt_at > row.created_at
        await sink.start()
        sender = server.app[MAIL_SENDER]
        sender.now = lambda: utcnow() + dt.timedelta(hours=2)  # the backoff has expired
        sender.wake.set()
        [mail] = await sink.wait_for(1)
        assert mail["To"] == RICK

        async def sent() -> bool:
            return [(r.status, r.attempts) for r in await _outbox(server)] == [("sent", 2)]

        await eventually(sent)
    finally:
        await server.close()


async def test_a_refused_mail_fails_for_good(tmp_path: Path, sink: SmtpSink) -> None:
    """A 5xx answer marks the mail failed at once; it is not retried."""
    sink.refuse = "550 mailbox unavailable"
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        await people["req"].post("/api/v1/tickets", json={"title": "Monitor"})

        async def failed() -> bool:
            return [r.status for r in await _outbox(server)] == ["failed"]

        await eventually(failed)
        [row] = await _outbox(server)
        assert row.attempts == 1 and "550" in (row.last_error or "")
    finally:
        await server.close()


async def test_a_mail_is_sent_once_across_a_restart(tmp_path: Path, sink: SmtpSink) -> None:
    """A delivered mail is not sent again by the next server on the same data."""
    data = tmp_path / "data"
    server = await _start(data, sink)
    try:
        people = await _people(server)
        await people["req"].post("/api/v1/tickets", json={"title": "First"})
        await sink.wait_for(1)
    finally:
        await server.close()
    server = await _start(data, sink)
    try:
        rick = await server.login("rick")
        await rick.post("/api/v1/tickets", json={"title": "Second"})
        # The outbox is sent in id order: a resent first mail would arrive before this one.
        mails = await sink.wait_for(2)
        assert [m["Subject"] for m in mails] == ["[#INC-000001] First", "[#INC-000002] Second"]

        async def both_sent() -> bool:
            return [r.status for r in await _outbox(server)] == ["sent", "sent"]

        await eventually(both_sent)  # recorded just after the SMTP server's answer
    finally:
        await server.close()


async def test_a_mail_queued_before_a_stop_is_sent_after_the_restart(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A mail still queued when the server stops is delivered by the next start."""
    data = tmp_path / "data"
    await sink.stop()
    server = await _start(data, sink)
    try:
        people = await _people(server)
        await people["req"].post("/api/v1/tickets", json={"title": "Queued"})

        async def tried() -> bool:
            return [r.attempts for r in await _outbox(server)] == [1]

        await eventually(tried)
    finally:
        await server.close()
    await sink.start()
    server = await _start(data, sink)
    try:
        server.app[MAIL_SENDER].now = lambda: utcnow() + dt.timedelta(hours=2)
        server.app[MAIL_SENDER].wake.set()
        [mail] = await sink.wait_for(1)
        assert mail["Subject"] == "[#INC-000001] Queued"
    finally:
        await server.close()


async def test_sla_notify_escalation_mails_the_assignee(tmp_path: Path, sink: SmtpSink) -> None:
    """A "notify" escalation rule mails the assignee; the requester hears nothing of it."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["admin"].post("/api/v1/sla/policies", json={
            "name": "Default", "calendar_id": 1, "fallback": True,
            "targets": {"resolution": 240}, "warn_percents": [50],
            "escalations": [{"on": "warning", "action": "notify"}]})
        assert resp.status == 201, resp.body
        ticket = (await people["tech"].post("/api/v1/tickets", json={
            "title": "Server room hot", "requester_id": people["req"].user["id"],
            "assignee_id": people["tech"].user["id"]})).json
        await sink.wait_for(1)  # the requester's receipt (tina assigned herself: no mail)
        later = dt.timedelta(hours=3)
        server.app[MAIL_SENDER].now = lambda: utcnow() + later  # one clock for the desk
        engine = server.app[SLA_ENGINE]
        engine.now = lambda: utcnow() + later
        engine.wake.set()
        mails = await sink.wait_for(2)
        assert mails[1]["To"] == TINA
        assert "resolution reached 50% of its target" in _text(mails[1])
        assert mails[1]["Subject"] == f"[#{ticket['number']}] Server room hot"
        assert len(sink.to(RICK)) == 1
    finally:
        await server.close()


async def test_mail_off_queues_nothing(server: RunningServer, admin: Client) -> None:
    """Without smtp_host no outbox row is written and no sender runs."""
    resp = await admin.post("/api/v1/users", json={
        "username": "mo", "display_name": "Mo", "role": "requester", "password": PASSWORD,
        "email": "mo@example.test"})
    assert resp.status == 201, resp.body
    mo = await server.login("mo")
    assert (await mo.post("/api/v1/tickets", json={"title": "x"})).status == 201
    assert await _outbox(server) == []
    assert MAIL_SENDER not in server.app


async def test_sla_notify_on_an_unassigned_ticket_mails_the_group_staff(
        tmp_path: Path, sink: SmtpSink) -> None:
    """Without an assignee the group's technicians get the escalation, never the requester."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        admin = people["admin"]
        group = (await admin.post("/api/v1/groups", json={"name": "Level 1"})).json
        for member in (people["tech"], people["req"]):  # a requester in the group: no mail
            resp = await admin.put(
                f"/api/v1/groups/{group['id']}/members/{member.user['id']}")
            assert resp.status in (200, 204), resp.body
        resp = await admin.post("/api/v1/sla/policies", json={
            "name": "Default", "calendar_id": 1, "fallback": True,
            "targets": {"resolution": 60}, "warn_percents": [],
            "escalations": [{"on": "breach", "action": "notify"}]})
        assert resp.status == 201, resp.body
        resp = await people["tech"].post("/api/v1/tickets", json={
            "title": "Backup failed", "requester_id": people["req"].user["id"],
            "group_id": group["id"]})
        assert resp.status == 201 and resp.json["assignee"] is None, resp.body
        await sink.wait_for(1)  # the receipt
        later = dt.timedelta(hours=2)
        server.app[MAIL_SENDER].now = lambda: utcnow() + later
        engine = server.app[SLA_ENGINE]
        engine.now = lambda: utcnow() + later
        engine.wake.set()
        mails = await sink.wait_for(2)
        assert mails[1]["To"] == TINA
        assert "resolution breached" in _text(mails[1])

        async def queued() -> list[str]:
            return [r.reason for r in await _outbox(server)]

        await eventually(lambda: _sent_all(server))
        assert await queued() == ["received", "sla"]
    finally:
        await server.close()


async def _sent_all(server: RunningServer) -> bool:
    return all(r.status == "sent" for r in await _outbox(server))


async def _tls_sink(tmp_path: Path) -> tuple[SmtpSink, Path]:
    """Return a started SMTP server that requires STARTTLS with a certificate of its own CA."""
    import asyncio

    from server.tls import ensure_own_ca, server_context

    info = await asyncio.to_thread(ensure_own_ca, tmp_path / "smtp-tls", hostnames=["127.0.0.1"])
    assert info.ca_file is not None
    sink = SmtpSink(tls_context=await asyncio.to_thread(server_context, info))
    await sink.start()
    return sink, info.ca_file


async def test_starttls_delivers_to_a_server_with_a_trusted_certificate(tmp_path: Path) -> None:
    """With smtp_security=starttls and the relay's CA in smtp_ca_file the mail is delivered."""
    sink, ca_file = await _tls_sink(tmp_path)
    server = await start_server(tmp_path / "data", **{
        **sink.settings(), "smtp_security": "starttls", "smtp_ca_file": str(ca_file)})
    try:
        people = await _people(server)
        await people["req"].post("/api/v1/tickets", json={"title": "Encrypted"})
        [mail] = await sink.wait_for(1)
        assert mail["Subject"] == "[#INC-000001] Encrypted"
        assert sink.tls_used == [True]
    finally:
        await server.close()
        await sink.stop()


async def test_starttls_refuses_a_certificate_it_cannot_verify(tmp_path: Path) -> None:
    """An SMTP server whose certificate is not trusted gets nothing; the mail waits queued."""
    sink, _ca_file = await _tls_sink(tmp_path)
    server = await start_server(tmp_path / "data", **{
        **sink.settings(), "smtp_security": "starttls"})
    try:
        people = await _people(server)
        await people["req"].post("/api/v1/tickets", json={"title": "Not to a stranger"})

        async def tried() -> bool:
            return [r.attempts for r in await _outbox(server)] == [1]

        await eventually(tried)
        [row] = await _outbox(server)
        assert row.status == "queued"
        assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or ""), row.last_error
        assert sink.messages == []
    finally:
        await server.close()
        await sink.stop()
