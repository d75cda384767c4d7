"""Declared parameters and a run's values (pure): defaults, types, unknown and missing names."""

from __future__ import annotations

import pytest

from server.scripts.params import ParamError, Parameter, check_declaration, resolve
from shared import scripts as sc

DECLARED = [Parameter(name="queue", label="Queue", required=True),
            Parameter(name="copies", label="Copies", type="integer", default=1),
            Parameter(name="force", label="Force", type="boolean", default=False),
            Parameter(name="note", label="Note")]


def test_values_become_text_with_defaults_filled_in() -> None:
    """Given values are kept as text, defaults fill the rest, an absent optional is empty."""
    assert resolve(DECLARED, {"queue": "a; rm -rf /", "force": True}) == {
        "queue": "a; rm -rf /", "copies": "1", "force": "true", "note": ""}


@pytest.mark.parametrize("values", [{}, {"queue": ""}, {"queue": "q", "copies": "2"},
                                    {"queue": "q", "copies": True}, {"queue": "q", "force": 1},
                                    {"queue": 5}, {"queue": "q", "colour": "red"},
                                    {"queue": "a\x00b"}])
def test_values_that_do_not_fit_are_refused(values: dict[str, object]) -> None:
    """A missing required value, a wrong type, an unknown name or a NUL is refused."""
    with pytest.raises(ParamError):
        resolve(DECLARED, values)  # type: ignore[arg-type]


def test_a_declaration_with_a_name_twice_or_a_bad_default_is_refused() -> None:
    """Names are unique and defaults fit their type."""
    with pytest.raises(ParamError):
        check_declaration([Parameter(name="a", label="A"), Parameter(name="a", label="B")])
    with pytest.raises(ParamError):
        check_declaration([Parameter(name="n", label="N", type="integer", default="x")])


def test_parameters_travel_as_environment_variables() -> None:
    """Each parameter is PARAM_<NAME>; a name outside the pattern is refused."""
    assert sc.environment({"queue": "hp1", "dry_run": "true"}) == {
        "PARAM_QUEUE": "hp1", "PARAM_DRY_RUN": "true"}
    with pytest.raises(ValueError, match="bad parameter name"):
        sc.environment({"PATH": "/tmp"})
