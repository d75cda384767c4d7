"""The durable outbox: rows written with the ticket event that causes them, and their states.

Functions here run inside a database transaction (on the writer thread). A ticket event
and the e-mails it causes commit together, so a crash loses neither or both; the
sender (:mod:`server.mail.sender`) delivers queued rows later and records the outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.auth.devices import load_secret
from server.db.schema import group_members, tickets, users
from server.i18n.catalogues import Translator, translator
from server.i18n.messages import Message
from server.mail import compose, template_store
from server.mail.inbound import threads
from server.mail.inbound.tables import mail_failing_addresses
from server.mail.tables import mail_opt_outs, mail_outbox, mail_reason_opt_outs
from server.mail.templates import Template
from server.satisfaction import links as survey_links
from server.users.store import is_system_username

BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
ERROR_MAX = 500


@dataclass(frozen=True)
class MailConfig:
    """What rendering needs: the console's address, the domain of Message-IDs and the
    product name the mails sign with (branding)."""

    base_url: str
    domain: str
    product: str = "Deskmate"
    language: str = "en"  # for recipients who chose none (default_language)
    time_zone: str = "UTC"  # for recipients who chose none (default_time_zone)


# Mail is on for a database when the server that opened it has an SMTP server configured;
# keyed by engine so that two servers in one process (tests) never share the switch.
_CONFIGS: weakref.WeakKeyDictionary[Engine, MailConfig] = weakref.WeakKeyDictionary()


def enable(engine: Engine, config: MailConfig) -> None:
    """Queue notifications for ticket events written through ``engine``."""
    _CONFIGS[engine] = config


def disable(engine: Engine) -> None:
    """Stop queueing notifications for ``engine``."""
    _CONFIGS.pop(engine, None)


def _config(conn: Connection) -> MailConfig | None:
    return _CONFIGS.get(conn.engine)


def config_of(conn: Connection) -> MailConfig | None:
    """Return the mail configuration of the database ``conn`` writes to (None: mail off)."""
    return _config(conn)


def _time_zone() -> list[Any]:
    # The user's own time zone once the self-service change adds it (issue 14 item 2).
    return [users.c.time_zone] if "time_zone" in users.c else []


def _users(conn: Connection, ids: set[int]) -> dict[int, Any]:
    """Return the users among ``ids`` with what deciding and rendering need (one query)."""
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email,
                  users.c.role, users.c.active, users.c.language, *_time_zone(),
                  mail_opt_outs.c.user_id.is_not(None).label("opted_out"))
        .select_from(users.outerjoin(mail_opt_outs, mail_opt_outs.c.user_id == users.c.id))
        .where(users.c.id.in_(sorted(ids))))
    return {r.id: r for r in rows}


def _recipients(found: dict[int, Any]) -> dict[int, compose.Recipient]:
    """Return the users who get mail: active, with an address, not opted out, a person.

    The server's own accounts (a device's unknown user, health monitoring) never get mail,
    whatever address an admin may have given them.
    """
    return {r.id: compose.Recipient(id=r.id, name=r.display_name, email=r.email,
                                    staff=r.role in compose.STAFF_ROLES, language=r.language,
                                    time_zone=getattr(r, "time_zone", None))
            for r in found.values()
            if r.active and r.email and not r.opted_out and compose.valid_address(r.email)
            and not is_system_username(r.username)}


# (reason, recipient's user id, quoted text, whether the mail starts the ticket's thread)
Wanted = tuple[compose.Reason, int, str | Message | None, bool]


def _survey_links(conn: Connection, ticket: Any, reason: str, user_id: int,
                  base_url: str, now: dt.datetime) -> list[tuple[int, str]] | None:
    """Return the one-click survey links of a resolution mail to the ticket's requester."""
    if reason != "resolved" or user_id != ticket.requester_id:
        return None
    key = load_secret(conn, survey_links.SECRET_NAME, now)
    nonce = survey_links.new_nonce()
    return [(score, compose.survey_url(base_url, survey_links.make(
        key, ticket_id=ticket.id, requester_id=user_id, score=score, nonce=nonce, now=now)))
        for score in range(1, 6)]


