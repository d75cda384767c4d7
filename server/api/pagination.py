"""Keyset pagination cursors: opaque to clients, stable under concurrent inserts.

A cursor holds the sort key of the last row of a page as a JSON array. Clients may send
anything back, so :func:`decode_cursor` checks every value against the kind the list
declares (:data:`INT`, :data:`FLOAT`, :data:`DATETIME` ...) before it reaches a query:
a tampered cursor is a 400, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from server.errors import BadRequest

# What a database integer column holds (SQLite and PostgreSQL BIGINT).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

KeyKind = Callable[[object], Any]
"""Checks one cursor value and returns it as the query needs it (ValueError if wrong)."""


def INT(value: object) -> int:
    """Return ``value`` if it is a 64-bit integer (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError(f"integer {value!r} out of range")
    return value


def OFFSET(value: object) -> int:
    """Return ``value`` if it is a non-negative 64-bit integer."""
    number = INT(value)
    if number < 0:
        raise ValueError(f"negative offset {number!r}")
    return number


def FLAG(value: object) -> int:
    """Return ``value`` if it is the integer 0 or 1."""
    number = INT(value)
    if number not in (0, 1):
        raise ValueError(f"expected 0 or 1, got {value!r}")
    return number


def FLOAT(value: object) -> float:
    """Return ``value`` as a float if it is a finite number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError as exc:  # an integer beyond the float range
        raise ValueError(f"number {value!r} out of range") from exc
    if not math.isfinite(number):
        raise ValueError(f"number {value!r} out of range")
    return number


def DATETIME(value: object) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime if it is an ISO 8601 string with a zone."""
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone")
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # the zone moves it past year 1 or 9999
        raise ValueError(f"timestamp {value!r} out of range") from exc


def OPTIONAL_DATETIME(value: object) -> dt.datetime | None:
    """Return None for null, else as :func:`DATETIME`."""
    return None if value is None else DATETIME(value)


def encode_cursor(*key: Any) -> str:
    """Return an opaque cursor for the sort key of the last item of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: KeyKind) -> list[Any]:
    """Return the sort key stored in ``cursor``, one value per kind, each checked.

    Raises:
        BadRequest: the cursor was not made by :func:`encode_cursor` for a list whose sort
            key has these kinds (tampered, truncated, or from another sort).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise BadRequest("invalid cursor {cursor!r}", code="invalid_cursor", cursor=cursor) from exc
    if not isinstance(key, list) or len(key) != len(kinds):
        raise BadRequest("invalid cursor {cursor!r} for this list", code="invalid_cursor",
                         cursor=cursor)
    try:
        return [kind(value) for kind, value in zip(kinds, key, strict=True)]
    except ValueError as exc:
        raise BadRequest("invalid cursor {cursor!r} for this list: {exc}",
                         code="invalid_cursor", cursor=cursor, exc=exc) from exc
