"""What a notification says and how it becomes an e-mail message (pure)."""

from __future__ import annotations

import email.utils
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

Reason = Literal["received", "reply", "resolved", "assigned", "requester_reply", "sla"]
REASONS: tuple[Reason, ...] = ("received", "reply", "resolved", "assigned", "requester_reply",
                               "sla")
BODY_MAX = 20_000  # characters of a comment quoted in a mail; the console has the rest
STAFF_ROLES = frozenset({"admin", "technician"})

# Who may read what a notification says. "ticket": the ticket's public side, which its
# requester and approver see in the portal. "desk": the desk's own business (who holds a
# ticket, SLA state, replies meant for the assignee), for staff only.
Audience = Literal["ticket", "desk"]
AUDIENCE: dict[Reason, Audience] = {
    "received": "ticket", "reply": "ticket", "resolved": "ticket",
    "assigned": "desk", "requester_reply": "desk", "sla": "desk",
}


# Mails about a user's own account, not about a ticket (server/users/email_change.py,
# server/auth/reset.py): the person asked for them, so notification choices do not apply.
AccountReason = Literal["email_confirm", "email_changed", "password_reset"]
ACCOUNT_REASONS: frozenset[str] = frozenset({"email_confirm", "email_changed", "password_reset"})
# The notification kinds a user of each kind may turn off one by one (the desk's kinds
# reach staff only; see AUDIENCE).
REQUESTER_CHOICES: tuple[Reason, ...] = ("received", "reply", "resolved")


@dataclass(frozen=True)
class AccountMail:
    """A rendered mail about a user's account."""

    reason: AccountReason
    subject: str
    body: str


def email_confirm(*, name: str, new_email: str, link: str, hours: int) -> AccountMail:
    """Render the mail that asks the owner of a new address to confirm it."""
    paragraphs = [
        f"Hello {name},",
        f"Someone, probably you, asked Deskmate to use {new_email} as the e-mail address "
        "of your account. To confirm it, open this link while logged in to the console:",
        link,
        f"The link works once, within {hours} hours. If you did not ask for this, ignore "
        "this message: your address stays as it is.",
        "-- \nThis message was sent by Deskmate. Replies to it are not read."]
    return AccountMail(reason="email_confirm", subject="Confirm your new e-mail address",
                       body="\n\n".join(paragraphs) + "\n")


def email_changed(*, name: str, new_email: str) -> AccountMail:
    """Render the mail that tells the old address that the account moved to a new one."""
    paragraphs = [
        f"Hello {name},",
        f"The e-mail address of your Deskmate account is now {new_email}. Notifications go "
        "there from now on.",
        "If you did not make this change, tell your service desk at once.",
        "-- \nThis message was sent by Deskmate. Replies to it are not read."]
    return AccountMail(reason="email_changed", subject="Your e-mail address was changed",
                       body="\n\n".join(paragraphs) + "\n")


@dataclass(frozen=True)
class Ticket:
    """The fields of a ticket a notification shows."""

    id: int
    number: str
    title: str


@dataclass(frozen=True)
class Recipient:
    """A user who gets a notification, and which part of the console their link opens."""

    id: int
    name: str
    email: str
    staff: bool


@dataclass(frozen=True)
class Mail:
    """A rendered notification, as stored in the outbox."""

    to_addr: str
    subject: str
    body: str
    message_id: str
    thread_id: str


def may_read(reason: Reason, *, user_id: int, role: str | None, active: bool | None,
             requester_id: int | None, approver_id: int | None) -> bool:
    """Tell whether a user may read a notification of ``reason`` about a ticket.

    Staff read every ticket; anyone else only the public side of a ticket they requested
    or must approve. Inactive (or deleted) users read nothing.
    """
    if not active or role is None:
        return False
    if role in STAFF_ROLES:
        return True
    return AUDIENCE[reason] == "ticket" and user_id in (requester_id, approver_id)


def subject(ticket: Ticket) -> str:
    """Return the subject shared by every mail of a ticket: ``[#INC-000123] title``."""
    title = " ".join(ticket.title.split())  # no header folding tricks from user text
    return f"[#{ticket.number}] {title}"[:300]


