"""Parse an incoming message into plain values (pure): headers decoded, body, attachments.

Parsing uses the standard library's ``email`` package with ``policy.default``, which decodes
RFC 2047 encoded words in headers and the body's charset. Real mail is often broken: a
header that cannot be parsed, an unknown charset or a missing boundary never raises here;
the value falls back to what can be read (bytes decoded as Latin-1 as a last resort).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any

MAX_HEADER = 2000  # characters kept of one header value
MAX_REFERENCES = 50  # Message-IDs kept of References (the newest ones)
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Attachment:
    """A file carried by a message (attached, or an inline image)."""

    filename: str
    declared_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What the rest of ingestion needs of one message."""

    message_id: str | None
    key: str  # the de-duplication key: the Message-ID, or a digest of the message
    sender: str  # lower-case address of From ('' when there is none)
    sender_name: str
    subject: str
    to: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the body as text ('' when none); HTML-only mail is converted later
    html: str | None  # the HTML body, when the message has one and no plain text
    attachments: tuple[Attachment, ...]
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> value
    content_type: str = "text/plain"
    report_type: str | None = None  # multipart/report's report-type (a DSN: delivery-status)
    failed_recipients: tuple[str, ...] = ()  # addresses a DSN reports as failed
    defects: int = 0  # how many MIME defects the parser found


def _clean(text: str, limit: int = MAX_HEADER) -> str:
    return _CONTROL.sub("", " ".join(text.split()))[:limit]


def _header(msg: Message, name: str) -> str:
    """Return a header decoded (RFC 2047), or its raw text when it cannot be parsed."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the message
        raw = msg.get_all(name) if hasattr(msg, "get_all") else None
        value = str(raw[0]) if raw else None
    return _clean(str(value)) if value is not None else ""


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value))


def _address(msg: Message, name: str) -> tuple[str, str]:
    """Return (display name, lower-case address) of the first address of a header."""
    value = _header(msg, name)
    display, addr = email.utils.parseaddr(value)
    addr = addr.strip().lower()
    if "@" not in addr or any(c in addr for c in " <>,;\"\\"):
        return _clean(display, 200), ""
    return _clean(display, 200), addr[:254]


def _addresses(msg: Message, *names: str) -> tuple[str, ...]:
    values = [_header(msg, n) for n in names]
    found = [a.strip().lower() for _n, a in email.utils.getaddresses([v for v in values if v])]
    return tuple(dict.fromkeys(a for a in found if "@" in a))


def _payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    return b""


def _text_of(part: Message) -> str:
    """Return a text part decoded from its charset (Latin-1 when the charset is unknown)."""
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except (LookupError, UnicodeError, KeyError, ValueError, AssertionError):
            pass
    data = _payload_bytes(part)
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a malformed parameter: treat the part as unnamed
        return None
    return _clean(str(name), 255) if name else None


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _failed_recipients(msg: Message) -> tuple[str, ...]:
    """Return the recipients a delivery-status report (RFC 3464) says failed."""
    failed: list[str] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient", "") or block.get(
                "Original-Recipient", ""))
            _kind, _, addr = recipient.partition(";")
            addr = addr.strip().strip("<>").lower()
            if action == "failed" and "@" in addr:
                failed.append(addr[:254])
    return tuple(dict.fromkeys(failed))


def _collect(msg: Message) -> tuple[str, str | None, list[Attachment]]:
    """Return (plain text, HTML, attachments) of a message's parts."""
    plain: list[str] = []
    html: list[str] = []
    files: list[Attachment] = []

    def visit(part: Message, *, in_alternative: bool, in_related: bool) -> None:
        ctype = part.get_content_type()
        if part.is_multipart():
            sub = part.get_payload()
            if not isinstance(sub, list):
                return
            if ctype == "message/rfc822":  # a forwarded message: kept whole as a file
                inner = sub[0] if sub else None
                if isinstance(inner, Message):
                    try:
                        data = inner.as_bytes(policy=email.policy.compat32)
                    except Exception:
                        data = b""
                    subject = _header(inner, "Subject") or "forwarded"
                    if data:
                        files.append(Attachment(filename=f"{subject[:80]}.eml",
                                                declared_type=ctype, data=data))
                return
            alternative = ctype == "multipart/alternative"
            if alternative:  # one body in several forms: the plain one, else the richest
                texts = [p for p in sub if isinstance(p, Message)
                         and p.get_content_type() == "text/plain"
                         and _disposition(p) != "attachment"]
                chosen = texts[:1] or [p for p in sub if isinstance(p, Message)][-1:]
                for p in sub:
                    if isinstance(p, Message) and p.is_multipart() and p not in chosen:
                        visit(p, in_alternative=True, in_related=in_related)  # inline images
                for p in chosen:
                    visit(p, in_alternative=False, in_related=in_related)
                return
            for p in sub:
                if isinstance(p, Message):
                    visit(p, in_alternative=in_alternative,
                          in_related=in_related or ctype == "multipart/related")
            return
        name = _filename(part)
        disposition = _disposition(part)
        if (ctype in ("text/plain", "text/html") and disposition != "attachment"
                and name is None):
            if in_alternative:
                return
            (plain if ctype == "text/plain" else html).append(_text_of(part))
            return
        if ctype == "message/delivery-status" or ctype == "text/rfc822-headers":
            return
        data = _payload_bytes(part)
        if not data:
            return
        cid = _header(part, "Content-ID").strip("<> ") or None
        files.append(Attachment(
            filename=name or (f"inline-{len(files) + 1}" if cid else f"part-{len(files) + 1}"),
            declared_type=ctype, data=data,
            inline=disposition == "inline" or (in_related and disposition != "attachment"),
            content_id=cid))

    visit(msg, in_alternative=False, in_related=False)
    text = "\n\n".join(t.strip("\n") for t in plain if t.strip())
    return text, ("\n".join(html) if html and not text else None), files


def parse(raw: bytes) -> Parsed:
    """Return the parsed form of one raw message (RFC 5322 bytes); never raises on bad mail."""
    msg: Any = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = next(iter(_message_ids(_header(msg, "Message-ID"))), None)
    key = message_id or "<sha256:" + hashlib.sha256(raw).hexdigest() + ">"
    name, sender = _address(msg, "From")
    headers: dict[str, str] = {}
    for header_name in msg.keys():
        lower = str(header_name).lower()
        if lower not in headers:
            headers[lower] = _header(msg, header_name)
    try:
        text, html, files = _collect(msg)
    except Exception:  # broken MIME: keep what a flat read gives
        text, html, files = _text_of(msg), None, []
    ctype = msg.get_content_type()
    report = msg.get_param("report-type") if ctype == "multipart/report" else None
    defects = len(msg.defects) + sum(len(p.defects) for p in msg.walk() if p is not msg)
    return Parsed(
        message_id=message_id, key=key[:255], sender=sender, sender_name=name,
        subject=_clean(_header(msg, "Subject"), 300),
        to=_addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To"),
        in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References"))[-MAX_REFERENCES:],
        text=text, html=html, attachments=tuple(files), headers=headers,
        content_type=ctype, report_type=str(report).lower() if isinstance(report, str) else None,
        failed_recipients=_failed_recipients(msg) if ctype == "multipart/report" else (),
        defects=defects)
