"""Choosing the language of a request and explaining msgspec's errors (pure)."""

from __future__ import annotations

import msgspec
import pytest

from server.i18n.catalogues import translator
from server.i18n.messages import render
from server.i18n.negotiate import best_language, preferences
from server.i18n.validation import explain
from server.users.schemas import UserCreate, UserUpdate

AVAILABLE = ("en", "id")


@pytest.mark.parametrize(("header", "chosen"), [
    ("id-ID,id;q=0.9,en;q=0.8", "id"),
    ("en-US,en;q=0.9,id;q=0.8", "en"),
    ("fr-FR, id;q=0.5, en;q=0.4", "id"),
    ("en;q=0.2, id;q=0.9", "id"),
    ("id;q=0, en", "en"),
    ("fr, de", None),
    ("*", None),
    ("", None),
    ("ID_id", "id"),
    ("id;q=abc, en;q=0.1", "en"),
])
def test_accept_language_honours_quality_values(header: str, chosen: str | None) -> None:
    """The most wanted available language wins by q-value; q=0 and unknown ones never do."""
    assert best_language(header, AVAILABLE) == chosen


def test_equal_quality_keeps_the_header_order() -> None:
    """Ranges of equal weight keep the order the browser sent them in."""
    assert preferences("id, en, fr;q=0.5") == ["id", "en", "fr"]


def _error(kind: type, raw: bytes) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(raw, type=kind)
    return str(caught.value)


@pytest.mark.parametrize(("raw", "field", "english", "indonesian"), [
    (b'{"display_name": ""}', "display_name", "display_name must not be empty",
     "display_name tidak boleh kosong"),
    (b'{"display_name": 7}', "display_name", "display_name must be text",
     "display_name harus berupa teks"),
    (b'{"role": "boss"}', "role", "role: 'boss' is not one of the allowed values",
     "role: 'boss' bukan salah satu nilai yang diizinkan"),
    (b'{"colour": "red"}', "colour", "colour is not a known field",
     "colour bukan kolom yang dikenal"),
    (b'{"display_name": "' + b"x" * 201 + b'"}', "display_name",
     "display_name must be at most 200 characters long",
     "display_name boleh terdiri dari paling banyak 200 karakter"),
])
def test_validation_errors_become_sentences(raw: bytes, field: str, english: str,
                                            indonesian: str) -> None:
    """msgspec's "Expected `str` of length >= 1 - at `$.display_name`" reads as a sentence
    naming the field, in English and in Indonesian."""
    message, found = explain(_error(UserUpdate, raw))
    assert found == field
    assert render(message.template, message.params) == english
    assert translator("id").message(message) == indonesian


def test_missing_field_is_named() -> None:
    """A required field left out is named by its own name."""
    message, field = explain(_error(UserCreate, b'{"username": "a", "role": "admin"}'))
    assert field == "display_name"
    assert translator("id").message(message) == "display_name wajib diisi"


def test_a_body_that_is_no_object_is_explained() -> None:
    """A JSON array where an object belongs is refused as such."""
    message, field = explain(_error(UserCreate, b"[]"))
    assert field is None
    assert str(message) == "the request body must be a JSON object"
