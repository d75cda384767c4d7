"""Console sessions and API tokens: random secrets given once, stored only as hashes.

Both secrets carry 256 bits of randomness, so a plain SHA-256 is enough to make a
leaked database useless for logging in (no KDF needed for high-entropy tokens).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth.identity import Identity
from server.auth.identity_cache import STAMP
from server.auth.tables import user_totp
from server.db.schema import api_tokens, auth_sessions, users

TOKEN_PREFIX = "dm_"  # noqa: S105 - a marker, not a secret
# Refresh last_seen_at at most this often, so every request is not a write.
_TOUCH_EVERY = dt.timedelta(minutes=1)
# Marks a write that only records use: the identity cache ignores it.
_STAMP = {STAMP: True}


def _has_factor() -> sa.Exists:
    """Return whether the joined user has a confirmed second factor (a column)."""
    return sa.exists().where(user_totp.c.user_id == users.c.id,
                             user_totp.c.confirmed_at.is_not(None))


def digest(secret: str) -> str:
    """Return the stored form of a session or token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just created: the cookie value is only known here."""

    secret: str
    csrf_token: str
    expires_at: dt.datetime


def create_session(conn: Connection, user_id: int, *, now: dt.datetime,
                   max_age: dt.timedelta) -> NewSession:
    """Store a new console session for ``user_id`` and return its secrets."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + max_age
    conn.execute(auth_sessions.insert().values(
        token_hash=digest(secret), csrf_token=csrf, user_id=user_id,
        created_at=now, last_seen_at=now, expires_at=expires,
    ))
    return NewSession(secret=secret, csrf_token=csrf, expires_at=expires)


@dataclass(frozen=True)
class SessionLookup:
    """A found session and whether its last-seen time should be refreshed."""

    identity: Identity
    stale: bool
    seen: dt.datetime | None = None  # last recorded use (the identity cache keeps it)


def is_stale(seen: dt.datetime | None, now: dt.datetime) -> bool:
    """Tell whether a credential last recorded as used at ``seen`` is due a refresh."""
    return seen is None or seen + _TOUCH_EVERY <= now


def find_session(conn: Connection, secret: str, *, now: dt.datetime,
                 idle: dt.timedelta) -> SessionLookup | None:
    """Return the live session for a cookie value, or None if unknown or expired."""
    row = conn.execute(
        sa.select(auth_sessions.c.id, auth_sessions.c.csrf_token,
                  auth_sessions.c.last_seen_at, auth_sessions.c.expires_at,
                  users.c.id.label("user_id"), users.c.username, users.c.role,
                  users.c.language, _has_factor().label("second_factor"))
        .join(users, users.c.id == auth_sessions.c.user_id)
        .where(auth_sessions.c.token_hash == digest(secret), users.c.active.is_(True))
    ).one_or_none()
    if row is None or row.expires_at <= now or row.last_seen_at + idle <= now:
        return None
    identity = Identity(user_id=row.user_id, username=row.username, role=row.role,
                        via="session", credential_id=row.id, csrf_token=row.csrf_token,
                        expires_at=row.expires_at, second_factor=bool(row.second_factor),
                        language=row.language)
    return SessionLookup(identity=identity, stale=is_stale(row.last_seen_at, now),
                         seen=row.last_seen_at)


def current_identity(conn: Connection, identity: Identity, *,
                     now: dt.datetime) -> Identity | None:
    """Return ``identity`` as it stands now (its role may have changed), or None once its
    credential is gone: logged out, expired, revoked, or the user deactivated.

    For a connection that outlives its request (a WebSocket), checked again from time to
    time; it has no idle timeout of its own, since the open socket is the activity.
    """
    table = auth_sessions if identity.via == "session" else api_tokens
    row = conn.execute(
        sa.select(table.c.expires_at, users.c.role, users.c.language)
        .join(users, users.c.id == table.c.user_id)
        .where(table.c.id == identity.credential_id, users.c.id == identity.user_id,
               users.c.active.is_(True))
    ).one_or_none()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return replace(identity, role=row.role, language=row.language)


