"""The pure parts of e-mail in: reply tokens, subject numbers, loop rules, HTML and quotes."""

from __future__ import annotations

import pytest

from server.mail.inbound import content, loops, parse, threads

KEY = b"k" * 32


def test_a_signed_token_names_its_ticket_and_user() -> None:
    """A token made with the key verifies, from a Message-ID or a plus-address."""
    mid = threads.message_id(KEY, 42, 7, "desk.test")
    assert threads.verified(KEY, [mid]) == (42, 7)
    address = threads.reply_address("help@desk.test", mid)
    assert address is not None and address.startswith("help+dm-42-7-")
    assert threads.verified(KEY, [address]) == (42, 7)


def test_a_changed_or_foreign_token_names_nothing() -> None:
    """Another ticket number with the same MAC, or another key, does not verify."""
    mid = threads.message_id(KEY, 42, 7, "desk.test")
    assert threads.verified(KEY, [mid.replace("dm-42-", "dm-43-")]) is None
    assert threads.verified(b"x" * 32, [mid]) is None
    assert threads.verified(KEY, ["<dm-1-2-aaaaaaaaaaaaaaaa-00@desk.test>"]) is None


@pytest.mark.parametrize(("subject", "number"), [
    ("Re: [#INC-000123] Printer", "INC-000123"),
    ("AW: [#req-42] x", "REQ-000042"),
    ("question about INC-000007", "INC-000007"),
    ("Re: hello", None),
])
def test_ticket_numbers_are_read_from_subjects(subject: str, number: str | None) -> None:
    """The number in brackets, or a bare INC/REQ/PRB number, is found and normalised."""
    assert threads.subject_number(subject) == number


def _msg(headers: str, body: str = "hi") -> parse.Parsed:
    return parse.parse(f"{headers}\nMessage-ID: <a@b.test>\n\n{body}\n".encode())


@pytest.mark.parametrize(("headers", "kind"), [
    ("From: a@b.test\nAuto-Submitted: auto-replied", "auto_reply"),
    ("From: a@b.test\nAuto-Submitted: no", "person"),
    ("From: a@b.test\nPrecedence: junk", "bulk"),
    ("From: a@b.test\nList-Unsubscribe: <mailto:x@l.test>", "list"),
    ("From: a@b.test\nReturn-Path: <>", "auto_reply"),
    ("From: MAILER-DAEMON@b.test\nReturn-Path: <>", "bounce"),
    ("From: a@b.test\nX-Autoreply: yes", "auto_reply"),
    ("From: a@b.test\nSubject: Out of Office: back Monday", "auto_reply"),
    ("From: Desk <desk@own.test>", "own"),
])
def test_machine_mail_is_recognised(headers: str, kind: str) -> None:
    """RFC 3834 headers, list and bulk markers, null senders and own addresses classify."""
    verdict = loops.classify(_msg(headers), own_addresses=frozenset({"desk@own.test"}))
    assert verdict.kind == kind
    assert verdict.may_auto_reply == (kind == "person")


def test_a_sender_can_ask_for_no_auto_reply() -> None:
    """X-Auto-Response-Suppress: All keeps a person's mail from being answered automatically."""
    verdict = loops.classify(_msg("From: a@b.test\nX-Auto-Response-Suppress: All"),
                             own_addresses=frozenset())
    assert (verdict.kind, verdict.may_auto_reply) == ("person", False)


def test_html_becomes_text_without_anything_that_runs() -> None:
    """Scripts, styles, event handlers and javascript: links leave no trace."""
    text = content.html_to_text(
        "<style>p{}</style><script>alert(1)</script><p onclick='alert(2)'>Hi <b>you</b></p>"
        "<a href='javascript:alert(3)'>x</a><a href='https://ok.test/'>ok</a>"
        "<ol><li>one</li></ol>")
    assert "alert" not in text and "javascript" not in text and "<" not in text
    assert "Hi **you**" in text and "[ok](https://ok.test/)" in text and "1. one" in text


def test_a_reply_without_quotes_is_kept_whole() -> None:
    """Text without quoted history or signature has nothing cut."""
    assert content.split_reply("Just this.\n\nSecond paragraph.") == content.Reply(
        "Just this.\n\nSecond paragraph.", "")


def test_parsing_never_raises_on_garbage() -> None:
    """Bytes that are no mail at all still parse, keyed by their digest."""
    msg = parse.parse(b"\x00\xff garbage without headers \r\n\r\n\xfe")
    assert msg.key.startswith("<sha256:") and msg.sender == ""
