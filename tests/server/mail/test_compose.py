"""Rendering notifications and building messages (pure)."""

from __future__ import annotations

import datetime as dt

from server.mail import compose, outbox

TICKET = compose.Ticket(id=7, number="INC-000007", title="Printer\r\nBcc: evil@x.test on fire")
RICK = compose.Recipient(id=3, name="Rick", email="rick@example.test", staff=False)
TINA = compose.Recipient(id=2, name="Tina", email="tina@example.test", staff=True)


def _message(mail: compose.Mail) -> compose.EmailMessage:
    return compose.message(mail_from="Desk <desk@example.org>", to_addr=mail.to_addr,
                           subject=mail.subject, body=mail.body, message_id=mail.message_id,
                           thread_id=mail.thread_id)


def test_subject_is_one_line_with_the_ticket_number() -> None:
    """A title's line breaks cannot start a new header: the subject is one line."""
    assert compose.subject(TICKET) == "[#INC-000007] Printer Bcc: evil@x.test on fire"
    msg = _message(compose.render("received", TICKET, RICK, base_url="https://desk.test",
                                  domain="example.org", first=True))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "[#INC-000007] Printer Bcc: evil@x.test on fire"


def test_the_first_mail_roots_the_thread_and_later_ones_refer_to_it() -> None:
    """Every mail of a ticket refers to the receipt's Message-ID; each has its own id."""
    first = compose.render("received", TICKET, RICK, base_url="https://d.test",
                           domain="example.org", first=True)
    reply = compose.render("reply", TICKET, RICK, base_url="https://d.test",
                           domain="example.org", actor="Tina", text="Try again.")
    assert first.message_id == first.thread_id == "<ticket-7.inc-000007@example.org>"
    msg = _message(reply)
    assert msg["In-Reply-To"] == msg["References"] == first.message_id
    assert msg["Message-ID"].endswith("@example.org>") and msg["Message-ID"] != first.message_id
    assert _message(first)["In-Reply-To"] is None


def test_links_point_into_the_console_area_of_the_reader() -> None:
    """Requesters get the portal link, staff the desk link; neither carries a token."""
    for who, area in ((RICK, "portal"), (TINA, "desk")):
        mail = compose.render("assigned", TICKET, who, base_url="https://desk.test/",
                              domain="example.org", actor="Admin")
        assert f"https://desk.test/#/{area}/tickets/7\n" in mail.body
        assert "?" not in mail.body.split("View the ticket: ")[1].split("\n")[0]


def test_long_comments_are_cut_with_a_pointer_to_the_console() -> None:
    """A comment longer than BODY_MAX is cut; the mail says the rest is in the console."""
    mail = compose.render("reply", TICKET, RICK, base_url="https://d.test",
                          domain="example.org", text="x" * (compose.BODY_MAX + 10))
    assert "the rest is in the console" in mail.body
    assert len(mail.body) < compose.BODY_MAX + 1_000


def test_sender_domain_and_addresses() -> None:
    """The Message-ID domain comes from mail_from; header-breaking addresses are refused."""
    assert compose.domain_of("Deskmate <desk@example.org>") == "example.org"
    assert compose.valid_address("a@example.org")
    assert not compose.valid_address("a@example.org\r\nBcc: b@x.test")
    assert not compose.valid_address("nobody")


def test_backoff_doubles_up_to_an_hour() -> None:
    """Retries wait 30 s, 60 s, 120 s ... and never more than an hour."""
    waits = [outbox.backoff(n) for n in range(1, 10)]
    assert waits[:3] == [dt.timedelta(seconds=s) for s in (30, 60, 120)]
    assert max(waits) == dt.timedelta(hours=1)
