"""Every message of the corpus (tests/server/mail/corpus) ends where it should: the right
ticket or comment, or refused, held or ignored for the stated reason."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import attachments, ticket_events, tickets, users, utcnow
from server.keys import MAIL_SENDER
from server.mail.inbound.ingest import Result, Route
from server.mail.inbound.service import MAIL_IN
from server.mail.inbound.tables import mail_failing_addresses, mail_inbound
from server.mail.tables import mail_outbox
from server.tickets import creation, timeline
from server.tickets.timeline import events_of
from server.users import store as user_store
from tests.support.server import RunningServer, start_server
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Desk:
    """A running server with Rick's printer ticket, a reply Tina sent him by mail, and people."""

    server: RunningServer
    ids: dict[str, int]
    ticket_id: int
    number: str
    root_id: str
    reply_id: str

    def raw(self, name: str) -> bytes:
        data = (CORPUS / name).read_bytes()
        return (data.replace(b"{NUMBER}", self.number.encode())
                .replace(b"{ROOT_ID}", self.root_id.encode())
                .replace(b"{REPLY_ID}", self.reply_id.encode()))

    async def take(self, raw: bytes) -> Result:
        return await self.server.app[MAIL_IN].intake.take(raw, Route())

    async def query(self, fn: Callable[[Any], Any]) -> Any:
        return await self.server.db.read(fn)


async def make_desk(data: Path, sink: SmtpSink, **settings: Any) -> Desk:
    """Start a server with mail on, people, and a ticket that has a mailed staff reply."""
    server = await start_server(data, **sink.settings(), **settings)

    def setup(conn: Any) -> tuple[dict[str, int], int, str, str, str]:
        now = utcnow()
        ids = {name: user_store.create_user(
            conn, username=name, display_name=display, role=role, email=addr,
            password_hash=None, now=now) for name, display, role, addr in (
            ("rick", "Rick Requester", "requester", "rick@example.test"),
            ("tina", "Tina Tech", "technician", "tina@example.test"),
            ("mallory", "Mallory", "requester", "mallory@example.test"))}
        ticket_id = creation.create_ticket(conn, creation.NewTicket(
            kind="incident", title="Printer jams on tray 2", description="It jams.",
            impact=3, urgency=3, priority=5, category_id=None, requester_id=ids["rick"],
            assignee_id=ids["tina"], group_id=None, device_ids=[], tags=[], source="portal"),
            actor_id=ids["rick"], now=now)
        timeline.add_comment(conn, ticket_id, actor_id=ids["tina"], body="Please reset it.",
                             public=True, now=now)
        number = conn.execute(sa.select(tickets.c.number)
                              .where(tickets.c.id == ticket_id)).scalar_one()
        reply = conn.execute(sa.select(mail_outbox.c.message_id, mail_outbox.c.thread_id)
                             .where(mail_outbox.c.reason == "reply")).one()
        return ids, ticket_id, number, reply.thread_id, reply.message_id

    ids, ticket_id, number, root_id, reply_id = await server.db.write(setup)
    return Desk(server, ids, ticket_id, number, root_id, reply_id)


@pytest.fixture
async def desk(tmp_path: Path, sink: SmtpSink) -> AsyncIterator[Desk]:
    """A desk that holds mail from unknown senders (the default)."""
    d = await make_desk(tmp_path / "data", sink)
    try:
        yield d
    finally:
        await d.server.close()


def _events(ticket_id: int) -> Callable[[Any], list[Any]]:
    return lambda c: list(c.execute(sa.select(ticket_events).where(
        ticket_events.c.ticket_id == ticket_id).order_by(ticket_events.c.id)))


def _ticket(ticket_id: int) -> Callable[[Any], Any]:
    return lambda c: c.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).one()


def _files(ticket_id: int) -> Callable[[Any], list[Any]]:
    return lambda c: list(c.execute(sa.select(attachments).where(
        attachments.c.ticket_id == ticket_id).order_by(attachments.c.id)))


async def _comment(desk: Desk, result: Result, author: str) -> Any:
    assert (result.outcome, result.ticket_id) == ("comment", desk.ticket_id), result
    [event] = [e for e in await desk.query(_events(desk.ticket_id)) if e.id == result.event_id]
    assert (event.type, event.public, event.actor_id) == ("comment", True, desk.ids[author])
    return event


