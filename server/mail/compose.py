"""What a notification says and how it becomes an e-mail message (pure).

Texts come from the server's catalogues (server/locales) in the recipient's language,
times in their language and time zone (Babel).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from server.i18n.catalogues import Translator, translator
from server.i18n.messages import Message
from server.mail import templates

Reason = Literal["received", "reply", "resolved", "assigned", "requester_reply", "sla",
                 "low_score", "report"]
REASONS: tuple[Reason, ...] = ("received", "reply", "resolved", "assigned", "requester_reply",
                               "sla", "low_score", "report")
BODY_MAX = 20_000  # characters of a comment quoted in a mail; the console has the rest
STAFF_ROLES = frozenset({"admin", "technician"})

# Who may read what a notification says. "ticket": the ticket's public side, which its
# requester and approver see in the portal. "desk": the desk's own business (who holds a
# ticket, SLA state, replies meant for the assignee), for staff only.
Audience = Literal["ticket", "desk"]
AUDIENCE: dict[Reason, Audience] = {
    "received": "ticket", "reply": "ticket", "resolved": "ticket",
    "assigned": "desk", "requester_reply": "desk", "sla": "desk", "low_score": "desk",
    "report": "desk",  # a group manager's weekly summary (server/reports/weekly.py)
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


def _account_mail(tr: Translator, reason: AccountReason, subject: str,
                  paragraphs: list[str], product: str) -> AccountMail:
    paragraphs = [*paragraphs, "-- \n" + tr.gettext(
        "This message was sent automatically by {product}.", product=product)]
    return AccountMail(reason=reason, subject=subject, body="\n\n".join(paragraphs) + "\n")


def email_confirm(tr: Translator, *, name: str, new_email: str, link: str, hours: int,
                  product: str = "Deskmate") -> AccountMail:
    """Render the mail that asks the owner of a new address to confirm it."""
    return _account_mail(tr, "email_confirm", tr.gettext("Confirm your new e-mail address"), [
        tr.gettext("Hello {name},", name=name),
        tr.gettext("Someone, probably you, asked {product} to use {new_email} as the e-mail "
                   "address of your account. To confirm it, open this link while logged in "
                   "to the console:", product=product, new_email=new_email),
        link,
        tr.gettext("The link works once, within {hours} hours. If you did not ask for this, "
                   "ignore this message: your address stays as it is.", hours=hours)], product)


def email_changed(tr: Translator, *, name: str, new_email: str,
                  product: str = "Deskmate") -> AccountMail:
    """Render the mail that tells the old address that the account moved to a new one."""
    return _account_mail(tr, "email_changed", tr.gettext("Your e-mail address was changed"), [
        tr.gettext("Hello {name},", name=name),
        tr.gettext("The e-mail address of your {product} account is now {new_email}. "
                   "Notifications go there from now on.", product=product, new_email=new_email),
        tr.gettext("If you did not make this change, tell your service desk at once.")],
        product)


def password_reset(tr: Translator, *, name: str, username: str, link: str, minutes: int,
                   product: str = "Deskmate") -> AccountMail:
    """Render the mail with a password reset link (server/auth/reset.py)."""
    return _account_mail(tr, "password_reset",
                         tr.gettext("Reset your {product} password", product=product), [
        tr.gettext("Hello {name},", name=name),
        tr.gettext("Someone (we hope you) asked to reset the password of the {product} "
                   "account {username!r}. To choose a new password, open this link within "
                   "{minutes} minutes:", product=product, username=username, minutes=minutes),
        link,
        tr.gettext("The link works once. If you did not ask for it, ignore this mail: your "
                   "password stays as it is.")], product)


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
    language: str | None = None  # None: the server's default_language
    time_zone: str | None = None  # None: the server's default_time_zone


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


def quoted(tr: Translator, text: str) -> str:
    """Return ``text`` as a mail quotes it: indented, at most BODY_MAX characters."""
    text = text.strip()
    if len(text) > BODY_MAX:
        text = text[:BODY_MAX] + "\n" + tr.gettext("[...] (the rest is in the console)")
    return "\n".join("  " + line for line in text.splitlines())


def lines(tr: Translator, reason: Reason, ticket: Ticket, *, actor: str | None,
          text: str | Message | None, when: str, quote: bool = True) -> list[str]:
    """Return the paragraphs of a notification's body between greeting and link.

    ``quote`` false puts ``text`` in as given (server/mail/templates.py writes the
    default template with it); true indents and shortens it as a mail quotes it.
    """
    if isinstance(text, Message):
        text = tr.message(text)
    by = actor or tr.gettext("The service desk")

    def _quote(tr: Translator, text: str) -> str:
        return quoted(tr, text) if quote else text

    number, title = ticket.number, ticket.title
    if reason == "received":
        lines = [tr.gettext("We have received your ticket {number} and will get back to you.",
                            number=number),
                 tr.gettext("Title: {title}", title=title),
                 tr.gettext("Received: {when}", when=when)]
        if text:
            lines.append(tr.gettext("You wrote:") + "\n" + _quote(tr, text))
        return lines
    if reason == "reply":
        return [tr.gettext("{by} replied to your ticket {number} on {when}:", by=by,
                           number=number, when=when), _quote(tr, text or "")]
    if reason == "resolved":
        lines = [tr.gettext("Your ticket {number} was resolved by {by} on {when}.",
                            number=number, by=by, when=when)]
        if text:
            lines.append(tr.gettext("Resolution:") + "\n" + _quote(tr, text))
        lines.append(tr.gettext("If the problem is not solved, you can reopen the ticket in "
                                "the portal for a few days."))
        return lines
    if reason == "low_score":
        lines = [tr.gettext("The requester of ticket {number} ({title}) gave the service a "
                            "low score on {when}: {text}", number=number, title=title,
                            when=when, text=text or "")]
        return lines
    if reason == "assigned":
        return [tr.gettext("{by} assigned ticket {number} to you on {when}.", by=by,
                           number=number, when=when),
                tr.gettext("Title: {title}", title=title)]
    if reason == "requester_reply":
        return [tr.gettext("{by} (the requester) replied on ticket {number} on {when}:",
                           by=by, number=number, when=when), _quote(tr, text or "")]
    if text:
        return [tr.gettext("SLA escalation on ticket {number} ({when}): {text}",
                           number=number, when=when, text=text)]
    return [tr.gettext("SLA escalation on ticket {number} ({when})", number=number,
                       when=when)]


def _survey(tr: Translator, links: list[tuple[int, str]]) -> list[str]:
    """Return the paragraph of one-click satisfaction links, best score first."""
    if not links:
        return []
    labels = {5: tr.gettext("5 - excellent"), 4: tr.gettext("4 - good"),
              3: tr.gettext("3 - fair"), 2: tr.gettext("2 - poor"),
              1: tr.gettext("1 - very poor")}
    rows = [f"  {labels[score]}: {url}" for score, url in sorted(links, reverse=True)]
    return [tr.gettext("How did we do? One click on a score tells us (you can add a "
                       "comment on the page it opens):") + "\n" + "\n".join(rows)]


def survey_url(base_url: str, token: str) -> str:
    """Return the console page a survey link opens (the token is the whole credential)."""
    return f"{base_url.rstrip('/')}/#/survey/{token}"


def render(reason: Reason, ticket: Ticket, recipient: Recipient, *, base_url: str,
           domain: str, actor: str | None = None, text: str | Message | None = None,
           first: bool = False, at: dt.datetime | None = None, product: str = "Deskmate",
           default_language: str | None = None, default_time_zone: str | None = None,
           survey: list[tuple[int, str]] | None = None,
           template: templates.Template | None = None) -> Mail:
    """Render one notification for one recipient, in their language and time zone.

    ``product`` is the name the mail signs with (branding).

    ``survey`` lists the one-click satisfaction links (score, URL) of a resolution mail.

    ``at`` is the moment of the event (now when None). ``first`` makes this mail the
    root of the ticket's thread (its Message-ID is the thread id); any other mail gets a
    fresh Message-ID and refers to the thread id. ``template`` is an admin's text for this
    kind and language (server/mail/templates.py); None: the catalogues' text.
    """
    tr = translator(recipient.language or default_language)
    when = tr.datetime(at or dt.datetime.now(dt.UTC),
                       recipient.time_zone or default_time_zone)
    url = ticket_url(base_url, ticket, staff=recipient.staff)
    root = thread_id(ticket, domain)
    own = root if first else f"<{secrets.token_hex(12)}.{ticket.id}@{domain}>"
    if template is not None:
        if isinstance(text, Message):
            text = tr.message(text)
        filled = templates.fill(template, {
            "name": recipient.name, "number": ticket.number, "title": ticket.title,
            "link": url, "actor": actor or tr.gettext("The service desk"), "when": when,
            "product": product,
            "text": (text if reason == "sla" else quoted(tr, text)) if text else ""},
            number=ticket.number)
        # The survey's links are the server's, like the threading headers: an admin's
        # template cannot drop them.
        body = "\n\n".join([filled.body.rstrip("\n"), *_survey(tr, survey or [])]) + "\n"
        return Mail(to_addr=recipient.email, subject=filled.subject, body=body,
                    message_id=own, thread_id=root)
    paragraphs = frame(tr, name=recipient.name, url=url, product=product,
                       lines=[*lines(tr, reason, ticket, actor=actor, text=text, when=when),
                              *_survey(tr, survey or [])])
    return Mail(to_addr=recipient.email, subject=subject(ticket),
                body="\n\n".join(paragraphs) + "\n", message_id=own, thread_id=root)


def frame(tr: Translator, *, name: str, lines: list[str], url: str,
          product: str) -> list[str]:
    """Return a notification's paragraphs: greeting, ``lines``, the link and the footer."""
    # Replies by mail reach the ticket only when a mailbox is set up (server/mail/inbound),
    # so the footer promises neither way: the console always works.
    return [tr.gettext("Hello {name},", name=name), *lines,
            tr.gettext("View the ticket: {url}", url=url),
            "-- \n" + tr.gettext("This message was sent automatically by {product}. "
                                 "You can always answer in the console, at the link "
                                 "above.", product=product)]


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
