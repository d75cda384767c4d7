"""Turn one parsed message into a ticket, a comment, or a recorded refusal (one transaction).

:func:`take_in` runs inside the writer's transaction. The message's de-duplication row
(``mail_inbound``) is written with the ticket or comment it makes, so a crash loses both
or neither, and a message delivered or fetched again is recognised and makes nothing new.
Files (attachments, the raw message) are stored by digest before the transaction
(:func:`prepare`): a crash in between leaves an unreferenced file, never a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth.identity import STAFF_ROLES
from server.db.schema import attachments, ticket_events, tickets, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.mail.inbound import answers, content, loops, threads
from server.mail.inbound.parse import Parsed
from server.mail.inbound.tables import mail_failing_addresses, mail_inbound, mailboxes
from server.mail.tables import mail_outbox
from server.tickets import creation, lifecycle, timeline
from server.tickets.attachments import safe_filename, sniff, store_path
from server.tickets.priority import priority_for
from server.tickets.tables import ticket_former_numbers
from server.users import store as user_store

Outcome = Literal["ticket", "comment", "held", "refused", "ignored", "bounce"]
UnknownSender = Literal["create", "refuse", "hold"]
UNKNOWN_SENDER: tuple[UnknownSender, ...] = ("create", "refuse", "hold")
TITLE_MAX = 200
ORIGINAL_MAX = 20_000  # characters of quoted history kept with a comment
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|fw|fwd|wg|tr|rv)\s*(\[\d+\])?\s*:\s*)+",
                           re.IGNORECASE)


@dataclass(frozen=True)
class StoredFile:
    """A checked file already written to the attachment store."""

    filename: str
    content_type: str
    sha256: str
    size: int
    inline: bool = False


@dataclass(frozen=True)
class Prepared:
    """A parsed message with its files checked and stored, ready for :func:`take_in`."""

    parsed: Parsed
    files: tuple[StoredFile, ...]
    skipped: tuple[str, ...]  # why files were left out, one line each
    raw: StoredFile | None


@dataclass(frozen=True)
class Route:
    """Where a mailbox's new tickets go."""

    mailbox_id: int | None = None
    group_id: int | None = None
    category_id: int | None = None
    unknown_sender: UnknownSender | None = None  # None: the server's mail_in_unknown_sender


@dataclass(frozen=True)
class Policy:
    """The settings that decide what happens to a message."""

    unknown_sender: UnknownSender = "hold"
    rate_per_hour: int = 20
    own_addresses: frozenset[str] = frozenset()
    matrix: Any = None  # the priority matrix (server.tickets.priority.parse_matrix)


@dataclass(frozen=True)
class Result:
    """What became of a message."""

    outcome: Outcome
    reason: str = ""
    ticket_id: int | None = None
    event_id: int | None = None
    duplicate: bool = False
    failing: tuple[str, ...] = field(default_factory=tuple)