REPLIES = {
    # file: (the comment's text, what must not be in it, what the collapsed original holds)
    "outlook_reply.eml": ("The printer works again after the reset, thank you.\n\nRick",
                          "Tina replied", "Sent: Monday"),
    "gmail_reply.eml": ("Still jamming on tray 2, see the photo I sent earlier.", ">",
                        "wrote:"),
    "apple_reply.eml": ("Tried again with new paper: no more jams.", "different paper",
                        "Please try different paper."),
    "thunderbird_reply.eml": ("Which tray should I use instead?", "Accounting",
                              "Accounting, 3rd floor"),
    "phone_reply.eml": ("Ok thanks, I'll try tomorrow\N{THUMBS UP SIGN}", "Sent from",
                        "Sent from my iPhone"),
}


@pytest.mark.parametrize("name", sorted(REPLIES))
async def test_replies_become_comments_without_quotes(desk: Desk, name: str) -> None:
    """A reply from a mail client becomes a public comment with only what was written now;
    the quoted history and signature are kept apart as the collapsed original."""
    text, absent, original = REPLIES[name]
    event = await _comment(desk, await desk.take(desk.raw(name)), "rick")
    assert event.body == text
    assert absent not in event.body
    assert original in event.changes["mail"]["original"]
    # The desk can download the message as it arrived.
    raw = [f for f in await desk.query(_files(desk.ticket_id)) if f.event_id is not None
           and f.content_type == "message/rfc822"]
    assert raw and not raw[-1].public
    assert event.changes["mail"]["raw_event_id"] == raw[-1].event_id  # linked from the comment


async def test_a_staff_reply_by_mail_is_a_public_reply(desk: Desk) -> None:
    """A technician answering the notification by mail writes a public reply as themselves."""
    event = await _comment(desk, await desk.take(desk.raw("staff_reply.eml")), "tina")
    assert event.body == "I will come by at 3 pm."
    # What staff quoted stays desk-only (in the raw message the comment links to).
    assert set((event.changes or {})["mail"]) == {"raw_event_id"}


async def test_the_requester_sees_what_their_mail_quoted(desk: Desk) -> None:
    """The collapsed original of a requester's mailed reply is in their own timeline."""
    await desk.take(desk.raw("gmail_reply.eml"))
    events = await desk.query(lambda c: events_of(c, desk.ticket_id, public_only=True))
    [mailed] = [e for e in events if e.changes and "mail" in e.changes]
    assert "wrote:" in mailed.changes["mail"]["original"]


NEW_TICKETS = {
    # file: (title, a text the description holds, what it must not hold)
    "new_plain.eml": ("VPN drops every ten minutes", "the VPN drops every ten minutes", None),
    "latin1.eml": ("Bildschirm fl\u00fcckert nach dem Update", "Gr\u00fc\u00dfe, Ren\u00e9",
                   None),
    "cp1252.eml": ("Invoice \u201cQ4\u201d costs \u20ac200", "\u201cQ4 licence\u201d costs "
                   "\u20ac200 \u2013 is", None),
    "iso2022jp.eml": ("\u30d7\u30ea\u30f3\u30bf\u304c\u52d5\u304d\u307e\u305b\u3093",
                      "\u30d7\u30ea\u30f3\u30bf\u304c\u52d5\u304d\u307e\u305b\u3093\u3002",
                      None),
    "html_only.eml": ("Cannot open the shared folder", "_access denied_", "alert"),
    "malformed.eml": ("Broken caf\ufffd message", "laptop fan is loud",
                      None),
    "forwarded.eml": ("Your licence expires soon", "Can you renew this for me?", None),
    "alternative_inline.eml": ("Error dialog on start-up", "This dialog shows", None),
}


@pytest.mark.parametrize("name", sorted(NEW_TICKETS))
async def test_new_mail_becomes_a_ticket(desk: Desk, name: str) -> None:
    """A new message from a known sender opens a ticket with source email, its title and
    text decoded from whatever charset and encoding it came in."""
    title, text, absent = NEW_TICKETS[name]
    result = await desk.take(desk.raw(name))
    assert result.outcome == "ticket" and result.ticket_id != desk.ticket_id, result
    ticket = await desk.query(_ticket(result.ticket_id))
    assert (ticket.title, ticket.source, ticket.requester_id) == (title, "email",
                                                                  desk.ids["rick"])
    assert text in ticket.description
    if absent:
        assert absent not in ticket.description and "<" not in ticket.description


