"""Which ticket a reply belongs to: signed reply tokens, Message-IDs, the subject's number.

Every ticket mail Deskmate sends after the receipt carries a reply token signed with a
server key (HMAC-SHA256) in its Message-ID, and in the plus-tag of its Reply-To address
when ``mail_reply_address`` is set. A reply names the Message-ID in In-Reply-To and
References (RFC 5322 section 3.6.4), so the token comes back and names its ticket; it
cannot be made up for another ticket without the key. The receipt's Message-ID
``<ticket-{id}.{number}@domain>`` and a ticket number in the subject are weaker clues:
whichever clue names the ticket, the sender must be allowed to see it, or the mail opens
a new ticket (:mod:`server.mail.inbound.ingest`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from server.auth.devices import load_secret

KEY_NAME = "mail_reply_key"
TAG = "dm"  # the token's prefix in a Message-ID local part or an address's plus-tag
_TOKEN = re.compile(rf"\b{TAG}-([0-9]{{1,18}})-([0-9]{{1,18}})-([a-z2-7]{{16}})\b")
_ROOT = re.compile(r"^<ticket-([0-9]{1,18})\.([a-z]{3}-[0-9]{1,12})@", re.IGNORECASE)
_SUBJECT_NUMBER = re.compile(r"\[#?\s*([A-Za-z]{3}-[0-9]{1,12})\s*\]|\b((?:INC|REQ|PRB)-"
                             r"[0-9]{4,12})\b")


def _mac(key: bytes, ticket_id: int, user_id: int) -> str:
    digest = hmac.new(key, f"mail-reply:{ticket_id}:{user_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:16]


def token(key: bytes, ticket_id: int, user_id: int) -> str:
    """Return the signed reply token of the mails one user gets about one ticket."""
    return f"{TAG}-{ticket_id}-{user_id}-{_mac(key, ticket_id, user_id)}"


def message_id(key: bytes, ticket_id: int, user_id: int, domain: str) -> str:
    """Return a fresh Message-ID that carries the signed reply token."""
    return f"<{token(key, ticket_id, user_id)}-{secrets.token_hex(6)}@{domain}>"


def reply_address(address: str, message_id_value: str) -> str | None:
    """Return ``address`` with the token of a Message-ID as its plus-tag (None: no token)."""
    found = _TOKEN.search(message_id_value)
    local, at, domain = address.rpartition("@")
    if found is None or not at:
        return None
    return f"{local}+{found.group(0)}@{domain}"


def verified(key: bytes, values: Iterable[str]) -> tuple[int, int] | None:
    """Return (ticket id, user id) of the first validly signed token in ``values``."""
    for value in values:
        for found in _TOKEN.finditer(value.lower()):
            ticket_id, user_id, mac = int(found.group(1)), int(found.group(2)), found.group(3)
            if hmac.compare_digest(mac, _mac(key, ticket_id, user_id)):
                return ticket_id, user_id
    return None


def root_ticket(values: Iterable[str]) -> tuple[int, str] | None:
    """Return (ticket id, number) named by a receipt's Message-ID among ``values``."""
    for value in values:
        found = _ROOT.match(value)
        if found:
            return int(found.group(1)), found.group(2).upper()
    return None


def subject_number(subject: str) -> str | None:
    """Return the ticket number in a subject ("[#INC-000123] ..." or a bare INC-000123)."""
    found = _SUBJECT_NUMBER.search(subject)
    if found is None:
        return None
    prefix, _, digits = (found.group(1) or found.group(2)).upper().partition("-")
    return f"{prefix}-{int(digits):06d}"


def load_key(conn: Connection, now: dt.datetime) -> bytes:
    """Return the reply-token key, creating it on first use (shared by all server nodes)."""
    return load_secret(conn, KEY_NAME, now)
