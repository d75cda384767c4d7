"""The server's message catalogues: gettext .po files read with Babel at start-up.

``server/locales/<language>/LC_MESSAGES/messages.po`` holds one language; the msgids are
the English templates found in the code, so English needs no file. Adding a language is
adding a file (see docs/translating.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import babel
import babel.dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from server.i18n.messages import Gettext, Message, render

log = logging.getLogger("deskmate.i18n")

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"


def po_path(language: str) -> Path:
    """Return the catalogue file of ``language``."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations() -> dict[str, gettext.NullTranslations]:
    found: dict[str, gettext.NullTranslations] = {DEFAULT_LANGUAGE: gettext.NullTranslations()}
    for path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = path.parent.parent.name
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)  # in memory: no .mo file is committed or built
        compiled.seek(0)
        found[language] = gettext.GNUTranslations(compiled)
    return found


def languages() -> tuple[str, ...]:
    """Return the codes of the languages the server speaks, English first."""
    codes = _translations()
    return (DEFAULT_LANGUAGE, *sorted(c for c in codes if c != DEFAULT_LANGUAGE))


class Translator:
    """One language's texts, dates and numbers."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self.locale = babel.Locale.parse(language)
        self._translations = translations
        self.lookup: Gettext = translations.gettext  # a template's translation, unfilled

    def gettext(self, template: str, /, **params: Any) -> str:
        """Return ``template`` in this language with ``params`` filled in."""
        return render(template, params, self._translations.gettext)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """Return the form for ``n`` (also given as ``{n}``) in this language."""
        text = self._translations.ngettext(singular, plural, n)
        english = singular if n == 1 else plural
        return render(english, {"n": n, **params},
                      lambda _template: text)

    def message(self, message: Message | str) -> str:
        """Return a message (or a plain template) in this language."""
        if isinstance(message, str):
            return self.gettext(message)
        return render(message.template, message.params, self.lookup)

    def datetime(self, value: dt.datetime, time_zone: str | None = None) -> str:
        """Return a moment as people of this language write it, in ``time_zone``."""
        zone: dt.tzinfo = dt.UTC
        if time_zone:
            try:
                zone = ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("unknown time zone %r; using UTC", time_zone)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        local = value.astimezone(zone)
        day = babel.dates.format_date(local, "full", locale=self.locale)
        time = babel.dates.format_time(local, "short", tzinfo=zone, locale=self.locale)
        name = babel.dates.get_timezone_name(local, "long", locale=self.locale)
        return f"{day}, {time} {name}"  # "Senin, 07 Desember 2026, 16.05 Waktu Indonesia Barat"


def translator(language: str | None) -> Translator:
    """Return the translator of ``language``; unknown or None is English."""
    return _translator(language if language in _translations() else DEFAULT_LANGUAGE)


@functools.cache
def _translator(language: str) -> Translator:
    return Translator(language, _translations()[language])
