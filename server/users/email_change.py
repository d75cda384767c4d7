"""Changing one's e-mail address: a single-use, expiring link mailed to the new address.

The link carries a random 256-bit secret; only its SHA-256 is stored (``email_changes``),
so the link is as unforgeable as a signature and, unlike a stateless signed token, can be
used once and withdrawn: a newer request replaces the older ones, a confirmation marks
the row used. The address changes only when the link is opened by the same user, logged
in, before it expires (``email_confirm_hours``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import users
from server.errors import ValidationFailed
from server.users.tables import email_changes

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """Return the stored form of a link's secret (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn: Connection, *, user_id: int, new_email: str, now: dt.datetime,
          lifetime: dt.timedelta) -> str:
    """Record a requested change and return the link's secret; older requests lapse."""
    conn.execute(email_changes.delete().where(email_changes.c.user_id == user_id,
                                              email_changes.c.used_at.is_(None)))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(email_changes.insert().values(
        user_id=user_id, new_email=new_email, token_hash=token_hash(token), created_at=now,
        expires_at=now + lifetime))
    return token


def pending(conn: Connection, user_id: int, now: dt.datetime) -> Any:
    """Return the user's change waiting for confirmation (new_email, expires_at), or None."""
    return conn.execute(
        sa.select(email_changes.c.new_email, email_changes.c.expires_at)
        .where(email_changes.c.user_id == user_id, email_changes.c.used_at.is_(None),
               email_changes.c.expires_at > now)
        .order_by(email_changes.c.id.desc()).limit(1)).one_or_none()


def cancel(conn: Connection, user_id: int) -> bool:
    """Withdraw the user's waiting change; return whether there was one."""
    return bool(conn.execute(email_changes.delete().where(
        email_changes.c.user_id == user_id, email_changes.c.used_at.is_(None))).rowcount)


def confirm(conn: Connection, *, user_id: int, token: str,
            now: dt.datetime) -> tuple[str | None, str]:
    """Apply the change a link names; return the old and the new address.

    Raises:
        ValidationFailed: ``invalid_link`` — no such link, another user's, used already,
            expired, or replaced by a newer request (one message for all: a guess learns
            nothing).
    """
    row = conn.execute(sa.select(email_changes).where(
        email_changes.c.token_hash == token_hash(token))).one_or_none()
    if (row is None or row.user_id != user_id or row.used_at is not None
            or row.expires_at <= now):
        raise ValidationFailed("token: this confirmation link is not valid any more: it was "
                               "used already, has expired, or a newer change replaced it",
                               code="invalid_link")
    old = conn.execute(sa.select(users.c.email).where(users.c.id == user_id)).scalar_one()
    conn.execute(email_changes.update().where(email_changes.c.id == row.id)
                 .values(used_at=now))
    conn.execute(users.update().where(users.c.id == user_id)
                 .values(email=row.new_email, updated_at=now))
    return old, str(row.new_email)
