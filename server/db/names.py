"""Names that must be unique compare by a folded key, stored beside them and indexed.

"Ops", "OPS" and full-width "ops" are one group name; so are "Ärger" and "ärger", and "Straße"
and "STRASSE". :func:`fold` is Unicode's NFKC_Casefold in spirit (NFKC, full case fold,
NFKC again), with surrounding white space dropped. Tables keep the key in a ``name_key``
column with a unique index, so the database refuses a duplicate that slips past a check
(two nodes creating the same name at once); the API answers that with 409 as well.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from server.errors import ValidationFailed

_TAG = re.compile(r"[\w.-]+")


def fold(name: str) -> str:
    """Return the key two names share exactly when they are the same name to a person."""
    text = unicodedata.normalize("NFKC", name.strip())
    return unicodedata.normalize("NFKC", text.casefold())


def folded(column: str) -> Callable[[Any], str]:
    """Return a SQLAlchemy column default: the folded value of ``column`` in the insert."""

    def default(context: Any) -> str:
        return fold(str(context.get_current_parameters()[column]))

    return default


def with_key(values: dict[str, Any], *, column: str = "name") -> dict[str, Any]:
    """Return ``values`` with ``name_key`` set if they change ``column`` (for updates)."""
    if column in values:
        return {**values, "name_key": fold(str(values[column]))}
    return values


def fold_tags(tags: Iterable[str], *, max_length: int = 50) -> list[str]:
    """Return the distinct folded tags, sorted.

    Raises:
        ValidationFailed: a tag folds to something longer than ``max_length`` or to
            characters a tag may not hold (a ligature may fold to words and spaces).
    """
    out = set()
    for tag in tags:
        key = fold(tag)
        if not key or len(key) > max_length or not _TAG.fullmatch(key):
            raise ValidationFailed("tag {tag!r} is not a valid tag once case-folded", tag=tag)
        out.add(key)
    return sorted(out)
