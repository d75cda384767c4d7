"""Ticket rules as pure functions: the lifecycle and the priority matrix."""

from __future__ import annotations

import itertools

import pytest

from server.tickets import lifecycle
from server.tickets.priority import ITIL_MATRIX, parse_matrix, priority_for

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


@pytest.mark.parametrize(("old", "new"), list(itertools.product(lifecycle.STATUSES,
                                                                  repeat=2)))
def test_every_transition_follows_the_table(old: lifecycle.Status,
                                            new: lifecycle.Status) -> None:
    """Each status pair is allowed exactly when the transition table lists it."""
    if new in lifecycle.TRANSITIONS[old]:
        lifecycle.check_transition(old, new)
    else:
        with pytest.raises(lifecycle.TransitionError, match=f"{old} ticket cannot become {new}"):
            lifecycle.check_transition(old, new)


def test_final_statuses_lead_nowhere_and_resolved_only_closes_or_reopens() -> None:
    """Closed and cancelled are final; resolved goes to closed or back to work."""
    assert lifecycle.TRANSITIONS["closed"] == frozenset()
    assert lifecycle.TRANSITIONS["cancelled"] == frozenset()
    assert lifecycle.TRANSITIONS["resolved"] == {"closed", "in_progress"}


def test_assignment_moves_between_new_and_assigned_only() -> None:
    """Assigning a new ticket makes it assigned; unassigning makes it new again."""
    assert lifecycle.status_after_assignment("new", 5) == "assigned"
    assert lifecycle.status_after_assignment("assigned", None) == "new"
    assert lifecycle.status_after_assignment("in_progress", None) == "in_progress"
    assert lifecycle.status_after_assignment("pending", 5) == "pending"


def test_numbers_per_kind() -> None:
    """Human numbers carry the kind's prefix and six digits."""
    assert lifecycle.number("incident", 42) == "INC-000042"
    assert lifecycle.number("service_request", 1) == "REQ-000001"
    assert lifecycle.number("problem", 1234567) == "PRB-1234567"


def test_itil_matrix() -> None:
    """The default matrix is ITIL's: high/high is P1, low/low is P5."""
    assert [[priority_for(i, u) for u in (1, 2, 3)] for i in (1, 2, 3)] == [
        [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    with pytest.raises(ValueError, match="1-3"):
        priority_for(0, 2)


def test_custom_matrix_parses_and_rejects_garbage() -> None:
    """A configured matrix replaces ITIL's; malformed ones are refused."""
    flat = parse_matrix("P1 P1 P2 / P2 P2 P3 / P3 P3 P4")
    assert priority_for(1, 3, flat) == 2
    assert parse_matrix("1 2 3 / 2 3 4 / 3 4 5") == ITIL_MATRIX
    for bad in ("1 2 3", "1 2 3 / 2 3 4 / 3 4 9", "a b c / d e f / g h i", ""):
        with pytest.raises(ValueError):
            parse_matrix(bad)
