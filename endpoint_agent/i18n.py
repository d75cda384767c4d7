"""The texts people read on the endpoint, in the user's language.

Catalogues are flat JSON files in ``endpoint_agent/locales/<language>.json`` (a stable
key to a text with ``{name}`` placeholders), as in the console. The language follows the
locale of the process, the way gettext reads it: ``LANGUAGE`` (a colon-separated list,
unless the locale is C), then ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``; ``id_ID.UTF-8``
is Bahasa Indonesia. Anything else, or a key a catalogue lacks, is English. Adding a
language is adding a file (docs/translating.md).

The person comes before the desktop: when the server says which language the person
bound to a login chose (``login_languages``, kept in :class:`PersonLanguages`), the
agent passes it to its windows in ``DESKMATE_LANGUAGE``, which :func:`texts` reads first.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
from collections.abc import Callable, Mapping
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
# A language the agent chose for its windows (the person's); before the locale.
LANGUAGE_ENV = "DESKMATE_LANGUAGE"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Return the texts of ``language`` (empty for a language without a file)."""
    path = LOCALES_DIR / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


@functools.cache  # the catalogues ship with the agent: the folder is read once
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


languages()  # at import, so that no event loop ever waits for the folder


def available(code: str | None) -> str | None:
    """Return the catalogue a language code names ("id", "pt-BR"), or None for none."""
    found = languages()
    for item in _code(code or ""):
        if item in found:
            return item
    return None


def texts(environ: Mapping[str, str] | None = None) -> Texts:
    """Return the texts of ``DESKMATE_LANGUAGE`` in ``environ`` (os.environ) if a catalogue
    has it, else of the language its locale asks for."""
    env = os.environ if environ is None else environ
    return Texts(available(env.get(LANGUAGE_ENV)) or language_from_env(env))


def desktop_login() -> str | None:
    """Return the login whose desktop the agent serves: its own, or (an agent running as
    root) the user's at the graphical session, if any."""
    uid = os.geteuid()
    if uid != 0:
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return None
    from endpoint_agent.toolbox.support import logged_in_login

    return logged_in_login()


class PersonLanguages:
    """The language each person bound to a login of this computer chose, as the server
    last said (``login_languages``); a login it does not name keeps the locale."""

    def __init__(self, *, desktop: Callable[[], str | None] = desktop_login) -> None:
        self.by_login: dict[str, str] = {}
        self.desktop = desktop  # the login at the desktop the agent's windows go to

    def update(self, by_login: Mapping[str, str]) -> None:
        """Replace what the server said before."""
        self.by_login = dict(by_login)

    def of(self, login: str | None) -> str | None:
        """Return the catalogue of the language the person at ``login`` chose, or None
        (nobody bound, no choice, or a language the agent has no catalogue for)."""
        return available(self.by_login.get(login)) if login else None

    def environ(self) -> dict[str, str]:
        """Return what the environment of a window for the desktop's user adds: the
        person's language in ``DESKMATE_LANGUAGE`` (nothing when none applies)."""
        if not self.by_login:
            return {}
        code = self.of(self.desktop())
        return {LANGUAGE_ENV: code} if code else {}
