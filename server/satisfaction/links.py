"""The signed one-click survey links of the resolution mail (pure).

A link names one ticket, one score and an expiry, and is signed with a server secret
over the ticket's requester: it cannot be turned into a link for another ticket, another
score or a later expiry, and it stops working if the ticket changes hands. The five links
of one mail share a nonce; once one of them has recorded an answer, all five are spent
(server/satisfaction/store.py keeps the nonce on the rating event).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

LINK_DAYS = 14  # how long the links of a resolution mail work
SECRET_NAME = "survey_links"  # noqa: S105 - the name of a secret, not one
TOKEN_PATTERN = r"^[0-9]{1,18}\.[1-5]\.[0-9]{1,12}\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}$(?!\n)"  # noqa: S105
_TOKEN = re.compile(TOKEN_PATTERN)


class LinkError(ValueError):
    """A survey link that cannot be used; ``code`` says why (for the API's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Link:
    """What a valid link says."""

    ticket_id: int
    score: int
    expires: dt.datetime
    nonce: str


def _mac(key: bytes, ticket_id: int, requester_id: int, score: int, expires: int,
         nonce: str) -> str:
    text = f"survey|{ticket_id}|{requester_id}|{score}|{expires}|{nonce}".encode()
    digest = hmac.new(key, text, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_nonce() -> str:
    """Return the nonce that the links of one mail share."""
    return secrets.token_urlsafe(8)


def make(key: bytes, *, ticket_id: int, requester_id: int, score: int, nonce: str,
         now: dt.datetime) -> str:
    """Return the token of one link (ticket, score, expiry, nonce, signature)."""
    expires = int((now + dt.timedelta(days=LINK_DAYS)).timestamp())
    mac = _mac(key, ticket_id, requester_id, score, expires, nonce)
    return f"{ticket_id}.{score}.{expires}.{nonce}.{mac}"


def ticket_of(token: str) -> int:
    """Return the ticket id a token names (unverified: to look up its requester).

    Raises:
        LinkError: ``invalid_link`` for anything not shaped like a token.
    """
    if not _TOKEN.match(token):
        raise LinkError("invalid_link", "this survey link is not valid")
    return int(token.split(".", 1)[0])


def verify(key: bytes, token: str, *, requester_id: int, now: dt.datetime) -> Link:
    """Return what a token says if its signature holds for this requester and it is current.

    Raises:
        LinkError: ``invalid_link`` (malformed or tampered with), ``expired_link``.
    """
    ticket_id = ticket_of(token)
    _tid, score, expires, nonce, mac = token.split(".")
    expected = _mac(key, ticket_id, requester_id, int(score), int(expires), nonce)
    if not hmac.compare_digest(expected, mac):
        raise LinkError("invalid_link", "this survey link is not valid")
    until = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    if until <= now:
        raise LinkError("expired_link", "this survey link has expired")
    return Link(ticket_id=ticket_id, score=int(score), expires=until, nonce=nonce)