def _store(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    target = store_path(root, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{digest}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return digest


def prepare(parsed: Parsed, raw: bytes, root: Path, *, limit: int) -> Prepared:
    """Check a message's files like uploads (size limit, sniffed type) and store them and
    the raw message by digest (blocking: run in a thread)."""
    files: list[StoredFile] = []
    skipped: list[str] = []
    for item in parsed.attachments:
        name = safe_filename(item.filename)
        if len(item.data) > limit:
            skipped.append(f"{name} ({len(item.data)} bytes) is over the attachment limit of "
                           f"{limit} bytes")
            continue
        kind = "message/rfc822" if item.declared_type == "message/rfc822" else sniff(
            item.data[:512])
        if kind is None:
            skipped.append(f"{name} is not an accepted type (images, PDF, ZIP or text)")
            continue
        files.append(StoredFile(filename=name, content_type=kind,
                                sha256=_store(root, item.data), size=len(item.data),
                                inline=item.inline))
    stored_raw = None
    if raw:
        stored_raw = StoredFile(filename="message.eml", content_type="message/rfc822",
                                sha256=_store(root, raw), size=len(raw))
    return Prepared(parsed=parsed, files=tuple(files), skipped=tuple(skipped), raw=stored_raw)


def _record(conn: Connection, prepared: Prepared, route: Route, now: dt.datetime,
            result: Result) -> Result:
    msg = prepared.parsed
    conn.execute(mail_inbound.insert().values(
        message_key=msg.key, mailbox_id=route.mailbox_id, received_at=now,
        sender=msg.sender[:254], subject=msg.subject[:300], outcome=result.outcome,
        reason=result.reason[:200], ticket_id=result.ticket_id, event_id=result.event_id,
        raw_sha256=prepared.raw.sha256 if prepared.raw else None,
        raw_size=prepared.raw.size if prepared.raw else 0))
    return result


def _sender_user(conn: Connection, address: str) -> Any:
    """Return the user with this address (active ones first, then the oldest), or None."""
    return conn.execute(
        sa.select(users.c.id, users.c.role, users.c.active, users.c.display_name)
        .where(sa.func.lower(users.c.email) == address)
        .order_by(users.c.active.desc(), users.c.id).limit(1)).first()


def _may_see(user: Any, ticket: Any) -> bool:
    if not user.active:
        return False
    return user.role in STAFF_ROLES or user.id in (ticket.requester_id, ticket.approver_id)


def _ticket_by_number(conn: Connection, number: str) -> Any:
    row = conn.execute(sa.select(tickets.c.id).where(tickets.c.number == number)).first()
    if row is None:
        row = conn.execute(sa.select(ticket_former_numbers.c.ticket_id.label("id"))
                           .where(ticket_former_numbers.c.number == number)).first()
    return row.id if row is not None else None


def find_ticket(conn: Connection, msg: Parsed, key: bytes) -> tuple[int | None, str]:
    """Return (ticket id, which clue named it) for a reply, or (None, '')."""
    ids = [*msg.in_reply_to, *reversed(msg.references)]
    signed = threads.verified(key, [*msg.to, *ids])
    if signed is not None:
        return signed[0], "reply token"
    if ids:
        known = conn.execute(sa.select(mail_outbox.c.ticket_id).where(
            mail_outbox.c.message_id.in_(ids), mail_outbox.c.ticket_id.is_not(None))
            .limit(1)).scalar()
        if known is not None:
            return int(known), "In-Reply-To"
        root = threads.root_ticket(ids)
        if root is not None and _ticket_by_number(conn, root[1]) == root[0]:
            return root[0], "References"
    number = threads.subject_number(msg.subject)
    parsed = lifecycle.parse_number(number) if number else None
    if parsed is not None:
        found = _ticket_by_number(conn, parsed)
        if found is not None:
            return int(found), "subject"
    return None, ""


def _attach(conn: Connection, ticket_id: int, user_id: int, files: tuple[StoredFile, ...],
            *, public: bool, now: dt.datetime, event_id: int | None = None) -> list[int]:
    """Attach stored files to a ticket; return the ids of the events that name them."""
    events = []
    for f in files:
        own_event = event_id
        if own_event is None:
            own_event = timeline.add_event(
                conn, ticket_id, actor_id=user_id, type="attachment", public=public, now=now,
                changes={"attachment": {"filename": f.filename, "size": f.size}})
        conn.execute(attachments.insert().values(
            ticket_id=ticket_id, event_id=own_event, filename=f.filename,
            content_type=f.content_type, size=f.size, sha256=f.sha256, public=public,
            uploader_id=user_id, created_at=now))
        events.append(own_event)
    return events


def _with_notes(text: str, skipped: tuple[str, ...]) -> str:
    if not skipped:
        return text
    notes = "\n".join(f"- {line}" for line in skipped)
    return f"{text}\n\n[Files not kept]\n{notes}".strip()


def _title(subject: str) -> str:
    title = _REPLY_PREFIX.sub("", subject).strip()
    return (title or "(no subject)")[:TITLE_MAX]


def _new_ticket(conn: Connection, prepared: Prepared, user_id: int, route: Route,
                policy: Policy, now: dt.datetime, *, follow_up: str | None = None) -> int:
    msg = prepared.parsed
    text = content.body_text(msg.text, msg.html) or "(no text)"
    if follow_up:
        text = f"(Follow-up to {follow_up}, which is closed.)\n\n{text}"
    impact = urgency = 3
    ticket_id = creation.create_ticket(conn, creation.NewTicket(
        kind="incident", title=_title(msg.subject), description=_with_notes(text, prepared.skipped),
        impact=impact, urgency=urgency, priority=priority_for(impact, urgency, policy.matrix),
        category_id=route.category_id, requester_id=user_id, assignee_id=None,
        group_id=route.group_id, device_ids=[], tags=[], source="email"), actor_id=user_id,
        now=now)
    _attach(conn, ticket_id, user_id, prepared.files, public=True, now=now)
    if prepared.raw is not None:  # the original message, for the desk
        _attach(conn, ticket_id, user_id, (prepared.raw,), public=False, now=now)
    return ticket_id


def _comment(conn: Connection, prepared: Prepared, user_id: int, ticket_id: int,
             now: dt.datetime, *, staff: bool) -> int:
    msg = prepared.parsed
    reply = content.split_reply(content.body_text(msg.text, msg.html))
    body = _with_notes(reply.visible or "(no text)", prepared.skipped)
    event_id = timeline.add_comment(conn, ticket_id, actor_id=user_id, body=body, public=True,
                                    now=now)
    mail: dict[str, Any] = {}
    if reply.original and not staff:
        # The quoted history, shown collapsed under the comment; requesters see it too
        # (server/tickets/visibility.py). Staff may have quoted desk-only mail (an SLA
        # notice, an assignment): theirs stays in the raw message, for staff only.
        mail["original"] = reply.original[:ORIGINAL_MAX]
    _attach(conn, ticket_id, user_id, prepared.files, public=True, now=now)
    if prepared.raw is not None:
        # The console links the comment to its message as it arrived (an internal
        # attachment: a requester sees the id, never the file).
        [mail["raw_event_id"]] = _attach(conn, ticket_id, user_id, (prepared.raw,),
                                         public=False, now=now)
    if mail:
        conn.execute(ticket_events.update().where(ticket_events.c.id == event_id).values(
            changes={"mail": mail}))
    return event_id


def _recent(conn: Connection, sender: str, now: dt.datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(mail_inbound).where(
        mail_inbound.c.sender == sender,
        mail_inbound.c.received_at > now - dt.timedelta(hours=1),
        mail_inbound.c.outcome.in_(("ticket", "comment", "held", "refused")))).scalar_one())


def _failing(conn: Connection, address: str) -> bool:
    return conn.execute(sa.select(mail_failing_addresses.c.address).where(
        mail_failing_addresses.c.address == address)).first() is not None


def _mark_failing(conn: Connection, addresses: tuple[str, ...], reason: str,
                  now: dt.datetime) -> None:
    for address in addresses:
        if not _failing(conn, address):
            conn.execute(mail_failing_addresses.insert().values(
                address=address, since=now, reason=reason[:300]))


def _requester_for(conn: Connection, msg: Parsed, now: dt.datetime) -> int:
    """Create a requester account for an unknown sender (no password: they write by mail,
    and an admin can give them a login)."""
    base = re.sub(r"[^a-z0-9._@-]", "", msg.sender.lower()).lstrip("._@-")[:60] or "mail"
    username = base
    for n in range(2, 100):
        if user_store.find_login(conn, username) is None:
            break
        username = f"{base[:56]}-{n}"
    name = msg.sender_name or msg.sender.partition("@")[0]
    return user_store.create_user(conn, username=username, display_name=name[:200],
                                  role="requester", email=msg.sender, password_hash=None,
                                  now=now)


def hold(conn: Connection, prepared: Prepared, *, route: Route, reason: str,
         now: dt.datetime) -> Result:
    """Record a message as held for the desk (unless it was taken in meanwhile)."""
    seen = conn.execute(sa.select(mail_inbound.c.outcome).where(
        mail_inbound.c.message_key == prepared.parsed.key)).first()
    if seen is not None:
        return Result(seen.outcome, duplicate=True)
    return _record(conn, prepared, route, now, Result("held", reason))


def take_in(conn: Connection, prepared: Prepared, *, route: Route, policy: Policy,
            key: bytes, now: dt.datetime) -> Result:
    """Decide what a message becomes and write it, with its de-duplication row."""
    msg = prepared.parsed
    seen = conn.execute(sa.select(mail_inbound.c.outcome, mail_inbound.c.reason,
                                  mail_inbound.c.ticket_id, mail_inbound.c.event_id)
                        .where(mail_inbound.c.message_key == msg.key)).first()
    if seen is not None:
        return Result(seen.outcome, seen.reason, seen.ticket_id, seen.event_id, duplicate=True)
    boxes = frozenset(str(a).lower() for a in conn.execute(
        sa.select(mailboxes.c.address)).scalars())
    verdict = loops.classify(msg, own_addresses=policy.own_addresses | boxes)
    if verdict.kind == "own":
        return _record(conn, prepared, route, now, Result("ignored", verdict.reason))
    if verdict.kind == "bounce":
        _mark_failing(conn, msg.failed_recipients, f"bounce {msg.key[:200]}", now)
        return _record(conn, prepared, route, now, Result(
            "bounce", verdict.reason, failing=msg.failed_recipients))
    if verdict.kind == "auto_reply":
        return _record(conn, prepared, route, now, Result("ignored", verdict.reason))
    if verdict.kind in ("list", "bulk"):
        return _record(conn, prepared, route, now, Result("held", verdict.reason))
    if not msg.sender:
        return _record(conn, prepared, route, now, Result("held", "no sender address"))
    if _recent(conn, msg.sender, now) >= policy.rate_per_hour:
        return _record(conn, prepared, route, now, Result(
            "held", f"more than {policy.rate_per_hour} messages from the sender in an hour"))
    user = _sender_user(conn, msg.sender)
    if user is not None and not user.active:
        return _record(conn, prepared, route, now, Result("held", "the sender's account is "
                                                                  "deactivated"))
    if user is None:
        unknown_sender = route.unknown_sender or policy.unknown_sender
        if unknown_sender == "hold":
            return _record(conn, prepared, route, now, Result("held", "unknown sender"))
        if unknown_sender == "refuse":
            if verdict.may_auto_reply and not _failing(conn, msg.sender):
                answers.queue_refusal(conn, msg, now)
            return _record(conn, prepared, route, now, Result("refused", "unknown sender"))
        _requester_for(conn, msg, now)
        user = _sender_user(conn, msg.sender)
    return _record(conn, prepared, route, now, deliver(conn, prepared, user.id, route=route,
                                                       policy=policy, key=key, now=now))


def deliver(conn: Connection, prepared: Prepared, user_id: int, *, route: Route,
            policy: Policy, key: bytes, now: dt.datetime) -> Result:
    """Add a person's message to the ticket it answers, or open a new ticket with it.

    A reply goes on the ticket its clues name when the sender may see that ticket; a
    reply to a closed ticket, or naming a ticket the sender may not see, opens a new one.
    """
    msg = prepared.parsed
    user = conn.execute(sa.select(users.c.id, users.c.role, users.c.active)
                        .where(users.c.id == user_id)).one()
    ticket_id, clue = find_ticket(conn, msg, key)
    if ticket_id is not None:
        row = conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.status,
                                     tickets.c.requester_id, tickets.c.approver_id)
                           .where(tickets.c.id == ticket_id)).first()
        if row is not None and _may_see(user, row):
            if row.status in lifecycle.FINAL_STATUSES:
                new_id = _new_ticket(conn, prepared, user.id, route, policy, now,
                                     follow_up=row.number)
                return Result("ticket", f"reply to the closed ticket {row.number}", new_id)
            event_id = _comment(conn, prepared, user.id, row.id, now,
                                staff=user.role in STAFF_ROLES)
            return Result("comment", f"threaded by {clue}", row.id, event_id)
    new_id = _new_ticket(conn, prepared, user.id, route, policy, now)
    reason = "new message" if ticket_id is None else "the sender may not see the ticket named"
    return Result("ticket", reason, new_id)