async def test_attached_and_inline_files_are_kept(desk: Desk) -> None:
    """A forwarded message is attached as .eml and an inline image as an image, beside the
    raw message (for the desk only)."""
    forwarded = await desk.take(desk.raw("forwarded.eml"))
    inline = await desk.take(desk.raw("alternative_inline.eml"))
    files = {(f.filename, f.content_type, f.public)
             for f in await desk.query(_files(forwarded.ticket_id))}
    assert files == {("Your licence expires soon.eml", "message/rfc822", True),
                     ("message.eml", "message/rfc822", False)}
    files = {(f.filename, f.content_type, f.public)
             for f in await desk.query(_files(inline.ticket_id))}
    assert files == {("screenshot.png", "image/png", True),
                     ("message.eml", "message/rfc822", False)}


NOT_TAKEN = {
    # file: (outcome, a text of the recorded reason)
    "dsn_bounce.eml": ("bounce", "delivery status notification"),
    "out_of_office.eml": ("ignored", "Auto-Submitted: auto-replied"),
    "mailing_list.eml": ("held", "mailing-list"),
    "bulk.eml": ("held", "Precedence: bulk"),
    "own_address.eml": ("ignored", "Deskmate's own address"),
    "rfc2047_unknown.eml": ("held", "unknown sender"),
}


@pytest.mark.parametrize("name", sorted(NOT_TAKEN))
async def test_machine_mail_and_strangers_are_not_taken_in(desk: Desk, name: str) -> None:
    """Bounces, auto-replies, list and bulk mail, Deskmate's own mail and (by default)
    unknown senders make no ticket or comment and no mail; the reason is recorded."""
    before = await desk.query(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(ticket_events)).scalar_one())
    mails = await desk.query(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(mail_outbox)).scalar_one())
    outcome, reason = NOT_TAKEN[name]
    result = await desk.take(desk.raw(name))
    assert (result.outcome, result.ticket_id) == (outcome, None)
    assert reason in result.reason
    row = await desk.query(lambda c: c.execute(sa.select(mail_inbound)).all()[-1])
    assert (row.outcome, row.reason) == (outcome, result.reason)
    assert await desk.query(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(ticket_events)).scalar_one()) == before
    assert await desk.query(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(mail_outbox)).scalar_one()) == mails


async def test_a_bounce_marks_the_address_failing(desk: Desk) -> None:
    """The DSN's failed recipient is recorded as failing."""
    await desk.take(desk.raw("dsn_bounce.eml"))
    rows = await desk.query(lambda c: c.execute(sa.select(mail_failing_addresses)).all())
    assert [r.address for r in rows] == ["gone@example.test"]


@pytest.mark.parametrize("name", ["forged_subject.eml", "forged_token.eml"])
async def test_a_stranger_cannot_post_into_someone_elses_ticket(desk: Desk, name: str) -> None:
    """Mail naming Rick's ticket (by subject, or by a made-up token) from someone who may
    not see it opens a ticket of their own instead."""
    result = await desk.take(desk.raw(name))
    assert result.outcome == "ticket" and result.ticket_id != desk.ticket_id
    ticket = await desk.query(_ticket(result.ticket_id))
    assert ticket.requester_id == desk.ids["mallory"]
    events = await desk.query(_events(desk.ticket_id))
    assert all(e.actor_id != desk.ids["mallory"] for e in events)


async def test_a_second_delivery_creates_nothing(desk: Desk) -> None:
    """The same message taken in twice (a retry) is recognised by its Message-ID."""
    first = await desk.take(desk.raw("new_plain.eml"))
    again = await desk.take(desk.raw("new_plain.eml"))
    assert (again.duplicate, again.ticket_id) == (True, first.ticket_id)
    count = await desk.query(lambda c: c.execute(sa.select(sa.func.count()).select_from(
        tickets).where(tickets.c.source == "email")).scalar_one())
    assert count == 1


async def test_unknown_sender_gets_a_requester_account(tmp_path: Path, sink: SmtpSink) -> None:
    """With mail_in_unknown_sender = create, a stranger's mail makes a requester named
    from the RFC 2047 encoded From header, and their ticket."""
    d = await make_desk(tmp_path / "data", sink, mail_in_unknown_sender="create")
    try:
        result = await d.take(d.raw("rfc2047_unknown.eml"))
        assert result.outcome == "ticket"
        ticket = await d.query(_ticket(result.ticket_id))
        user = await d.query(lambda c: c.execute(sa.select(users).where(
            users.c.id == ticket.requester_id)).one())
        assert (user.display_name, user.email, user.role, user.password_hash) == (
            "\u00c5sa \u00d8sterg\u00e5rd", "asa@newcomer.test", "requester", None)
        assert ticket.title == "New laptop for \u00c5sa"
    finally:
        await d.server.close()


