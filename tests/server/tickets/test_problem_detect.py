"""Recurring-problem detection (pure): planted problems are found, a quiet history raises none."""

from __future__ import annotations

import datetime as dt

from bench.problems_data import generate
from server.problems.detect import detect

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)


def test_planted_problems_are_found_and_nothing_else() -> None:
    """Each planted cluster is covered by one suggestion and every suggestion is planted."""
    history = generate(seed=3, weeks=9, per_day=25, now=NOW)
    found = detect(history.incidents, now=NOW, software=history.software,
                   fleet=history.fleet)
    planted = set().union(*history.truth.values())
    for name, truth in history.truth.items():
        best = max(len(truth & set(f.ticket_ids)) for f in found)
        assert best * 10 >= len(truth) * 9, name
    assert all(set(f.ticket_ids) & planted for f in found)
    assert {f.source for f in found} == {"text", "health", "category", "software"}


def test_a_history_without_planted_problems_raises_nothing() -> None:
    """Background noise alone yields no suggestion."""
    history = generate(seed=5, weeks=9, per_day=25, planted=False, now=NOW)
    assert detect(history.incidents, now=NOW, software=history.software,
                  fleet=history.fleet) == []


def test_keys_are_stable_across_runs() -> None:
    """The same history gives the same keys (a dismissed suggestion stays dismissed)."""
    history = generate(seed=3, weeks=9, per_day=25, now=NOW)
    first = detect(history.incidents, now=NOW, software=history.software, fleet=history.fleet)
    again = detect(history.incidents, now=NOW, software=history.software, fleet=history.fleet)
    assert [f.key for f in first] == [f.key for f in again]
