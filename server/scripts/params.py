"""Declared script parameters and the values a run gives them (pure functions).

A script declares its parameters (name, label, type, required, default); a run gives
values as JSON. :func:`resolve` checks them against the declaration and returns the text
each environment variable carries (``PARAM_<NAME>``, shared/scripts.py): integers in
decimal, booleans as ``true``/``false``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from server.i18n.messages import N_, Message
from shared import scripts as sc

ParamType = Literal["text", "integer", "boolean"]
Value = str | int | bool


class ParamError(Exception):
    """A declaration or a run's values do not fit; ``message`` says why (translatable)."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


class Parameter(Struct, forbid_unknown_fields=True, kw_only=True):
    """One declared parameter of a script version."""

    name: Annotated[str, Meta(pattern=sc.PARAM_NAME.pattern)]
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    type: ParamType = "text"
    required: bool = False
    default: Annotated[str, Meta(max_length=sc.MAX_VALUE_CHARS)] | int | bool | None = None


def check_declaration(params: list[Parameter]) -> None:
    """Refuse duplicate names and defaults that do not fit their type.

    Raises:
        ParamError: the declaration is not usable.
    """
    seen: set[str] = set()
    for param in params:
        if param.name in seen:
            raise ParamError(N_("parameter {name!r} is declared twice", name=param.name))
        seen.add(param.name)
        if param.default is not None:
            _text(param, param.default)


def _text(param: Parameter, value: Value) -> str:
    if param.type == "boolean":
        if not isinstance(value, bool):
            raise ParamError(N_("parameter {name!r} takes true or false", name=param.name))
        return "true" if value else "false"
    if param.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(N_("parameter {name!r} takes a whole number", name=param.name))
        return str(value)
    if not isinstance(value, str):
        raise ParamError(N_("parameter {name!r} takes text", name=param.name))
    if "\x00" in value or len(value) > sc.MAX_VALUE_CHARS:
        raise ParamError(N_("parameter {name!r} is too long or holds a NUL character",
                            name=param.name))
    return value


def resolve(params: list[Parameter], values: dict[str, Value]) -> dict[str, str]:
    """Return each declared parameter's value as text (given, else its default).

    Raises:
        ParamError: an unknown name, a missing required value, or a value of the wrong type.
    """
    known = {p.name for p in params}
    for name in values:
        if name not in known:
            raise ParamError(N_("the script has no parameter {name!r}", name=name))
    out: dict[str, str] = {}
    for param in params:
        value = values.get(param.name, param.default)
        if value is None or value == "":
            if param.required:
                raise ParamError(N_("parameter {name!r} is required", name=param.name))
            out[param.name] = ""
            continue
        out[param.name] = _text(param, value)
    return out
