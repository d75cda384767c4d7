"""Signed device cookies: a browser that logged in to an account is its trusted client.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies": a successful login gets
a cookie ``<user id>.<issued at>.<nonce>.<HMAC-SHA256>`` signed with a key kept in the
database (one key for every server node). Presented on a later login to the same
account, it lets that browser skip the account's untrusted-client lockout and count its
own failures instead (:mod:`server.auth.ratelimit`). The cookie holds the entries of up
to :data:`MAX_ENTRIES` accounts (``~`` between them), newest first, so a shared computer
stays trusted for each of its users. Signing and checking are pure; the key is loaded
once at start-up (:func:`load_key`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from server.auth.tables import server_secrets

COOKIE = "deskmate_device"
COOKIE_PATH = "/api/v1/auth"  # sent with logins and password changes only
MAX_ENTRIES = 5
KEY_NAME = "device_cookie_key"


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: bytes, user_id: int, *, now: float) -> str:
    """Return a new signed entry for ``user_id`` issued at ``now`` (Unix seconds)."""
    payload = f"{user_id}.{int(now)}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_mac(key, payload)}"


def _parse(key: bytes, entry: str) -> tuple[int, int, str] | None:
    """Return (user id, issued at, nonce) of a correctly signed entry, else None."""
    parts = entry.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3].encode(), _mac(key, payload).encode()):
        return None
    return int(parts[0]), int(parts[1]), parts[2]


def trusted_device(key: bytes, cookie: str | None, user_id: int | None, *, now: float,
                   max_age: float) -> str | None:
    """Return the device id (the nonce) if ``cookie`` holds a valid, unexpired entry for
    ``user_id``; None for an untrusted client."""
    if not cookie or user_id is None:
        return None
    for entry in cookie.split("~")[:MAX_ENTRIES]:
        parsed = _parse(key, entry)
        if parsed is not None and parsed[0] == user_id and 0 <= now - parsed[1] < max_age:
            return parsed[2]
    return None


def updated(key: bytes, cookie: str | None, user_id: int, *, now: float,
            max_age: float) -> str:
    """Return the cookie value after a successful login of ``user_id``: a fresh entry for
    them first, then the still valid entries of other accounts."""
    kept = [issue(key, user_id, now=now)]
    for entry in (cookie or "").split("~")[:MAX_ENTRIES]:
        parsed = _parse(key, entry)
        if (parsed is not None and parsed[0] != user_id and 0 <= now - parsed[1] < max_age
                and len(kept) < MAX_ENTRIES):
            kept.append(entry)
    return "~".join(kept)


def load_key(conn: Connection, now: dt.datetime) -> bytes:
    """Return the signing key, creating it on first use (shared by all server nodes)."""
    return load_secret(conn, KEY_NAME, now)


def load_secret(conn: Connection, name: str, now: dt.datetime) -> bytes:
    """Return the server secret ``name``, creating it on first use (shared by all nodes)."""
    found = conn.execute(sa.select(server_secrets.c.value)
                         .where(server_secrets.c.name == name)).scalar()
    if found is None:
        try:
            with conn.begin_nested():
                conn.execute(server_secrets.insert().values(
                    name=name, value=secrets.token_urlsafe(32), created_at=now))
        except IntegrityError:  # another node created it at the same moment
            pass
        found = conn.execute(sa.select(server_secrets.c.value)
                             .where(server_secrets.c.name == name)).scalar_one()
    return str(found).encode()