def _enqueue(conn: Connection, config: MailConfig, ticket: Any, now: dt.datetime,
             wanted: list[Wanted], *, actor_id: int | None = None) -> None:
    """Render and store the wanted mails of one ticket: the only way into the outbox.

    Whoever builds ``wanted``, a mail is stored only for a recipient who may read what it
    says (:func:`compose.may_read`: staff, or the ticket's requester or approver for its
    public side) and who gets mail at all (active, an address, not opted out). The sender
    checks again before delivery (:func:`undeliverable`).
    """
    found = _users(conn, {w[1] for w in wanted} | ({actor_id} if actor_id else set()))
    people = _recipients(found)
    declined = _declined(conn, {w[1] for w in wanted})
    allowed = [w for w in wanted if w[1] in people and (w[1], w[0]) not in declined
               and compose.may_read(
        w[0], user_id=w[1], role=found[w[1]].role, active=found[w[1]].active,
        requester_id=ticket.requester_id, approver_id=ticket.approver_id)]
    if not allowed:
        return
    actor = found[actor_id].display_name if actor_id in found else None
    shown = compose.Ticket(id=ticket.id, number=ticket.number, title=ticket.title)
    key = threads.load_key(conn, now)
    saved = template_store.load(conn)

    def template(reason: str, person: compose.Recipient) -> Template | None:
        # The language the mail is written in (an unknown one is English, as translator).
        language = translator(person.language or config.language).language
        return saved.get((reason, language))

    def signed(mail: compose.Mail, user_id: int, first: bool) -> compose.Mail:
        # Mails after the receipt carry a signed reply token in their Message-ID, so a
        # reply finds its ticket (server/mail/inbound/threads.py).
        if first:
            return mail
        return dataclasses.replace(mail, message_id=threads.message_id(
            key, ticket.id, user_id, config.domain))

    conn.execute(mail_outbox.insert(), [{
        "created_at": now, "ticket_id": ticket.id, "recipient_id": user_id,
        "reason": reason, "to_addr": mail.to_addr, "subject": mail.subject,
        "body": mail.body, "message_id": mail.message_id, "thread_id": mail.thread_id,
        "status": "queued", "attempts": 0, "next_attempt_at": now,
    } for reason, user_id, mail in (
        (reason, user_id, signed(compose.render(reason, shown, people[user_id],
                                                base_url=config.base_url, domain=config.domain,
                                                actor=actor, text=text, first=first, at=now,
                                                product=config.product,
                                                default_language=config.language,
                                                default_time_zone=config.time_zone,
                                                survey=_survey_links(
                                                    conn, ticket, reason, user_id,
                                                    config.base_url, now),
                                                template=template(reason, people[user_id])),
                                 user_id, first))
        for reason, user_id, text, first in allowed)])


def _declined(conn: Connection, user_ids: set[int]) -> set[tuple[int, str]]:
    """Return the (user, reason) pairs of notification kinds these users turned off."""
    if not user_ids:
        return set()
    return {(r.user_id, r.reason) for r in conn.execute(
        sa.select(mail_reason_opt_outs.c.user_id, mail_reason_opt_outs.c.reason)
        .where(mail_reason_opt_outs.c.user_id.in_(sorted(user_ids))))}


def queue_account_mail(conn: Connection, *, user_id: int, to_addr: str,
                       mail: compose.AccountMail, now: dt.datetime) -> bool:
    """Queue a mail about a user's account (no ticket); return False when mail is off.

    Account mails (compose.ACCOUNT_REASONS) go to the address given, which may not be
    the user's address yet (a new one being confirmed), whatever the user's notification
    choices: they are about the account's safety, not news of tickets.
    """
    config = _config(conn)
    if config is None:
        return False
    conn.execute(mail_outbox.insert().values(
        created_at=now, ticket_id=None, recipient_id=user_id, reason=mail.reason,
        to_addr=to_addr, subject=mail.subject, body=mail.body,
        message_id=f"<{secrets.token_hex(12)}.account@{config.domain}>", thread_id=None,
        status="queued", attempts=0, next_attempt_at=now))
    return True


