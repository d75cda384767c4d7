"""The agent's catalogues and the language it picks from the locale (pure)."""

from __future__ import annotations

import json
import string

import pytest

from endpoint_agent.i18n import (
    LANGUAGE_ENV,
    LOCALES_DIR,
    PersonLanguages,
    Texts,
    language_from_env,
    languages,
    texts,
)
from endpoint_agent.remote import ui


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _catalogue(code: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES_DIR / f"{code}.json").read_text("utf-8"))
    return data


@pytest.mark.parametrize("code", [c for c in languages() if c != "en"])
def test_every_key_is_in_every_catalogue_with_its_placeholders(code: str) -> None:
    """Each catalogue has exactly the English keys, translated, with the same placeholders."""
    english, other = _catalogue("en"), _catalogue(code)
    assert sorted(other) == sorted(english)
    for key, text in english.items():
        assert _placeholders(other[key]) == _placeholders(text), key
        assert other[key] != text or key == "tray.toast.rate", f"{code} copies {key!r}"
    assert list(other) == sorted(other)  # kept sorted, as the console's


def test_indonesian_ships() -> None:
    """English and Bahasa Indonesia are the agent's languages."""
    assert languages()[0] == "en" and "id" in languages()


@pytest.mark.parametrize(("environ", "code"), [
    ({"LANG": "id_ID.UTF-8"}, "id"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "id_ID.UTF-8"}, "id"),
    ({"LANG": "id_ID.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
    ({"LANGUAGE": "fr:id:en", "LANG": "fr_FR.UTF-8"}, "id"),
    ({"LANGUAGE": "id", "LANG": "C.UTF-8"}, "en"),  # gettext ignores LANGUAGE in C
    ({"LANG": "de_DE@euro"}, "en"),
    ({}, "en"),
])
def test_language_follows_the_locale_like_gettext(environ: dict[str, str], code: str) -> None:
    """LANGUAGE, then LC_ALL, LC_MESSAGES and LANG decide; anything unknown is English."""
    assert language_from_env(environ) == code


def test_missing_key_falls_back_to_english() -> None:
    """A text a catalogue lacks is the English one; an unknown key shows itself."""
    assert Texts("xx")("tray.menu.quit") == "Quit"
    assert texts({"LANG": "id_ID.UTF-8"})("no.such.key") == "no.such.key"


def test_indicator_text_in_indonesian_keeps_the_ticket_and_elides_the_name() -> None:
    """The Indonesian indicator names who and the whole ticket number; the name gives way."""
    tr = texts({"LANG": "id_ID.UTF-8"})

    def measure(text: str) -> int:
        return len(text) * 7

    short = ui.indicator_text("Tina", "view", "INC-000042", 600, measure, tr)
    assert short == "Tina melihat layar Anda (INC-000042)"
    long = ui.indicator_text("Bartholomew " * 20, "control", "INC-000042", 300, measure, tr)
    assert long.endswith("\u2026 mengendalikan layar Anda (INC-000042)")
    assert measure(long) <= 300


def test_the_persons_language_comes_before_the_locale() -> None:
    """DESKMATE_LANGUAGE (the person's language) wins over LANG; one without a catalogue
    leaves the locale's."""
    assert texts({LANGUAGE_ENV: "id", "LANG": "C"}).language == "id"
    assert texts({LANGUAGE_ENV: "id-ID", "LANG": "en_US.UTF-8"}).language == "id"
    assert texts({LANGUAGE_ENV: "en", "LANG": "id_ID.UTF-8"}).language == "en"
    assert texts({LANGUAGE_ENV: "xx", "LANG": "id_ID.UTF-8"}).language == "id"
    assert texts({LANGUAGE_ENV: "", "LANG": "C"}).language == "en"


def test_windows_get_the_language_of_the_person_at_the_desktop() -> None:
    """Only the language of the person bound to the desktop's login reaches the windows."""
    at_desk = {"login": "ayu"}
    people = PersonLanguages(desktop=lambda: at_desk["login"])
    assert people.environ() == {}  # the server said nothing: the desktop's locale
    people.update({"ayu": "id", "budi": "en", "cici": "xx"})
    assert people.environ() == {LANGUAGE_ENV: "id"}
    assert (people.of("budi"), people.of("cici"), people.of("dewi"), people.of(None)) \
        == ("en", None, None, None)
    at_desk["login"] = "dewi"  # bound to nobody, or to a person without a choice
    assert people.environ() == {}
    at_desk["login"] = "cici"  # a language this agent has no catalogue for
    assert people.environ() == {}
