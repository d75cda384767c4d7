"""Collect the server's English templates and update the catalogues: ``python -m
server.i18n.extract`` (a translator's tool; the server itself reads only the .po files).

The templates are the first argument of every error raised (``NotFound("...")``), of
``N_()`` and of ``gettext()``/``ngettext()`` calls, found by Babel's Python extractor.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from server.i18n.catalogues import DOMAIN, LOCALES_DIR

SERVER_DIR = Path(__file__).resolve().parent.parent

# Every exception class of the API tree takes its template as first argument.
ERROR_CLASSES = ("ApiError", "BadRequest", "ValidationFailed", "Unauthorized", "Forbidden",
                 "NotFound", "Conflict", "TooManyRequests", "UnsupportedMediaType",
                 "Unavailable", "TooLarge", "UnsupportedType", "EnrollmentRefused")
KEYWORDS: dict[str, Any] = {
    **{k: v for k, v in DEFAULT_KEYWORDS.items() if k in ("_", "N_", "gettext", "ngettext")},
    **dict.fromkeys(ERROR_CLASSES),
}


def template() -> Catalog:
    """Return every template of the server's code as a catalogue without translations."""
    catalog = Catalog(domain=DOMAIN, project="Deskmate", charset="utf-8")
    found = extract_from_dir(str(SERVER_DIR), method_map=[("**.py", "python")],
                             keywords=KEYWORDS, comment_tags=("Translators:",),
                             strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(f"server/{filename}", lineno)], auto_comments=comments,
                    context=context)
    return catalog


def update(language: str) -> Path:
    """Merge the current templates into ``language``'s catalogue (new ones untranslated)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=language, domain=DOMAIN, project="Deskmate")
    catalog.update(template(), no_fuzzy_matching=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=100, omit_header=False, ignore_obsolete=True,
                 sort_output=True, include_lineno=False)
    return path


def main(argv: list[str]) -> int:
    """Update the catalogues named in ``argv``, or every existing one."""
    names = argv or sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir())
    for language in names:
        print(update(language))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