def account_voice(conn: Connection, language: str | None) -> tuple[Translator, str]:
    """Return the translator (the user's ``language``, else default_language) and the
    product name an account mail is written with."""
    config = _config(conn) or MailConfig(base_url="", domain="")
    return translator(language or config.language), config.product


def mail_base_url(conn: Connection) -> str | None:
    """Return the console address mails link to, or None when mail is off."""
    config = _config(conn)
    return None if config is None else config.base_url


def _ticket(conn: Connection, ticket_id: int) -> Any:
    return conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.title,
                                  tickets.c.description, tickets.c.requester_id,
                                  tickets.c.assignee_id, tickets.c.approver_id,
                                  tickets.c.group_id)
                        .where(tickets.c.id == ticket_id)).one()


def _after(changes: Mapping[str, Any], field: str) -> Any:
    change = changes.get(field)
    return change.get("after") if isinstance(change, Mapping) else None


def on_ticket_event(conn: Connection, ticket_id: int, *, type: str, public: bool,
                    actor_id: int | None, body: str | None,
                    changes: Mapping[str, Any] | None, now: dt.datetime) -> None:
    """Queue the e-mails a timeline event causes (nothing when mail is off).

    The requester hears of their ticket's receipt, public staff replies and its
    resolution, never of internal notes, assignments or SLA events. A technician hears
    of tickets assigned to them and of the requester's replies on their tickets. Nobody
    is mailed about their own action, except the requester's receipt.
    """
    config = _config(conn)
    if config is None:
        return
    changes = changes or {}
    assigned_to = _after(changes, "assignee_id")
    resolved = _after(changes, "status") == "resolved"
    if type == "created":
        pass
    elif type == "comment" and public:
        pass
    elif type in ("status_changed", "updated") and (assigned_to is not None or resolved):
        pass
    else:
        return
    row = _ticket(conn, ticket_id)
    wanted: list[Wanted] = []
    if type == "created":
        wanted.append(("received", row.requester_id, row.description, True))
        if row.assignee_id is not None and row.assignee_id != actor_id:
            wanted.append(("assigned", row.assignee_id, None, False))
    elif type == "comment":
        if actor_id == row.requester_id:
            if row.assignee_id is not None:
                wanted.append(("requester_reply", row.assignee_id, body, False))
        else:
            wanted.append(("reply", row.requester_id, body, False))
    else:
        if assigned_to is not None:
            wanted.append(("assigned", int(assigned_to), None, False))
        if resolved:
            wanted.append(("resolved", row.requester_id, body, False))
    wanted = [w for w in wanted if w[1] != actor_id or w[0] == "received"]
    _enqueue(conn, config, row, now, wanted, actor_id=actor_id)


def on_low_score(conn: Connection, ticket_id: int, *, manager_id: int, score: int,
                 comment: str | None, now: dt.datetime) -> None:
    """Queue the mail that tells a group's manager of a low satisfaction score."""
    config = _config(conn)
    if config is None:
        return
    text = f"{score}/5" + (f"\n{comment}" if comment else "")
    _enqueue(conn, config, _ticket(conn, ticket_id), now, [("low_score", manager_id, text,
                                                            False)])


