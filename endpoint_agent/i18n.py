"""The texts people read on the endpoint, in the desktop user's language.

Catalogues are flat JSON files in ``endpoint_agent/locales/<language>.json`` (a stable
key to a text with ``{name}`` placeholders), as in the console. The language follows the
locale of the process, the way gettext reads it: ``LANGUAGE`` (a colon-separated list,
unless the locale is C), then ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``; ``id_ID.UTF-8``
is Bahasa Indonesia. Anything else, or a key a catalogue lacks, is English. Adding a
language is adding a file (docs/translating.md).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Return the texts of ``language`` (empty for a language without a file)."""
    path = LOCALES_DIR / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def languages() -> tuple[str, ...]:
    """Return the codes of the languages with a catalogue, English first."""
    found = sorted(p.stem for p in LOCALES_DIR.glob("*.json") if p.stem != DEFAULT_LANGUAGE)
    return (DEFAULT_LANGUAGE, *found)


def _code(locale: str) -> list[str]:
    """Return the codes a locale name may match, most precise first: "pt_BR" and "pt"."""
    name = locale.split(".")[0].split("@")[0].strip().replace("-", "_")
    if not name or name in ("C", "POSIX"):
        return []
    full = name.lower()
    return [full, full.split("_")[0]] if "_" in full else [full]


def language_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return the language the locale variables of ``environ`` (os.environ) ask for."""
    env = os.environ if environ is None else environ
    locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    wanted: list[str] = []
    if env.get("LANGUAGE") and _code(locale):  # gettext ignores LANGUAGE in the C locale
        wanted += env["LANGUAGE"].split(":")
    wanted.append(locale)
    available = languages()
    for item in wanted:
        for code in _code(item):
            if code in available:
                return code
    return DEFAULT_LANGUAGE


class Texts:
    """The texts of one language, English where it lacks one."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._own = catalogue(language)
        self._english = catalogue(DEFAULT_LANGUAGE)

    def __call__(self, key: str, /, **params: object) -> str:
        """Return the text of ``key`` with its ``{name}`` placeholders filled in."""
        for table in (self._own, self._english):
            if key in table:
                try:
                    return table[key].format(**params)
                except (KeyError, IndexError, ValueError):
                    continue
        return key


def texts(environ: Mapping[str, str] | None = None) -> Texts:
    """Return the texts of the language the locale of ``environ`` (os.environ) asks for."""
    return Texts(language_from_env(environ))
