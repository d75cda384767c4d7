"""The console's message catalogues: every language has every key, placeholders agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[2] / "console" / "static" / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalogues() -> dict[str, dict[str, str]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(LOCALES.glob("*.json"))}


def test_english_and_indonesian_exist() -> None:
    """The console ships English (the fallback) and Bahasa Indonesia."""
    assert {"en", "id"} <= set(_catalogues())


def test_every_language_has_every_key() -> None:
    """No catalogue lacks a key another one has, so no page falls back to English text."""
    catalogues = _catalogues()
    keys = {name: set(messages) for name, messages in catalogues.items()}
    everything = set().union(*keys.values())
    missing = {name: sorted(everything - have) for name, have in keys.items() if everything - have}
    assert missing == {}


def test_placeholders_agree_across_languages() -> None:
    """A translation uses exactly the {placeholders} of the English text."""
    catalogues = _catalogues()
    english = catalogues["en"]
    wrong = [
        (name, key)
        for name, messages in catalogues.items()
        for key, text in messages.items()
        if key in english
        and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english[key]))
    ]
    assert wrong == []


def test_texts_are_non_empty_strings() -> None:
    """Every value is a non-blank string (a blank one would show nothing on the page)."""
    bad = [(name, key) for name, messages in _catalogues().items()
           for key, text in messages.items() if not isinstance(text, str) or not text.strip()]
    assert bad == []
