"""msgspec's validation errors as sentences a person reads, naming the field; pure.

msgspec says "Expected `str` of length >= 1 - at `$.display_name`"; the API says
"display_name must not be empty" (or "display_name tidak boleh kosong") and puts
``display_name`` in the error's ``field``.
"""

from __future__ import annotations

import re

from server.i18n.messages import N_, Message

_AT = re.compile(r"^(?P<text>.*?) - at `(?:(?P<key>[^`]*)` in `)?(?P<path>\$[^`]*)`$",
                 re.DOTALL)

# msgspec's type names to words (the union "str | null" is named by its first member).
_TYPES: dict[str, Message] = {
    "str": N_("text"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "array": N_("a list"),
    "object": N_("an object"),
    "null": N_("null"),
    "datetime": N_("a date and time"),
    "date": N_("a date"),
    "time": N_("a time"),
    "uuid": N_("a UUID"),
    "bytes": N_("base64-encoded bytes"),
}

_BOUNDS: dict[str, Message] = {
    ">=": N_("{field} must be {n} or more"),
    "<=": N_("{field} must be {n} or less"),
    ">": N_("{field} must be more than {n}"),
    "<": N_("{field} must be less than {n}"),
}


def field_name(path: str) -> str:
    """Return a msgspec path ("$.fields[0].label") as a field name ("fields[0].label")."""
    return path.removeprefix("$").removeprefix(".")


def _type_word(name: str) -> Message | str:
    first = name.split(" | ")[0].strip()
    return _TYPES.get(first, first)


def _sentence(text: str, field: str) -> Message:
    if text.startswith("Object missing required field"):
        return N_("{field} is required", field=field)
    if text.startswith("Object contains unknown field"):
        return N_("{field} is not a known field", field=field)
    if m := re.fullmatch(r"Expected `str` of length >= (\d+)", text):
        if m.group(1) == "1":
            return N_("{field} must not be empty", field=field)
        return N_("{field} must be at least {n} characters long", field=field,
                  n=int(m.group(1)))
    if m := re.fullmatch(r"Expected `str` of length <= (\d+)", text):
        return N_("{field} must be at most {n} characters long", field=field,
                  n=int(m.group(1)))
    if m := re.fullmatch(r"Expected `(?:array|object|bytes)` of length >= (\d+)", text):
        return N_("{field} must have at least {n} items", field=field, n=int(m.group(1)))
    if m := re.fullmatch(r"Expected `(?:array|object|bytes)` of length <= (\d+)", text):
        return N_("{field} must have at most {n} items", field=field, n=int(m.group(1)))
    if m := re.fullmatch(r"Expected `(?:int|float)` (>=|<=|>|<) (-?[\d.e+]+)", text):
        bound = _BOUNDS[m.group(1)]
        return Message(bound.template, {"field": field, "n": m.group(2)})
    if re.fullmatch(r"Expected `str` matching regex .*", text, re.DOTALL):
        return N_("{field} is not in the expected format", field=field)
    if m := re.fullmatch(r"Invalid enum value (.+)", text):
        return N_("{field}: {value} is not one of the allowed values", field=field,
                  value=m.group(1))
    if m := re.fullmatch(r"Expected `([^`]+)`, got `([^`]+)`", text):
        return N_("{field} must be {expected}", field=field, expected=_type_word(m.group(1)))
    if re.fullmatch(r"Invalid RFC3339 encoded datetime", text):
        return N_("{field} must be a date and time such as 2026-12-07T09:00:00Z", field=field)
    if re.fullmatch(r"Invalid ISO8601 encoded date", text):
        return N_("{field} must be a date such as 2026-12-07", field=field)
    return N_("{field} is not valid: {detail}", field=field, detail=text)


def explain(error: str, *, where: str = "") -> tuple[Message, str | None]:
    """Return a msgspec validation error as a sentence and the field it concerns (None
    when the whole body is at fault).

    ``where`` names the part of the request ("query") the path is inside; the body is
    the default.
    """
    text, path = error.strip(), "$"
    if m := _AT.match(text):
        text, path = m.group("text"), m.group("path")
        if m.group("key") is not None:
            text = f"{text} (key {m.group('key')!r})"
    field = field_name(path)
    missing = re.fullmatch(r"Object (?:missing required|contains unknown) field `(.+)`", text)
    if missing:
        field = f"{field}.{missing.group(1)}" if field else missing.group(1)
    if where:
        field = f"{where}.{field}" if field else where
    if not field and not where:
        if re.fullmatch(r"Expected `object`, got `.+`", text):
            return N_("the request body must be a JSON object"), None
        return N_("the request body is not valid: {detail}", detail=text), None
    field = field or where
    return _sentence(text, field), field