def touch_session(conn: Connection, session_id: int, now: dt.datetime) -> None:
    """Record activity on a session (extends its idle timeout)."""
    conn.execute(auth_sessions.update().where(auth_sessions.c.id == session_id)
                 .values(last_seen_at=now).execution_options(**_STAMP))


def delete_session(conn: Connection, session_id: int) -> None:
    """End one console session."""
    conn.execute(auth_sessions.delete().where(auth_sessions.c.id == session_id))


def delete_user_sessions(conn: Connection, user_id: int, *, keep: int | None = None) -> int:
    """End every console session of a user but ``keep``; return how many ended.

    Called on deactivation, a role change and any password change.
    """
    query = auth_sessions.delete().where(auth_sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(auth_sessions.c.id != keep)
    return int(conn.execute(query).rowcount)


def delete_user_tokens(conn: Connection, user_id: int, *, keep: int | None = None) -> int:
    """Revoke every API token of a user but ``keep``; return how many were revoked.

    Called on any password change, deactivation and reactivation: a token never outlives
    the trust it was made under.
    """
    query = api_tokens.delete().where(api_tokens.c.user_id == user_id)
    if keep is not None:
        query = query.where(api_tokens.c.id != keep)
    return int(conn.execute(query).rowcount)


def cap_token_lifetimes(conn: Connection, max_age: dt.timedelta) -> int:
    """Give every token an expiry at most ``max_age`` after its creation; return how many
    changed (tokens made without an expiry by earlier versions, or a lowered maximum)."""
    changed = 0
    for row in conn.execute(sa.select(api_tokens.c.id, api_tokens.c.created_at,
                                      api_tokens.c.expires_at)).all():
        latest = row.created_at + max_age
        if row.expires_at is None or row.expires_at > latest:
            conn.execute(api_tokens.update().where(api_tokens.c.id == row.id)
                         .values(expires_at=latest))
            changed += 1
    return changed


def purge_expired_sessions(conn: Connection, now: dt.datetime) -> int:
    """Delete sessions past their absolute expiry; return how many."""
    result = conn.execute(auth_sessions.delete().where(auth_sessions.c.expires_at <= now))
    return result.rowcount


@dataclass(frozen=True)
class NewToken:
    """An API token just created: the secret is only known here."""

    id: int
    secret: str


def create_token(conn: Connection, user_id: int, name: str, *, now: dt.datetime,
                 expires_at: dt.datetime) -> NewToken:
    """Store a new API token for ``user_id`` and return its secret."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(api_tokens.insert().values(
        user_id=user_id, name=name, token_hash=digest(secret), prefix=secret[:8],
        created_at=now, expires_at=expires_at,
    )).inserted_primary_key[0]  # type: ignore[index]
    return NewToken(id=int(token_id), secret=secret)


def find_token(conn: Connection, secret: str, *, now: dt.datetime) -> SessionLookup | None:
    """Return the identity behind a bearer token, or None if unknown or expired."""
    row = conn.execute(
        sa.select(api_tokens.c.id, api_tokens.c.expires_at, api_tokens.c.last_used_at,
                  users.c.id.label("user_id"), users.c.username, users.c.role,
                  users.c.language, _has_factor().label("second_factor"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == digest(secret), users.c.active.is_(True))
    ).one_or_none()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    identity = Identity(user_id=row.user_id, username=row.username, role=row.role,
                        via="token", credential_id=row.id, expires_at=row.expires_at,
                        second_factor=bool(row.second_factor), language=row.language)
    return SessionLookup(identity=identity, stale=is_stale(row.last_used_at, now),
                         seen=row.last_used_at)


def touch_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    """Record that a token was used."""
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id)
                 .values(last_used_at=now).execution_options(**_STAMP))
