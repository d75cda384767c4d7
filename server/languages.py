"""The console's languages: one catalogue file per language, listed at /api/v1/languages."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path

from aiohttp import web
from msgspec import Struct

from server.api.routing import PUBLIC, ApiRequest, Router, json_response
from server.console import CONSOLE_DIR

LOCALES_DIR = CONSOLE_DIR / "static" / "locales"

router = Router("system")


class Language(Struct, kw_only=True):
    """A language the console speaks: its code (the catalogue's file name) and own name."""

    code: str
    name: str


class LanguageList(Struct, kw_only=True):
    """Every language with a catalogue, English first, then by code."""

    items: list[Language]


@cache
def _read(directory: Path) -> tuple[Language, ...]:
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            catalogue = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a broken file is a translator's work in progress, not a language
        name = catalogue.get("language.name") if isinstance(catalogue, dict) else None
        if isinstance(name, str) and name.strip():
            found.append(Language(code=path.stem, name=name.strip()))
    return tuple(sorted(found, key=lambda lang: (lang.code != "en", lang.code)))


def languages(directory: Path = LOCALES_DIR) -> list[Language]:
    """Return the languages whose catalogue in ``directory`` names itself ("language.name")."""
    return list(_read(directory))


@router.route("GET", "/api/v1/languages", roles=PUBLIC, summary="List the console's languages",
              response=LanguageList)
async def list_languages(_req: ApiRequest) -> web.Response:
    """List the languages of the console's catalogues, for the login page's language menu."""
    # Read once per process, off the event loop: the catalogues ship with the console.
    return json_response(LanguageList(items=await asyncio.to_thread(languages)))
