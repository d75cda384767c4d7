"""Mail in the recipient's language and time zone, through a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from server.mail import compose
from server.sla import engine
from tests.support.server import ADMIN_PASSWORD, PASSWORD, start_server
from tests.support.smtp import SmtpSink

TICKET = compose.Ticket(id=7, number="INC-000007", title="Printer")
AT = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


async def test_an_indonesian_requester_gets_indonesian_mail(tmp_path: Path,
                                                            sink: SmtpSink) -> None:
    """A requester whose language is Indonesian gets the receipt and a reply in Indonesian,
    with times in the server's default time zone."""
    server = await start_server(tmp_path / "data", **sink.settings(),
                                default_time_zone="Asia/Jakarta")
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        made = await admin.post("/api/v1/users", json={
            "username": "rina", "display_name": "Rina", "role": "requester",
            "password": PASSWORD, "email": "rina@example.test"})
        assert made.status == 201, made.body
        rina = await server.login("rina")
        chosen = await rina.patch(f"/api/v1/users/{made.json['id']}", json={"language": "id"})
        assert chosen.status == 200, chosen.body
        created = await rina.post("/api/v1/tickets", json={
            "title": "Printer macet", "description": "Kertas tersangkut."})
        assert created.status == 201, created.body
        [receipt] = await sink.wait_for(1)
        text = _text(receipt)
        assert receipt["To"] == "rina@example.test"
        assert text.startswith("Halo Rina,\n")
        assert "Kami telah menerima tiket Anda INC-000001" in text
        assert "Anda menulis:\n  Kertas tersangkut." in text
        assert "Waktu Indonesia Barat" in text  # the server's default time zone, in Indonesian
        assert "Pesan ini dikirim secara otomatis oleh Deskmate." in text
        assert "We have received" not in text and "Hello" not in text
        reply = await admin.post(f"/api/v1/tickets/{created.json['id']}/comments",
                                 json={"body": "Sudah kami perbaiki.", "internal": False})
        assert reply.status == 201, reply.body
        mails = await sink.wait_for(2)
        assert "membalas tiket Anda INC-000001 pada" in _text(mails[1])
    finally:
        await server.close()


def test_times_follow_the_recipients_language_and_time_zone() -> None:
    """The same moment reads in each recipient's language and own time zone."""
    english = compose.Recipient(id=1, name="Tina", email="t@x.test", staff=True)
    jakarta = compose.Recipient(id=2, name="Rina", email="r@x.test", staff=False,
                                language="id", time_zone="Asia/Jakarta")
    tina = compose.render("assigned", TICKET, english, base_url="https://d.test",
                          domain="d.test", actor="Ana", at=AT)
    rina = compose.render("resolved", TICKET, jakarta, base_url="https://d.test",
                          domain="d.test", actor="Ana", at=AT, text="Diganti.")
    assert "Ana assigned ticket INC-000007 to you on Monday, December 7, 2026, 9:05" in tina.body
    assert "Coordinated Universal Time" in tina.body
    assert ("Tiket Anda INC-000007 telah diselesaikan oleh Ana pada Senin, 07 Desember 2026, "
            "16.05 Waktu Indonesia Barat.") in rina.body
    assert "Penyelesaian:\n  Diganti." in rina.body
    assert rina.subject == tina.subject == "[#INC-000007] Printer"


def test_server_default_language_applies_to_users_without_one() -> None:
    """A recipient who chose no language reads the server's default_language."""
    nobody = compose.Recipient(id=3, name="Budi", email="b@x.test", staff=False)
    mail = compose.render("received", TICKET, nobody, base_url="https://d.test",
                          domain="d.test", at=AT, default_language="id",
                          default_time_zone="Asia/Makassar")
    assert mail.body.startswith("Halo Budi,\n") and "Waktu Indonesia Tengah" in mail.body


def test_sla_escalation_mail_names_the_clock_in_the_readers_language() -> None:
    """An escalation's notice ("resolution breached") is translated for its reader."""
    notice = engine.notice_text(engine.Fired(ticket_id=7, number="INC-000007", requester_id=1,
                                             clock="resolution", event="breach", percent=None,
                                             notify=True))
    staff = compose.Recipient(id=4, name="Tina", email="t@x.test", staff=True, language="id")
    mail = compose.render("sla", TICKET, staff, base_url="https://d.test", domain="d.test",
                          at=AT, text=notice)
    assert "Eskalasi SLA pada tiket INC-000007 (" in mail.body
    assert mail.body.split("\n\n")[1].endswith("): penyelesaian terlampaui")
    assert str(notice) == "resolution breached"
