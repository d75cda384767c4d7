"""Pick a language from an Accept-Language header (RFC 9110 section 12.5.4); pure."""

from __future__ import annotations

from collections.abc import Sequence

MAX_HEADER = 1000  # longer headers are cut: nobody prefers fifty languages


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def preferences(header: str) -> list[str]:
    """Return the language ranges of ``header``, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:MAX_HEADER].split(",")):
        tag, *params = item.split(";")
        tag = tag.strip().lower().replace("_", "-")
        q = _quality(params)
        if tag and q > 0:
            ranked.append((-q, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def best_language(header: str | None, available: Sequence[str]) -> str | None:
    """Return the available language ``header`` prefers most, or None when none fits.

    A range matches a language with the same tag or the same primary subtag
    ("id-ID" matches "id"); "*" matches nothing in particular, so the default applies.
    """
    if not header:
        return None
    codes = {code.lower().replace("_", "-"): code for code in available}
    for tag in preferences(header):
        if tag in codes:
            return codes[tag]
        primary = tag.split("-")[0]
        if primary in codes:
            return codes[primary]
    return None
