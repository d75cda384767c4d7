"""No loops, no storms: two Deskmates that mail each other go quiet; bounced addresses are
not mailed; one sender cannot flood the desk."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import tickets, utcnow
from server.keys import MAIL_SENDER
from server.mail.inbound.ingest import Route
from server.mail.inbound.service import MAIL_IN
from server.mail.tables import mail_outbox
from server.tickets import timeline
from server.users import store as user_store
from tests.support.server import ADMIN_PASSWORD, RunningServer, start_server
from tests.support.smtp import SmtpSink

from .test_mail_in_corpus import make_desk


async def _instance(data: Path, sink: SmtpSink, own: str, peer: str,
                    unknown: str) -> RunningServer:
    """A Deskmate whose desk address is ``own``, with a requester who has the peer's."""
    server = await start_server(data, smtp_host=sink.host, smtp_port=sink.port,
                                smtp_security="none", mail_from=f"Deskmate <{own}>",
                                mail_in_unknown_sender=unknown)

    def setup(conn: Any) -> None:
        user_store.create_user(conn, username="peer", display_name="Peer desk",
                               role="requester", email=peer, password_hash=None, now=utcnow())

    await server.db.write(setup)
    return server


async def _deliver(server: RunningServer) -> None:
    await server.app[MAIL_SENDER].run_pass()


@pytest.mark.parametrize("unknown", ["create", "refuse"])
@pytest.mark.parametrize("strip", [False, True], ids=["headers-kept", "headers-stripped"])
async def test_two_deskmates_answering_each_other_go_quiet(
        tmp_path: Path, unknown: str, strip: bool) -> None:
    """Mail relayed between two instances (even by a relay that strips Auto-Submitted)
    stops after a few hops: receipts are machine mail, own and known threads take replies
    as comments, which mail nobody back."""
    sinks = {"a": SmtpSink(), "b": SmtpSink()}
    for sink in sinks.values():
        await sink.start()
    a = await _instance(tmp_path / "a", sinks["a"], "desk@a.test", "desk@b.test", unknown)
    b = await _instance(tmp_path / "b", sinks["b"], "desk@b.test", "desk@a.test", unknown)
    try:
        first = EmailMessage()
        first["From"] = "desk@b.test"
        first["To"] = "desk@a.test"
        first["Subject"] = "Disk full on the file server"
        first["Message-ID"] = "<start@b.test>"
        first.set_content("The disk is full.")
        await a.app[MAIL_IN].intake.take(first.as_bytes(), Route())
        hops = 0
        seen = {"a": 0, "b": 0}
        for _round in range(10):
            moved = 0
            for name, source, target in (("a", a, b), ("b", b, a)):
                await _deliver(source)
                new = sinks[name].messages[seen[name]:]
                seen[name] = len(sinks[name].messages)
                for message in new:
                    if strip:
                        del message["Auto-Submitted"]
                    await target.app[MAIL_IN].intake.take(message.as_bytes(), Route())
                    moved += 1
            hops += moved
            if moved == 0:
                break
        else:
            pytest.fail("the two instances were still mailing each other after 10 rounds")
        assert hops <= 6  # a few mails, then silence
    finally:
        for server in (a, b):
            await server.close()
        for sink in sinks.values():
            await sink.stop()


async def test_a_bounced_address_is_not_mailed_until_cleared(
        tmp_path: Path, sink: SmtpSink) -> None:
    """After a DSN for Rick's address, his mails fail without being sent; once an admin
    clears the address, mail reaches him again."""
    desk = await make_desk(tmp_path / "data", sink)
    server = desk.server
    try:
        await _deliver(server)
        sent = len(sink.messages)
        dsn = desk.raw("dsn_bounce.eml").replace(b"gone@example.test", b"rick@example.test")
        result = await desk.take(dsn)
        assert result.failing == ("rick@example.test",)

        def reply(conn: Any) -> None:
            timeline.add_comment(conn, desk.ticket_id, actor_id=desk.ids["tina"],
                                 body="Any news?", public=True, now=utcnow())

        await server.db.write(reply)
        await _deliver(server)
        assert len(sink.messages) == sent
        failed = await server.db.read(lambda c: c.execute(sa.select(mail_outbox).where(
            mail_outbox.c.status == "failed")).all())
        assert [r.last_error for r in failed] == [
            "the address bounced (cleared by an admin, or by a new address)"]
        admin = await server.login("admin", ADMIN_PASSWORD)
        listed = (await admin.get("/api/v1/mail/failing-addresses")).json["items"]
        assert [i["address"] for i in listed] == ["rick@example.test"]
        resp = await admin.delete("/api/v1/mail/failing-addresses/rick@example.test")
        assert resp.status == 204
        await server.db.write(reply)
        await _deliver(server)
        assert [m["To"] for m in sink.messages[sent:]] == ["rick@example.test"]
    finally:
        await server.close()


async def test_one_sender_cannot_flood_the_desk(tmp_path: Path, sink: SmtpSink) -> None:
    """Past mail_in_rate_per_hour, a sender's messages are held instead of becoming
    tickets (and mailing receipts)."""
    desk = await make_desk(tmp_path / "data", sink, mail_in_rate_per_hour=3)
    try:
        outcomes = []
        for n in range(5):
            msg = EmailMessage()
            msg["From"] = "rick@example.test"
            msg["To"] = "desk@deskmate.test"
            msg["Subject"] = f"Flood {n}"
            msg["Message-ID"] = f"<flood-{n}@example.test>"
            msg.set_content("again")
            outcomes.append((await desk.take(msg.as_bytes())).outcome)
        assert outcomes == ["ticket", "ticket", "ticket", "held", "held"]
        count = await desk.query(lambda c: c.execute(sa.select(sa.func.count()).select_from(
            tickets).where(tickets.c.title.like("Flood %"))).scalar_one())
        assert count == 3
    finally:
        await desk.server.close()