def on_sla_notify(conn: Connection, ticket_id: int, *, text: str | Message, now: dt.datetime,
                  user_id: int | None = None) -> None:
    """Queue an SLA escalation mail to ``user_id``, else the assignee, else the group's staff."""
    config = _config(conn)
    if config is None:
        return
    row = _ticket(conn, ticket_id)
    if user_id is not None:
        ids = {user_id}
    elif row.assignee_id is not None:
        ids = {row.assignee_id}
    elif row.group_id is not None:
        ids = {r.user_id for r in conn.execute(sa.select(group_members.c.user_id)
                                               .where(group_members.c.group_id == row.group_id))}
    else:
        ids = set()
    # Escalations are the desk's business: _enqueue lets only staff receive them.
    _enqueue(conn, config, row, now, [("sla", user_id, text, False) for user_id in sorted(ids)])


def backoff(attempts: int) -> dt.timedelta:
    """Return the wait after ``attempts`` failed attempts: 30 s, doubling, at most 1 h."""
    factor: int = 2 ** max(0, attempts - 1)
    return min(BACKOFF_MAX, BACKOFF_FIRST * factor)


def due(conn: Connection, now: dt.datetime, *, limit: int) -> list[Any]:
    """Return up to ``limit`` queued rows whose next attempt has come, oldest first.

    Each row comes with its recipient and ticket as they are now (``user_role``,
    ``user_active``, ``user_email``, ``opted_out``, ``requester_id``, ``approver_id``),
    for :func:`undeliverable` and :func:`address`, and whether that address bounced
    (``failing``).
    """
    failing = sa.exists().where(mail_failing_addresses.c.address == sa.func.lower(
        sa.func.coalesce(users.c.email, mail_outbox.c.to_addr)))
    return list(conn.execute(
        sa.select(mail_outbox, failing.label("failing"), users.c.role.label("user_role"),
                  users.c.active.label("user_active"), users.c.email.label("user_email"),
                  mail_opt_outs.c.user_id.is_not(None).label("opted_out"),
                  tickets.c.requester_id, tickets.c.approver_id)
        .select_from(mail_outbox
                     .outerjoin(users, users.c.id == mail_outbox.c.recipient_id)
                     .outerjoin(mail_opt_outs, mail_opt_outs.c.user_id == users.c.id)
                     .outerjoin(tickets, tickets.c.id == mail_outbox.c.ticket_id))
        .where(mail_outbox.c.status == "queued", mail_outbox.c.next_attempt_at <= now)
        .order_by(mail_outbox.c.id).limit(limit)).all())


def undeliverable(row: Any) -> str | None:
    """Return why a due mail must not be sent any more, or None (pure).

    Rights can change between queueing and a delivery retried hours later: a recipient
    deactivated, demoted, or who turned notifications off gets nothing. An address that
    bounced (server/mail/inbound) gets nothing until it changes or an admin clears it.
    """
    if getattr(row, "failing", False):
        return "the address bounced (cleared by an admin, or by a new address)"
    if row.reason == "refused" and row.ticket_id is None:
        return None  # the answer to an unknown sender (server/mail/inbound/answers.py)
    if row.recipient_id is None or row.user_role is None:
        return "recipient no longer exists"
    if not row.user_active:
        return "recipient is no longer active"
    if row.reason in compose.ACCOUNT_REASONS:
        # About the account itself, asked for by the person: sent whatever the
        # notification choices, to the address it was written to.
        if not row.to_addr or not compose.valid_address(str(row.to_addr)):
            return "recipient has no valid e-mail address"
        return None
    if row.opted_out:
        return "recipient turned e-mail notifications off"
    if not row.user_email or not compose.valid_address(row.user_email):
        return "recipient has no valid e-mail address any more"
    if row.reason not in compose.AUDIENCE or (row.ticket_id is not None and not compose.may_read(
            row.reason, user_id=row.recipient_id, role=row.user_role, active=row.user_active,
            requester_id=row.requester_id, approver_id=row.approver_id)):
        return "recipient may no longer read this ticket"
    return None


def base_url(conn: Connection) -> str | None:
    """Return the console's address for links in mails, or None when mail is off."""
    config = _config(conn)
    return config.base_url if config is not None else None


