"""The server's catalogues against its code: every template translated, placeholders kept."""

from __future__ import annotations

import ast
import string

import pytest
from babel.messages.pofile import read_po

from server.i18n.catalogues import LOCALES_DIR, languages, po_path, translator
from server.i18n.extract import ERROR_CLASSES, SERVER_DIR, template

TRANSLATED = [code for code in languages() if code != "en"]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _catalogue(language: str) -> dict[str, str]:
    with po_path(language).open("rb") as file:
        catalog = read_po(file, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str)}


def test_indonesian_ships() -> None:
    """English and Bahasa Indonesia are the languages the server speaks."""
    assert languages()[:1] == ("en",)
    assert "id" in languages()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_template_is_translated(language: str) -> None:
    """Every English template in the server's code has a translation in each catalogue."""
    wanted = {str(m.id) for m in template() if m.id}
    have = _catalogue(language)
    missing = sorted(t for t in wanted if not have.get(t))
    assert not missing, f"untranslated in {language} (run python -m server.i18n.extract): " \
                        f"{missing[:10]}"
    stale = sorted(set(have) - wanted)
    assert not stale, f"templates no longer in the code: {stale[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders(language: str) -> None:
    """A translation names exactly the placeholders of its English template."""
    for english, translated in _catalogue(language).items():
        assert _placeholders(translated) == _placeholders(english), (english, translated)
        assert translated != english or not any(c.isalpha() for c in english.strip("{}")) \
            or english in {"null"}, f"not translated: {english!r}"


def test_error_messages_are_templates_not_formatted_text() -> None:
    """No error is raised with an f-string, % or .format(): values go in as parameters."""
    offenders = []
    for path in sorted(SERVER_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in (*ERROR_CLASSES, "N_"):
                continue
            first = node.args[0]
            if isinstance(first, ast.JoinedStr | ast.BinOp) or (
                    isinstance(first, ast.Call) and getattr(first.func, "attr", "") in
                    ("format", "join")):
                offenders.append(f"{path.relative_to(SERVER_DIR)}:{node.lineno}")
    assert not offenders


def test_locales_hold_only_po_files() -> None:
    """The catalogues are .po files read at start-up: no compiled .mo file is committed."""
    files = [p for p in LOCALES_DIR.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".po" for p in files)


def test_unknown_language_and_broken_translation_fall_back_to_english() -> None:
    """An unknown code is English; a template missing from a catalogue stays English."""
    assert translator("xx").gettext("no user with id {user_id}", user_id=3) == \
        "no user with id 3"
    assert translator("id").gettext("not in any catalogue {n}", n=1) == \
        "not in any catalogue 1"
    assert translator("id").gettext("no user with id {user_id}", user_id=3) == \
        "tidak ada pengguna dengan id 3"


def test_architecture_of_the_extractor_covers_the_server() -> None:
    """The extractor walks the whole server package (its own modules included)."""
    files = {loc[0] for m in template() for loc in m.locations}
    assert "server/middleware.py" in files and "server/mail/compose.py" in files