def accept_held(conn: Connection, inbound_id: int, prepared: Prepared, *, route: Route,
                policy: Policy, key: bytes, now: dt.datetime,
                requester_id: int | None = None) -> Result:
    """Take in a held message on the desk's word: its sender gets an account when needed.

    ``requester_id`` names the person the message is taken in for instead of its sender
    (the desk knows who wrote from an unknown address).

    Raises:
        Conflict: the message is not held (any more).
    """
    row = conn.execute(sa.select(mail_inbound).where(mail_inbound.c.id == inbound_id)).first()
    if row is None:
        raise NotFound("no incoming message with id {inbound_id}", inbound_id=inbound_id)
    if row.outcome != "held":
        raise Conflict("message {inbound_id} is {outcome}, not held", inbound_id=inbound_id,
                       outcome=row.outcome)
    msg = prepared.parsed
    if requester_id is not None:
        chosen = conn.execute(sa.select(users.c.id, users.c.active)
                              .where(users.c.id == requester_id)).first()
        if chosen is None or not chosen.active:
            raise ValidationFailed("requester_id: no active user with id {requester_id}",
                                   requester_id=requester_id)
        user_id = chosen.id
    else:
        if not msg.sender:
            raise Conflict("the message has no sender address to open a ticket for")
        user = _sender_user(conn, msg.sender)
        if user is not None and not user.active:
            raise Conflict("the sender's account is deactivated")
        user_id = user.id if user is not None else _requester_for(conn, msg, now)
    result = deliver(conn, prepared, user_id, route=route, policy=policy, key=key, now=now)
    conn.execute(mail_inbound.update().where(mail_inbound.c.id == inbound_id).values(
        outcome=result.outcome, reason=f"accepted: {result.reason}"[:200],
        ticket_id=result.ticket_id, event_id=result.event_id))
    return result