def address(row: Any) -> str:
    """Return where a due mail goes: the recipient's address now (they may have moved).

    An account mail goes where it was addressed: a new address being confirmed, or the
    old one being told of the change.
    """
    if row.reason in compose.ACCOUNT_REASONS:
        return str(row.to_addr)
    return str(row.user_email or row.to_addr)


def next_attempt(conn: Connection) -> dt.datetime | None:
    """Return when the earliest queued row may be tried (uses the index)."""
    return conn.execute(sa.select(mail_outbox.c.next_attempt_at)
                        .where(mail_outbox.c.status == "queued")
                        .order_by(mail_outbox.c.next_attempt_at).limit(1)).scalar()


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery attempt: sent, or an error and whether it is final."""

    mail_id: int
    error: str | None = None
    permanent: bool = False


def record(conn: Connection, outcomes: list[Outcome], now: dt.datetime, *,
           max_attempts: int) -> dict[str, int]:
    """Store delivery outcomes: sent, retry later with backoff, or failed; return counts."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for outcome in outcomes:
        if outcome.error is None:
            conn.execute(mail_outbox.update().where(mail_outbox.c.id == outcome.mail_id)
                         .values(status="sent", sent_at=now, attempts=mail_outbox.c.attempts + 1,
                                 last_error=None))
            counts["sent"] += 1
            continue
        attempts = conn.execute(sa.select(mail_outbox.c.attempts)
                                .where(mail_outbox.c.id == outcome.mail_id)).scalar_one() + 1
        final = outcome.permanent or attempts >= max_attempts
        conn.execute(mail_outbox.update().where(mail_outbox.c.id == outcome.mail_id).values(
            status="failed" if final else "queued", attempts=attempts,
            last_error=outcome.error[:ERROR_MAX],
            next_attempt_at=now if final else now + backoff(attempts)))
        counts["failed" if final else "retry"] += 1
    return counts


def prune(conn: Connection, before: dt.datetime) -> int:
    """Delete sent and failed rows created before ``before``; return how many."""
    return int(conn.execute(mail_outbox.delete().where(
        mail_outbox.c.status.in_(("sent", "failed")),
        mail_outbox.c.created_at < before)).rowcount)


def counts(conn: Connection) -> dict[str, int]:
    """Return the number of outbox rows per status."""
    return {r.status: r.n for r in conn.execute(
        sa.select(mail_outbox.c.status, sa.func.count().label("n"))
        .group_by(mail_outbox.c.status))}


def wants_mail(conn: Connection, user_id: int) -> bool:
    """Tell whether a user gets e-mail notifications (the default) or opted out."""
    return conn.execute(sa.select(mail_opt_outs.c.user_id)
                        .where(mail_opt_outs.c.user_id == user_id)).first() is None


def declined_reasons(conn: Connection, user_id: int) -> set[str]:
    """Return the notification kinds a user turned off one by one."""
    return {reason for _user, reason in _declined(conn, {user_id})}


def set_reason(conn: Connection, user_id: int, reason: str, wanted: bool,
               now: dt.datetime) -> bool:
    """Turn one kind of notification on or off for a user; return whether it changed."""
    if wanted == (reason not in declined_reasons(conn, user_id)):
        return False
    if wanted:
        conn.execute(mail_reason_opt_outs.delete().where(
            mail_reason_opt_outs.c.user_id == user_id, mail_reason_opt_outs.c.reason == reason))
    else:
        conn.execute(mail_reason_opt_outs.insert().values(user_id=user_id, reason=reason,
                                                          created_at=now))
    return True


def set_wants_mail(conn: Connection, user_id: int, wanted: bool, now: dt.datetime) -> bool:
    """Turn a user's e-mail notifications on or off; return whether anything changed."""
    if wanted == wants_mail(conn, user_id):
        return False
    if wanted:
        conn.execute(mail_opt_outs.delete().where(mail_opt_outs.c.user_id == user_id))
    else:
        conn.execute(mail_opt_outs.insert().values(user_id=user_id, created_at=now))
    return True
