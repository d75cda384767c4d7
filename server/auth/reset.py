"""Password reset by e-mail: links, their mail and their use (SQL and the pure parts).

A link carries a random 256-bit secret (``/#/reset-password/<secret>``, in the fragment
so it reaches no server log or Referer); only its SHA-256 digest is stored. It works
once, until ``password_reset_minutes`` after it was asked for, and only for a local,
active account that may sign in with a password (only admins, when "local passwords for
admins only" is on); using it voids every other link of that account. The request is
answered the same whether or not the address belongs to anyone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth.credentials import digest
from server.auth.ratelimit import FailureCounter, address_key
from server.auth.tables import password_resets
from server.db.schema import users
from server.directory.tables import directory_accounts
from server.mail import compose, outbox
from server.users.store import is_system_username


class ResetThrottle:
    """Reset requests counted per e-mail address and per client address (pure)."""

    def __init__(self, *, per_address: int, per_ip: int, window: float) -> None:
        self.addresses = FailureCounter(limit=per_address, window=window)
        self.ips = FailureCounter(limit=per_ip, window=window)

    def retry_after(self, email: str, ip: str, now: float) -> float:
        """Return seconds until a request for ``email`` from ``ip`` may be made."""
        return max(self.addresses.retry_after("mail:" + email, now),
                   self.ips.retry_after(address_key(ip), now))

    def count(self, email: str, ip: str, now: float) -> None:
        """Count one request (whether or not the address belongs to anyone)."""
        self.addresses.add("mail:" + email, now)
        self.ips.add(address_key(ip), now)


def link(base_url: str, secret: str) -> str:
    """Return the console link that opens the reset form for ``secret``."""
    return f"{base_url.rstrip('/')}/#/reset-password/{secret}"


def local_accounts_of(conn: Connection, email: str, *, admins_only: bool) -> list[Any]:
    """Return the active local accounts (no directory, not the server's own) with the
    address ``email`` (compared case-insensitively); only admins when ``admins_only``."""
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email,
                  users.c.language, users.c.role)
        .outerjoin(directory_accounts, directory_accounts.c.user_id == users.c.id)
        .where(sa.func.lower(users.c.email) == email.lower(), users.c.active.is_(True),
               directory_accounts.c.user_id.is_(None))
        .order_by(users.c.id)).all()
    return [r for r in rows if not is_system_username(r.username)
            and (r.role == "admin" or not admins_only)]


def request_links(conn: Connection, email: str, *, now: dt.datetime, minutes: int,
                  admins_only: bool) -> int:
    """Make a link for every local account of ``email`` that may use a password and
    queue its mail; return how many mails were queued (0 when nobody has the address or
    mail is off)."""
    base = outbox.base_url(conn)
    if base is None:
        return 0
    queued = 0
    for row in local_accounts_of(conn, email, admins_only=admins_only):
        secret = secrets.token_urlsafe(32)
        conn.execute(password_resets.insert().values(
            user_id=row.id, token_hash=digest(secret), created_at=now,
            expires_at=now + dt.timedelta(minutes=minutes)))
        tr, product = outbox.account_voice(conn, row.language)
        outbox.queue_account_mail(
            conn, user_id=row.id, to_addr=row.email, now=now,
            mail=compose.password_reset(tr, product=product, name=row.display_name,
                                        username=row.username, link=link(base, secret),
                                        minutes=minutes))
        queued += 1
    return queued


@dataclass(frozen=True)
class ResetLink:
    """A link found valid: whose it is."""

    id: int
    user_id: int
    username: str


def find_link(conn: Connection, secret: str, now: dt.datetime, *,
              admins_only: bool) -> ResetLink | None:
    """Return the unused, unexpired link of ``secret`` for an active local account
    that may use a password (a link asked for before "admins only" was turned on does
    not work for anyone else after)."""
    row = conn.execute(
        sa.select(password_resets.c.id, password_resets.c.user_id,
                  password_resets.c.expires_at, password_resets.c.used_at,
                  users.c.username, users.c.active, users.c.role,
                  directory_accounts.c.user_id.label("directory_user"))
        .join(users, users.c.id == password_resets.c.user_id)
        .outerjoin(directory_accounts, directory_accounts.c.user_id == users.c.id)
        .where(password_resets.c.token_hash == digest(secret))).one_or_none()
    if (row is None or row.used_at is not None or row.expires_at <= now or not row.active
            or row.directory_user is not None or (admins_only and row.role != "admin")):
        return None
    return ResetLink(id=row.id, user_id=row.user_id, username=row.username)


def use_link(conn: Connection, found: ResetLink, now: dt.datetime) -> bool:
    """Spend the link and void the account's other links; False if spent meanwhile."""
    spent = conn.execute(password_resets.update().where(
        password_resets.c.id == found.id, password_resets.c.used_at.is_(None))
        .values(used_at=now)).rowcount
    if not spent:
        return False
    conn.execute(password_resets.update().where(
        password_resets.c.user_id == found.user_id, password_resets.c.used_at.is_(None))
        .values(used_at=now))
    return True
