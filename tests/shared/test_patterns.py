"""Every msgspec pattern in server/ and shared/ refuses a trailing newline.

msgspec checks ``Meta(pattern=...)`` with ``re.search``, whose ``$`` also matches before a
final newline; a pattern must end in ``$(?!\\n)`` so that "bob\\n" is not "bob".
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import typing
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import msgspec
import pytest

import server
import shared

END = "$(?!\\n)"


def _modules() -> Iterator[ModuleType]:
    for package in (server, shared):
        yield package
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in info.name:
                yield importlib.import_module(info.name)


def _patterns_in(node: Any, seen: set[int]) -> Iterator[str]:
    """Yield the pattern of every string type reachable from a msgspec.inspect type."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, msgspec.inspect.StrType) and node.pattern is not None:
        yield node.pattern
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _patterns_in(item, seen)
    elif isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            yield from _patterns_in(getattr(node, name), seen)


def _declared_patterns() -> dict[str, str]:
    """Return {pattern: where} for every pattern of a Struct or alias in a module."""
    found: dict[str, str] = {}
    for module in _modules():
        for name, value in vars(module).items():
            where = f"{module.__name__}.{name}"
            if isinstance(value, str) and name.endswith("_PATTERN"):
                found.setdefault(value, where)
                continue
            is_struct = isinstance(value, type) and issubclass(value, msgspec.Struct)
            if not (is_struct or typing.get_origin(value) is typing.Annotated):
                continue
            try:
                info = msgspec.inspect.type_info(value)
            except (TypeError, ValueError):  # e.g. a generic Struct without parameters
                continue
            for pattern in _patterns_in(info, set()):
                found.setdefault(pattern, where)
    return found


PATTERNS = _declared_patterns()


def test_the_walk_finds_the_known_patterns() -> None:
    """The walk sees the patterns of both packages (it is not vacuously empty)."""
    where = set(PATTERNS.values())
    assert any(w.startswith("shared.protocol.") for w in where)
    assert any(w.startswith("server.tickets.") for w in where)
    assert any(w.startswith("server.sla.") for w in where)
    assert len(PATTERNS) >= 15


@pytest.mark.parametrize("pattern", sorted(PATTERNS), ids=lambda p: PATTERNS[p])
def test_a_pattern_ending_at_the_end_refuses_a_trailing_newline(pattern: str) -> None:
    """A pattern anchored at the end is anchored with "$(?!\\n)", never a bare "$"."""
    if "$" in pattern:
        assert pattern.endswith(END), pattern
        assert "$" not in pattern[:-len(END)], pattern
    re.compile(pattern)


SAMPLES: dict[str, str] = {
    "shared.protocol.MessageId": "m-1",
    "shared.protocol.SectionName": "hardware",
    "shared.protocol.DeviceId": "0f0e0d0c-0b0a-4908-8706-050403020100",
    "shared.protocol.Digest": "ab" * 32,
    "shared.protocol.B64": "YWJj",
    "shared.protocol.Login": "bob",
    "server.users.schemas.Email": "bob@example.org",
    "server.users.schemas.Username": "bob",
    "server.tickets.schemas.Tag": "printer",
    "server.health.schemas.Target": "/var",
    "server.sla.schemas.IntervalText": "09:00-17:00",
    "server.sla.schemas.DateText": "2026-12-24",
    "server.sla.schemas.MonthDay": "12-24",
}


@pytest.mark.parametrize(("alias", "sample"), sorted(SAMPLES.items()))
def test_named_texts_refuse_a_trailing_newline(alias: str, sample: str) -> None:
    """A valid text is accepted, and the same text with "\\n" appended is refused."""
    module, name = alias.rsplit(".", 1)
    kind = getattr(importlib.import_module(module), name)
    assert msgspec.convert(sample, kind) == sample
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(sample + "\n", kind)