def ticket_url(base_url: str, ticket: Ticket, *, staff: bool) -> str:
    """Return the console link to a ticket; it carries no token (the reader logs in)."""
    area = "desk" if staff else "portal"
    return f"{base_url.rstrip('/')}/#/{area}/tickets/{ticket.id}"


def domain_of(mail_from: str) -> str:
    """Return the domain of the sender address, for Message-IDs."""
    _name, addr = email.utils.parseaddr(mail_from)
    return addr.rpartition("@")[2] or "deskmate.invalid"


def thread_id(ticket: Ticket, domain: str) -> str:
    """Return the Message-ID that every mail of a ticket refers to, so clients thread them."""
    return f"<ticket-{ticket.id}.{ticket.number.lower()}@{domain}>"


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) > BODY_MAX:
        text = text[:BODY_MAX] + "\n[...] (the rest is in the console)"
    return "\n".join("  " + line for line in text.splitlines())


def _lines(reason: Reason, ticket: Ticket, *, actor: str | None, text: str | None) -> list[str]:
    """Return the paragraphs of a notification's body."""
    by = actor or "The service desk"
    if reason == "received":
        return [f"We have received your ticket {ticket.number} and will get back to you.",
                f"Title: {ticket.title}"] + ([f"You wrote:\n{_quote(text)}"] if text else [])
    if reason == "reply":
        return [f"{by} replied to your ticket {ticket.number}:", _quote(text or "")]
    if reason == "resolved":
        lines = [f"Your ticket {ticket.number} was resolved by {by}."]
        if text:
            lines.append(f"Resolution:\n{_quote(text)}")
        lines.append("If the problem is not solved, you can reopen the ticket in the portal "
                     "for a few days.")
        return lines
    if reason == "assigned":
        return [f"{by} assigned ticket {ticket.number} to you.", f"Title: {ticket.title}"]
    if reason == "requester_reply":
        return [f"{by} (the requester) replied on ticket {ticket.number}:", _quote(text or "")]
    return [f"SLA escalation on ticket {ticket.number}: {text or ''}".rstrip(": ")]


def render(reason: Reason, ticket: Ticket, recipient: Recipient, *, base_url: str,
           domain: str, actor: str | None = None, text: str | None = None,
           first: bool = False, product: str = "Deskmate") -> Mail:
    """Render one notification for one recipient.

    ``first`` makes this mail the root of the ticket's thread (its Message-ID is the
    thread id); any other mail gets a fresh Message-ID and refers to the thread id.
    """
    paragraphs = [f"Hello {recipient.name},", *_lines(reason, ticket, actor=actor, text=text),
                  f"View the ticket: {ticket_url(base_url, ticket, staff=recipient.staff)}",
                  f"-- \nThis message was sent by {product}. Replies to it are not read; "
                  "answer in the console instead."]
    root = thread_id(ticket, domain)
    own = root if first else f"<{secrets.token_hex(12)}.{ticket.id}@{domain}>"
    return Mail(to_addr=recipient.email, subject=subject(ticket),
                body="\n\n".join(paragraphs) + "\n", message_id=own, thread_id=root)


def message(*, mail_from: str, to_addr: str, subject: str, body: str, message_id: str,
            thread_id: str | None) -> EmailMessage:
    """Build the e-mail message of an outbox row (plain text, threaded per ticket)."""
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id
    if thread_id and thread_id != message_id:
        # RFC 5322 section 3.6.4: replies name their parent and the thread's references.
        msg["In-Reply-To"] = thread_id
        msg["References"] = thread_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    msg.set_content(body)
    return msg


def valid_address(addr: str) -> bool:
    """Tell whether an address can be put in a To header (user records are validated when
    saved; this only keeps a malformed one from breaking the message)."""
    local, at, domain = addr.rpartition("@")
    return bool(at and local and domain and "." in domain) and not any(
        c in addr for c in "\r\n<>,; \t")
