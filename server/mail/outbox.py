"""The durable outbox: rows written with the ticket event that causes them, and their states.

Functions here run inside a database transaction (on the writer thread). A ticket event
and the e-mails it causes commit together, so a crash loses neither or both; the
sender (:mod:`server.mail.sender`) delivers queued rows later and records the outcome.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.db.schema import group_members, tickets, users
from server.mail import compose
from server.mail.tables import mail_opt_outs, mail_outbox
from server.users.store import is_system_username

STAFF_ROLES = frozenset({"admin", "technician"})
BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
ERROR_MAX = 500


@dataclass(frozen=True)
class MailConfig:
    """What rendering needs: the console's address and the domain of Message-IDs."""

    base_url: str
    domain: str


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


def _users(conn: Connection, ids: set[int]) -> dict[int, Any]:
    """Return the users among ``ids`` with what deciding and rendering need (one query)."""
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email,
                  users.c.role, users.c.active,
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
                                    staff=r.role in STAFF_ROLES)
            for r in found.values()
            if r.active and r.email and not r.opted_out and compose.valid_address(r.email)
            and not is_system_username(r.username)}


def _insert(conn: Connection, config: MailConfig, ticket_id: int, now: dt.datetime,
            mails: list[tuple[compose.Reason, compose.Mail, int]]) -> None:
    if mails:
        conn.execute(mail_outbox.insert(), [{
            "created_at": now, "ticket_id": ticket_id, "recipient_id": user_id,
            "reason": reason, "to_addr": mail.to_addr, "subject": mail.subject,
            "body": mail.body, "message_id": mail.message_id, "thread_id": mail.thread_id,
            "status": "queued", "attempts": 0, "next_attempt_at": now,
        } for reason, mail, user_id in mails])


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
    row = conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.title,
                                 tickets.c.description, tickets.c.requester_id,
                                 tickets.c.assignee_id)
                       .where(tickets.c.id == ticket_id)).one()
    ticket = compose.Ticket(id=row.id, number=row.number, title=row.title)
    wanted: list[tuple[compose.Reason, int, str | None, bool]] = []  # reason, user, text, first
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
    found = _users(conn, {w[1] for w in wanted} | ({actor_id} if actor_id else set()))
    people = _recipients(found)
    if not people:
        return
    actor = found[actor_id].display_name if actor_id in found else None
    _insert(conn, config, ticket_id, now, [
        (reason, compose.render(reason, ticket, people[user_id], base_url=config.base_url,
                                domain=config.domain, actor=actor, text=text, first=first),
         user_id)
        for reason, user_id, text, first in wanted if user_id in people])


def on_sla_notify(conn: Connection, ticket_id: int, *, text: str, now: dt.datetime) -> None:
    """Queue an SLA escalation mail to the assignee, or the group's staff when unassigned."""
    config = _config(conn)
    if config is None:
        return
    row = conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.title,
                                 tickets.c.assignee_id, tickets.c.group_id)
                       .where(tickets.c.id == ticket_id)).one()
    if row.assignee_id is not None:
        ids = {row.assignee_id}
    elif row.group_id is not None:
        ids = {r.user_id for r in conn.execute(sa.select(group_members.c.user_id)
                                               .where(group_members.c.group_id == row.group_id))}
    else:
        ids = set()
    # Escalations are the desk's business: only staff receive them.
    people = {k: v for k, v in _recipients(_users(conn, ids)).items() if v.staff}
    ticket = compose.Ticket(id=row.id, number=row.number, title=row.title)
    _insert(conn, config, ticket_id, now, [
        ("sla", compose.render("sla", ticket, person, base_url=config.base_url,
                               domain=config.domain, text=text), person.id)
        for person in people.values()])


def backoff(attempts: int) -> dt.timedelta:
    """Return the wait after ``attempts`` failed attempts: 30 s, doubling, at most 1 h."""
    factor: int = 2 ** max(0, attempts - 1)
    return min(BACKOFF_MAX, BACKOFF_FIRST * factor)


def due(conn: Connection, now: dt.datetime, *, limit: int) -> list[Any]:
    """Return up to ``limit`` queued rows whose next attempt has come, oldest first."""
    return list(conn.execute(sa.select(mail_outbox).where(
        mail_outbox.c.status == "queued", mail_outbox.c.next_attempt_at <= now)
        .order_by(mail_outbox.c.id).limit(limit)).all())


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


def set_wants_mail(conn: Connection, user_id: int, wanted: bool, now: dt.datetime) -> bool:
    """Turn a user's e-mail notifications on or off; return whether anything changed."""
    if wanted == wants_mail(conn, user_id):
        return False
    if wanted:
        conn.execute(mail_opt_outs.delete().where(mail_opt_outs.c.user_id == user_id))
    else:
        conn.execute(mail_opt_outs.insert().values(user_id=user_id, created_at=now))
    return True