async def test_unknown_sender_is_refused_once(tmp_path: Path, sink: SmtpSink) -> None:
    """With mail_in_unknown_sender = refuse, the stranger gets one automatic answer a day,
    threaded to their message, and no ticket."""
    d = await make_desk(tmp_path / "data", sink, mail_in_unknown_sender="refuse")
    try:
        first = await d.take(d.raw("rfc2047_unknown.eml"))
        second = await d.take(d.raw("rfc2047_unknown.eml").replace(b"<rfc2047-1@", b"<x@"))
        assert (first.outcome, second.outcome) == ("refused", "refused")
        await eventually(lambda: bool(sink.to("asa@newcomer.test")))
        [refusal] = sink.to("asa@newcomer.test")
        assert refusal["To"] == "asa@newcomer.test"
        assert refusal["In-Reply-To"] == "<rfc2047-1@newcomer.test>"
        assert refusal["Auto-Submitted"].startswith("auto-")
        rows = await d.query(lambda c: c.execute(sa.select(mail_outbox).where(
            mail_outbox.c.reason == "refused")).all())
        assert len(rows) == 1
    finally:
        await d.server.close()


async def test_a_huge_attachment_is_left_out_and_said_so(tmp_path: Path, sink: SmtpSink) -> None:
    """An attachment over attachment_max_bytes is not kept; the ticket says which and why."""
    d = await make_desk(tmp_path / "data", sink, attachment_max_bytes=100_000)
    try:
        from email.message import EmailMessage

        msg = EmailMessage()
        msg["From"] = "Rick Requester <rick@example.test>"
        msg["To"] = "desk@deskmate.test"
        msg["Subject"] = "Crash dump"
        msg["Message-ID"] = "<huge-1@example.test>"
        msg.set_content("The dump is attached.")
        msg.add_attachment(b"PK\x03\x04" + b"\x00" * 3_000_000, maintype="application",
                           subtype="zip", filename="dump.zip")
        result = await d.take(msg.as_bytes())
        assert result.outcome == "ticket"
        ticket = await d.query(_ticket(result.ticket_id))
        assert "dump.zip (3000004 bytes) is over the attachment limit" in ticket.description
        files = [f.filename for f in await d.query(_files(result.ticket_id))]
        assert files == ["message.eml"]
    finally:
        await d.server.close()


@pytest.mark.expect_error_log("could not be taken in")
async def test_a_message_that_cannot_be_written_is_held(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """When writing a message fails (a fault injected here), it is held for the desk rather
    than fetched and failing for ever; the desk can accept it later."""
    from server.mail.inbound import ingest

    def broken(*_args: Any, **_kw: Any) -> Result:
        raise RuntimeError("injected fault")

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "take_in", broken)
        result = await desk.take(desk.raw("new_plain.eml"))
    assert (result.outcome, result.reason) == ("held", "could not be taken in: RuntimeError")
    assert (await desk.take(desk.raw("new_plain.eml"))).duplicate


async def test_the_reply_to_token_alone_threads_a_reply(tmp_path: Path, sink: SmtpSink) -> None:
    """With mail_reply_address, ticket mails carry the signed token in Reply-To; a reply
    to that address threads to its ticket without In-Reply-To or a number in the subject."""
    d = await make_desk(tmp_path / "data", sink, mail_reply_address="help@deskmate.test")
    try:
        await d.server.app[MAIL_SENDER].run_pass()
        # The background sender may have sent it too, racing this pass: any copy will do.
        reply_mail = next(m for m in sink.to("rick@example.test")
                          if m["Message-ID"] == d.reply_id)
        reply_to = reply_mail["Reply-To"]
        assert reply_to.startswith("help+dm-") and reply_to.endswith("@deskmate.test")
        raw = (f"From: rick@example.test\r\nTo: {reply_to}\r\nSubject: my answer\r\n"
               "Message-ID: <token-only@example.test>\r\n\r\nDone, thanks.\r\n").encode()
        await _comment(d, await d.take(raw), "rick")
    finally:
        await d.server.close()
