"""Preview an unsaved policy: when a ticket created at some instant would warn and be due.

The due times come from the same code that starts a ticket's clocks
(:func:`server.sla.timer.start`), so the console's preview and a real ticket agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from server.sla import timer
from server.sla.calendar import BusinessCalendar
from server.sla.policy import CLOCK_KINDS
from server.sla.schemas import PreviewClock


def preview(cal: BusinessCalendar, targets: Mapping[str, int | None],
            warn_percents: Sequence[int], start: dt.datetime) -> list[PreviewClock]:
    """Return each targeted clock's warning and due times for a ticket created at ``start``."""
    percents = tuple(sorted(set(warn_percents)))
    clocks: list[PreviewClock] = []
    for kind in CLOCK_KINDS:
        minutes = targets.get(kind)
        if not minutes:
            continue
        clock = timer.start(cal, kind=kind, target_minutes=minutes, warn_percents=percents,
                            pause_statuses=(), now=start)
        assert clock.due_at is not None  # a running clock on a valid calendar has one
        clocks.append(PreviewClock(
            clock=kind, target_minutes=minutes, due_at=clock.due_at,
            warnings_at=[timer.warning_at(cal, clock, i) for i in range(len(percents))]))
    return clocks
