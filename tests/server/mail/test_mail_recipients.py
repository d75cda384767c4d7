"""Every mail goes only to someone allowed to read what it says, when queued and when sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from server.db.schema import tickets, utcnow
from server.keys import MAIL_SENDER
from tests.server.mail.test_mail_delivery import RICK, TINA, _outbox, _people, _start
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


async def test_an_assignee_demoted_to_requester_gets_no_desk_mail(
        tmp_path: Path, sink: SmtpSink) -> None:
    """Once the assignee is no longer staff, the requester's replies are not mailed to them."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "No sound"})).json
        tina = people["tech"].user["id"]
        resp = await people["admin"].patch(f"/api/v1/tickets/{ticket['id']}",
                                           json={"assignee_id": tina})
        assert resp.status == 200, resp.body
        await sink.wait_for(2)  # receipt to rick, "assigned" to tina
        resp = await people["admin"].patch(f"/api/v1/users/{tina}", json={"role": "requester"})
        assert resp.status == 200, resp.body
        resp = await people["req"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                        json={"body": "My private details: 555-0100."})
        assert resp.status == 201, resp.body
        resp = await people["admin"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                          json={"body": "Looking at it."})
        assert resp.status == 201, resp.body
        await sink.wait_for(3)  # the admin's reply to rick: the outbox is sent in order
        assert [r.reason for r in await _outbox(server)] == ["received", "assigned", "reply"]
        assert len(sink.to(TINA)) == 1
    finally:
        await server.close()


async def test_a_requester_put_in_as_assignee_by_old_data_gets_no_desk_mail(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A requester stored as assignee (before the role check existed) hears nothing."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["admin"].post("/api/v1/users", json={
            "username": "olga", "display_name": "Olga", "role": "requester",
            "email": "olga@example.test"})
        assert resp.status == 201, resp.body
        olga = resp.json["id"]
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "VPN"})).json
        await sink.wait_for(1)
        await server.db.write(lambda c: c.execute(
            sa.update(tickets).where(tickets.c.id == ticket["id"]).values(assignee_id=olga)))
        resp = await people["req"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                        json={"body": "Still broken."})
        assert resp.status == 201, resp.body
        resp = await people["tech"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                         json={"body": "On it."})
        assert resp.status == 201, resp.body
        await sink.wait_for(2)
        assert [r.reason for r in await _outbox(server)] == ["received", "reply"]
        assert sink.to("olga@example.test") == []
    finally:
        await server.close()


async def test_mail_queued_for_someone_who_lost_their_rights_is_not_sent(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A queued mail is dropped when its recipient was deactivated or demoted before delivery."""
    await sink.stop()  # nothing is delivered until the rights have changed
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "Laptop"})).json
        tina = people["tech"].user["id"]
        resp = await people["admin"].patch(f"/api/v1/tickets/{ticket['id']}",
                                           json={"assignee_id": tina})
        assert resp.status == 200, resp.body

        async def tried() -> bool:
            rows = await _outbox(server)
            return len(rows) == 2 and all(r.attempts >= 1 for r in rows)

        await eventually(tried)
        rick = people["req"].user["id"]
        assert (await people["admin"].patch(f"/api/v1/users/{rick}",
                                            json={"active": False})).status == 200
        assert (await people["admin"].patch(f"/api/v1/users/{tina}",
                                            json={"role": "requester"})).status == 200
        await sink.start()
        sender = server.app[MAIL_SENDER]
        sender.now = lambda: utcnow() + dt.timedelta(hours=2)  # the backoff has expired
        sender.wake.set()

        async def dropped() -> bool:
            return [r.status for r in await _outbox(server)] == ["failed", "failed"]

        await eventually(dropped)
        assert all("recipient" in (r.last_error or "") for r in await _outbox(server))
        assert sink.messages == []
        assert sink.to(RICK) == sink.to(TINA) == []
    finally:
        await server.close()


async def test_mail_goes_to_the_recipients_current_address(
        tmp_path: Path, sink: SmtpSink) -> None:
    """A mail queued before the recipient changed their address goes to the new one."""
    await sink.stop()
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        assert (await people["req"].post("/api/v1/tickets", json={"title": "Mouse"})).status == 201

        async def tried() -> bool:
            return [r.attempts for r in await _outbox(server)] == [1]

        await eventually(tried)
        rick = people["req"].user["id"]
        resp = await people["admin"].patch(f"/api/v1/users/{rick}",
                                           json={"email": "rick@new.example.test"})
        assert resp.status == 200, resp.body
        await sink.start()
        sender = server.app[MAIL_SENDER]
        sender.now = lambda: utcnow() + dt.timedelta(hours=2)
        sender.wake.set()
        [mail] = await sink.wait_for(1)
        assert mail["To"] == "rick@new.example.test"
        assert sink.to(RICK) == []
    finally:
        await server.close()


def test_who_may_read_a_notification() -> None:
    """Staff read every mail; a requester or approver only their ticket's public side."""
    from server.mail.compose import REASONS, may_read

    ticket = {"requester_id": 1, "approver_id": 2}
    for reason in REASONS:
        assert may_read(reason, user_id=9, role="technician", active=True, **ticket)
        assert not may_read(reason, user_id=9, role="admin", active=False, **ticket)
        assert not may_read(reason, user_id=9, role="requester", active=True, **ticket)
        assert not may_read(reason, user_id=1, role=None, active=None, **ticket)
    for user_id in (1, 2):
        readable = {r for r in REASONS if may_read(r, user_id=user_id, role="requester",
                                                    active=True, **ticket)}
        assert readable == {"received", "reply", "resolved"}
