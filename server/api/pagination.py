"""Keyset pagination cursors: opaque to clients, stable under concurrent inserts."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from server.errors import BadRequest


def encode_cursor(*key: Any) -> str:
    """Return an opaque cursor for the sort key of the last item of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int | None) -> list[Any]:
    """Return the sort key stored in ``cursor`` (of ``arity`` values; 1-3 when None).

    Raises:
        BadRequest: the cursor was not made by :func:`encode_cursor` for this list.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"invalid cursor {cursor!r}", code="invalid_cursor") from exc
    if not isinstance(key, list) or not (
            len(key) == arity if arity is not None else 1 <= len(key) <= 3):
        raise BadRequest(f"invalid cursor {cursor!r}", code="invalid_cursor")
    return key
