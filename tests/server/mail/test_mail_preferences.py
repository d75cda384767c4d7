"""The per-user e-mail opt-out: who may change it, and that it stops the mail."""

from __future__ import annotations

from pathlib import Path

from tests.server.mail.test_mail_delivery import RICK, _outbox, _people, _start
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


async def test_users_turn_their_own_mail_off_and_admins_anyones(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Notifications default on; a user changes their own, an admin anyone's."""
    req, tech, admin = clients["requester"], clients["technician"], clients["admin"]
    path = f"/api/v1/users/{req.user['id']}/notifications"
    got = await req.get(path)
    assert got.status == 200, got.body
    assert got.json == {"email_notifications": True, "email": None, "mail_enabled": False,
                        "events": {"received": True, "reply": True, "resolved": True}}
    off = await req.put(path, json={"email_notifications": False})
    assert (off.status, off.json["email_notifications"]) == (200, False)
    assert (await req.get(path)).json["email_notifications"] is False
    on = await admin.put(path, json={"email_notifications": True})
    assert (on.status, on.json["email_notifications"]) == (200, True)
    # A technician is not an admin: another user's preference is not theirs to see.
    for resp in (await tech.get(path), await tech.put(path, json={"email_notifications": False})):
        assert resp.status == 404 and resp.error_code == "not_found"
    missing = await admin.get("/api/v1/users/999999/notifications")
    assert missing.status == 404


async def test_bad_preference_bodies_change_nothing(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Wrong types and unknown fields are refused with the error shape; nothing changes."""
    req = clients["requester"]
    path = f"/api/v1/users/{req.user['id']}/notifications"
    before = await snapshot(server)
    for body in ({"email_notifications": "no"}, {"email_notifications": False, "x": 1}, {},
                 [], None):
        resp = await req.put(path, json=body)
        assert resp.status in (400, 415, 422), (body, resp.body)
        assert resp.error_code
    assert await snapshot(server) == before
    assert (await req.get(path)).json["email_notifications"] is True


async def test_an_opted_out_requester_gets_no_mail(tmp_path: Path, sink: SmtpSink) -> None:
    """After opting out the requester's tickets queue nothing for them; the desk still hears."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["req"].put(
            f"/api/v1/users/{people['req'].user['id']}/notifications",
            json={"email_notifications": False})
        assert resp.status == 200, resp.body
        assert resp.json == {"email_notifications": False, "email": RICK, "mail_enabled": True,
                             "events": {"received": True, "reply": True, "resolved": True}}
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "Quiet"})).json
        await people["admin"].patch(f"/api/v1/tickets/{ticket['id']}",
                                    json={"assignee_id": people["tech"].user["id"]})
        mails = await sink.wait_for(1)
        assert [m["To"] for m in mails] == ["tina@example.test"]

        async def recorded() -> bool:
            return [r.reason for r in await _outbox(server)] == ["assigned"]

        await eventually(recorded)
    finally:
        await server.close()


async def test_a_kind_turned_off_is_not_queued(tmp_path: Path, sink: SmtpSink) -> None:
    """A requester who turned off receipts gets no receipt; other kinds still go out."""
    server = await _start(tmp_path / "data", sink)
    try:
        people = await _people(server)
        resp = await people["req"].put(
            f"/api/v1/users/{people['req'].user['id']}/notifications",
            json={"events": {"received": False}})
        assert resp.status == 200, resp.body
        ticket = (await people["req"].post("/api/v1/tickets", json={"title": "Quiet"})).json
        await people["admin"].patch(f"/api/v1/tickets/{ticket['id']}",
                                    json={"assignee_id": people["tech"].user["id"]})
        mails = await sink.wait_for(1)
        assert [m["To"] for m in mails] == ["tina@example.test"]
        assert [r.reason for r in await _outbox(server)] == ["assigned"]
    finally:
        await server.close()
