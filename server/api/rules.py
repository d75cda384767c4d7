"""Rules for every value of every request, checked once after decoding.

msgspec checks types, lengths and patterns as it decodes; the rules it cannot express
are checked here, walking the decoded value beside its declared type:

- no text may hold a NUL character (PostgreSQL cannot store one; nothing needs one);
- a text field that must not be empty (``min_length`` of 1 or more) must not be blank
  either: "   " is no title;
- an integer must fit in 64 bits (what the databases and the search index hold) unless
  its declared bounds say otherwise.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import msgspec.inspect as mi

from server.errors import ValidationFailed
from server.i18n.validation import field_name

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def _field(where: str) -> str:
    """Return a value's name for the error's ``field`` ("$.title" -> "title", "query.q" ->
    "q", a key of an untyped object -> its object; the body itself -> "body")."""
    return field_name(where.removesuffix(" key")).removeprefix("query.") or "body"


@functools.cache
def _info(kind: Any) -> mi.Type:
    return mi.type_info(kind)


def check_values(value: Any, kind: Any, *, where: str = "$") -> None:
    """Check the rules above on ``value``, decoded as ``kind``.

    Raises:
        ValidationFailed: a NUL character anywhere, a blank required text, or an
            integer beyond 64 bits.
    """
    try:
        _walk(value, _info(kind), where)
    except RecursionError as exc:  # untyped JSON nested close to the decoder's limit
        raise ValidationFailed("{field} is nested too deeply", field=_field(where)) from exc


def check_plain(text: str, *, where: str) -> None:
    """Check a single text (a path parameter, a header) for NUL characters.

    Raises:
        ValidationFailed: it holds one.
    """
    if "\x00" in text:
        raise ValidationFailed("{field} contains a NUL character", field=_field(where))


def _walk(value: Any, info: mi.Type, where: str) -> None:
    if value is msgspec.UNSET or value is None:
        return
    while isinstance(info, mi.Metadata):  # a description or extra JSON schema
        info = info.type
    if isinstance(info, mi.StrType):
        if isinstance(value, str):
            check_plain(value, where=where)
            if (info.min_length or 0) > 0 and not value.strip():
                raise ValidationFailed("{field} must not be blank", field=_field(where))
        return
    if isinstance(info, mi.IntType):
        if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
            raise ValidationFailed("{field} is out of range (64-bit integers)", field=_field(where))
        return
    if isinstance(info, mi.StructType):
        for field in info.fields:
            _walk(getattr(value, field.name, None), field.type, f"{where}.{field.encode_name}")
        return
    if isinstance(info, _SEQUENCES):
        for i, item in enumerate(value):
            _walk(item, info.item_type, f"{where}[{i}]")
        return
    if isinstance(info, mi.TupleType):
        for i, (item, item_info) in enumerate(zip(value, info.item_types, strict=False)):
            _walk(item, item_info, f"{where}[{i}]")
        return
    if isinstance(info, mi.DictType):
        for key, item in value.items():
            _walk(key, info.key_type, f"{where} key")
            _walk(item, info.value_type, f"{where}[{key!r}]")
        return
    if isinstance(info, mi.UnionType):
        for member in info.types:
            if _fits(value, member):
                _walk(value, member, where)
                return
        return
    if isinstance(info, mi.AnyType):
        _walk_any(value, where)


def _fits(value: Any, info: mi.Type) -> bool:
    """Return True if ``value`` was decoded as ``info`` (a member of a union)."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.StrType):
        return isinstance(value, str)
    if isinstance(info, mi.IntType):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(info, mi.StructType):
        return isinstance(value, info.cls)
    if isinstance(info, (*_SEQUENCES, mi.TupleType)):
        return isinstance(value, list | tuple | set | frozenset)
    if isinstance(info, mi.DictType):
        return isinstance(value, dict)
    return isinstance(info, mi.AnyType)


def _walk_any(value: Any, where: str) -> None:
    """Check untyped JSON (``Any`` fields) for NUL characters, keys included."""
    if isinstance(value, str):
        check_plain(value, where=where)
    elif isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
        raise ValidationFailed("{field} is out of range (64-bit integers)", field=_field(where))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                check_plain(key, where=f"{where} key")
            _walk_any(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _walk_any(item, f"{where}[{i}]")
