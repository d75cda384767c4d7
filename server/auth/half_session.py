"""The half-session between a correct password and the second factor (pure).

A login whose password is right for an account with a second factor does not get a
session: it gets this short-lived signed cookie, ``<user id>.<issued at>.<HMAC>``, which
only the second step (:mod:`server.auth.factor_views`) accepts. The MAC also covers the
account's password hash, so a password change or reset in between voids it. It is
signed with the server-wide device-cookie key under its own label, so a device cookie can
never pass for a half-session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

COOKIE = "deskmate_half_session"
COOKIE_PATH = "/api/v1/auth/login"
MAX_AGE_SECONDS = 300
_LABEL = b"deskmate half-session v1\x00"


def _mac(key: bytes, payload: str, password_hash: str) -> str:
    digest = hmac.new(key, _LABEL + f"{payload}\x00{password_hash}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: bytes, user_id: int, password_hash: str, *, now: float) -> str:
    """Return a half-session for ``user_id`` issued at ``now`` (Unix seconds)."""
    payload = f"{user_id}.{int(now)}"
    return f"{payload}.{_mac(key, payload, password_hash)}"


def user_of(value: str | None) -> int | None:
    """Return the user id a half-session names (unchecked), or None if malformed."""
    parts = (value or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0])


def check(key: bytes, value: str, password_hash: str, *, now: float) -> bool:
    """Tell whether ``value`` is a correctly signed, unexpired half-session made while
    the account had ``password_hash``."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode(), _mac(key, payload, password_hash).encode()):
        return False
    return 0 <= now - int(parts[1]) < MAX_AGE_SECONDS
