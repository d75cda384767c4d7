"""What the console's incoming-mail pages use: trying a mailbox, a mailbox's own policy
for unknown senders, reading held mail and taking it in for a chosen requester; admins
and the desk only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from server.db.schema import tickets
from tests.server.mail.test_mailboxes import _admin, _free_port, _imap_box, _mail, _send
from tests.support.dovecot import Dovecot
from tests.support.server import PASSWORD, start_server


async def test_mailbox_test_policy_and_held_mail_for_a_chosen_requester(
        tmp_path: Path, dovecot: Dovecot) -> None:
    """"Test" logs in to Dovecot or says why not; a mailbox that creates requesters turns a stranger's mail into a ticket; a held message is read as text and taken in for the requester the desk picks; a technician cannot touch mailboxes and a requester sees no mail."""  # noqa: E501
    port = _free_port()
    server = await start_server(tmp_path / "data", mail_lmtp_port=port,
                                mail_imap_ca_file=str(dovecot.ca_file))
    try:
        admin = await _admin(server)
        imap = await admin.post("/api/v1/mailboxes", json=_imap_box(dovecot, active=False))
        assert imap.status == 201, imap.body
        assert imap.json["unknown_sender"] is None
        tried = await admin.post(f"/api/v1/mailboxes/{imap.json['id']}/test")
        assert tried.json["ok"] is True, tried.body
        assert "opened INBOX" in tried.json["message"]
        await admin.patch(f"/api/v1/mailboxes/{imap.json['id']}", json={"password": "wrong"})
        failed = (await admin.post(f"/api/v1/mailboxes/{imap.json['id']}/test")).json
        assert failed["ok"] is False and "refused the login" in failed["message"]
        assert "wrong" not in failed["message"]

        direct = await admin.post("/api/v1/mailboxes", json={
            "name": "Direct", "kind": "lmtp", "address": "help@deskmate.test",
            "unknown_sender": "create"})
        assert (direct.status, direct.json["unknown_sender"]) == (201, "create")
        lmtp = (await admin.post(f"/api/v1/mailboxes/{direct.json['id']}/test")).json
        assert lmtp["ok"] is True and str(port) in lmtp["message"]
        await asyncio.to_thread(_send, port, _mail(1, "new@example.test"),
                                ["help@deskmate.test"], lmtp=True)
        [made] = (await admin.get("/api/v1/mail/inbound")).json["items"]
        assert (made["sender"], made["outcome"]) == ("new@example.test", "ticket")

        changed = await admin.patch(f"/api/v1/mailboxes/{direct.json['id']}",
                                    json={"unknown_sender": "hold"})
        assert changed.json["unknown_sender"] == "hold"
        await asyncio.to_thread(_send, port, _mail(2, "stranger@example.test"),
                                ["help@deskmate.test"], lmtp=True)
        [held] = (await admin.get("/api/v1/mail/inbound?outcome=held")).json["items"]
        read = (await admin.get(f"/api/v1/mail/inbound/{held['id']}")).json
        assert (read["sender"], read["subject"], read["outcome"]) == (
            "stranger@example.test", "Problem number 2", "held")
        assert "Details of problem 2." in read["text"]
        rick = (await admin.get("/api/v1/users?q=rick")).json["items"][0]
        nobody = await admin.post(f"/api/v1/mail/inbound/{held['id']}/accept?requester_id=999")
        assert (nobody.status, nobody.json["error"]["field"]) == (422, "requester_id")
        taken = await admin.post(f"/api/v1/mail/inbound/{held['id']}/accept?requester_id="
                                 f"{rick['id']}")
        assert (taken.status, taken.json["outcome"]) == (200, "ticket"), taken.body
        requester = await server.db.read(lambda c: c.execute(sa.select(
            tickets.c.requester_id).where(tickets.c.id == taken.json["ticket_id"])).scalar())
        assert requester == rick["id"]

        await server.create_user(admin, "tina", "technician")
        tina = await server.login("tina")
        await admin.patch(f"/api/v1/users/{rick['id']}", json={"password": PASSWORD})
        requester_client = await server.login("rick")
        assert (await tina.get("/api/v1/mailboxes")).status == 403
        assert (await tina.post(f"/api/v1/mailboxes/{imap.json['id']}/test")).status == 403
        assert (await tina.patch(f"/api/v1/mailboxes/{imap.json['id']}",
                                 json={"active": True})).status == 403
        assert (await tina.delete("/api/v1/mail/failing-addresses/x@example.test")).status == 403
        for path in ("/api/v1/mail/inbound", f"/api/v1/mail/inbound/{held['id']}",
                     "/api/v1/mail/failing-addresses", "/api/v1/mailboxes"):
            assert (await requester_client.get(path)).status == 403, path
    finally:
        await server.close()
