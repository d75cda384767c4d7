"""One SLA clock's state and its transitions: pause, resume, stop, fire (pure).

A clock counts business time of its calendar while it runs. ``elapsed`` holds the business
seconds counted before ``running_since``; while paused or stopped ``running_since`` is None.
The due time of a running clock is where the remaining target ends in business time, so a
pause moves it later by exactly the business time the clock stood still.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from server.sla.calendar import BusinessCalendar
from server.sla.clock import add_business_time, business_time_between

State = Literal["running", "paused", "met", "breached", "cancelled"]
Event = Literal["warning", "breach"]


@dataclass
class Clock:
    """The mutable state of one clock (a row of ``sla_clocks``)."""

    kind: str
    target_minutes: int
    warn_percents: tuple[int, ...]
    pause_statuses: tuple[str, ...]
    state: State
    started_at: dt.datetime
    elapsed_seconds: float = 0.0
    running_since: dt.datetime | None = None
    paused_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    warnings_fired: int = 0
    breached_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    next_event_at: dt.datetime | None = None
    id: int | None = None
    # Where the clock belongs and what it was started with (stored beside its state).
    ticket_id: int = 0
    policy_id: int | None = None
    policy_name: str = ""
    calendar_id: int = 0

    @property
    def target(self) -> dt.timedelta:
        """Return the target as a duration of business time."""
        return dt.timedelta(minutes=self.target_minutes)

    @property
    def is_open(self) -> bool:
        """Tell whether the clock has not stopped (met, resolved, cancelled)."""
        return self.stopped_at is None

    def elapsed(self, cal: BusinessCalendar, now: dt.datetime) -> dt.timedelta:
        """Return the business time counted up to ``now``."""
        total = dt.timedelta(seconds=self.elapsed_seconds)
        if self.running_since is not None and now > self.running_since:
            total += business_time_between(cal, self.running_since, now)
        return total


def start(cal: BusinessCalendar, *, kind: str, target_minutes: int,
          warn_percents: tuple[int, ...], pause_statuses: tuple[str, ...],
          now: dt.datetime) -> Clock:
    """Return a new running clock started at ``now``."""
    clock = Clock(kind=kind, target_minutes=target_minutes, warn_percents=warn_percents,
                  pause_statuses=pause_statuses, state="running", started_at=now,
                  running_since=now)
    _plan(clock, cal)
    return clock


def _remaining_from(cal: BusinessCalendar, clock: Clock, amount: dt.timedelta) -> dt.datetime:
    """Return when the running clock will have counted ``amount`` in total."""
    assert clock.running_since is not None
    left = amount - dt.timedelta(seconds=clock.elapsed_seconds)
    return add_business_time(cal, clock.running_since, max(left, dt.timedelta(0)))


def warning_at(cal: BusinessCalendar, clock: Clock, index: int) -> dt.datetime:
    """Return when the ``index``-th warning threshold falls due on a running clock."""
    share = clock.target * clock.warn_percents[index] / 100
    return _remaining_from(cal, clock, share)


def _plan(clock: Clock, cal: BusinessCalendar) -> None:
    """Recompute due time and next event time after any change."""
    if clock.running_since is None or clock.stopped_at is not None:
        clock.next_event_at = None
        if clock.state != "breached":
            clock.due_at = None
        return
    if clock.state != "breached":
        clock.due_at = _remaining_from(cal, clock, clock.target)
        candidates = [clock.due_at]
        if clock.warnings_fired < len(clock.warn_percents):
            candidates.append(warning_at(cal, clock, clock.warnings_fired))
        clock.next_event_at = min(candidates)
    else:
        clock.next_event_at = None


def pause(clock: Clock, cal: BusinessCalendar, now: dt.datetime) -> None:
    """Stop counting (a pause status): the due time is unknown until the clock resumes."""
    if clock.running_since is None or clock.stopped_at is not None:
        return
    clock.elapsed_seconds = clock.elapsed(cal, now).total_seconds()
    clock.running_since = None
    clock.paused_at = now
    if clock.state == "running":
        clock.state = "paused"
    _plan(clock, cal)


def resume(clock: Clock, cal: BusinessCalendar, now: dt.datetime) -> None:
    """Count again from ``now``; the due time moves by the business time paused."""
    if clock.running_since is not None or clock.stopped_at is not None:
        return
    clock.running_since = now
    clock.paused_at = None
    if clock.state == "paused":
        clock.state = "running"
    _plan(clock, cal)


def stop(clock: Clock, cal: BusinessCalendar, now: dt.datetime, *, cancel: bool = False) -> None:
    """Stop for good: met (or cancelled) unless already breached, which stands."""
    if clock.stopped_at is not None:
        return
    clock.elapsed_seconds = clock.elapsed(cal, now).total_seconds()
    clock.running_since = None
    clock.paused_at = None
    clock.stopped_at = now
    if clock.state in ("running", "paused"):
        # Met in time: a clock that is past due but not yet fired by the engine is breached.
        if not cancel and clock.elapsed_seconds > clock.target.total_seconds():
            clock.state = "breached"
            clock.breached_at = clock.due_at or now
        else:
            clock.state = "cancelled" if cancel else "met"
    _plan(clock, cal)


def reopen(clock: Clock, cal: BusinessCalendar, now: dt.datetime) -> None:
    """Count a stopped clock again from ``now`` (a resolved ticket reopened)."""
    if clock.stopped_at is None:
        return
    clock.stopped_at = None
    if clock.state in ("met", "cancelled"):
        clock.state = "running"
    clock.running_since = now
    _plan(clock, cal)


def rebase(clock: Clock, cal: BusinessCalendar, now: dt.datetime) -> None:
    """Fold the time counted so far on ``cal`` into ``elapsed`` (before a calendar change)."""
    if clock.running_since is not None and clock.stopped_at is None:
        clock.elapsed_seconds = clock.elapsed(cal, now).total_seconds()
        clock.running_since = now


def retarget(clock: Clock, cal: BusinessCalendar, now: dt.datetime, *, target_minutes: int,
             warn_percents: tuple[int, ...], pause_statuses: tuple[str, ...]) -> None:
    """Give an open clock a new target on ``cal``; the elapsed business time is kept.

    Warnings already fired are not fired again; a breach that happened stands. A caller
    that moves the clock to another calendar first rebases it with :func:`rebase`.
    """
    if clock.stopped_at is not None:
        return
    clock.target_minutes = target_minutes
    clock.warn_percents = warn_percents
    clock.pause_statuses = pause_statuses
    clock.warnings_fired = min(clock.warnings_fired, len(warn_percents))
    _plan(clock, cal)
    if clock.due_at is not None and clock.state == "running" and clock.due_at < now:
        # Already past the new target: due (and breached on the next pass) from now on.
        clock.due_at = clock.next_event_at = now


def fire(clock: Clock, cal: BusinessCalendar, now: dt.datetime) -> list[tuple[Event, int | None]]:
    """Fire what fell due by ``now``, once each; return the events (warning percent or None).

    Warnings overtaken by the breach in the same call are marked fired but not returned,
    so a late pass (after a restart) reports the breach alone.
    """
    if clock.running_since is None or clock.stopped_at is not None or clock.state != "running":
        clock.next_event_at = None
        return []
    events: list[tuple[Event, int | None]] = []
    assert clock.due_at is not None
    while (clock.warnings_fired < len(clock.warn_percents)
           and warning_at(cal, clock, clock.warnings_fired) <= now):
        events.append(("warning", clock.warn_percents[clock.warnings_fired]))
        clock.warnings_fired += 1
    if clock.due_at <= now:
        clock.state = "breached"
        clock.breached_at = clock.due_at
        clock.warnings_fired = len(clock.warn_percents)
        events = [("breach", None)]
    _plan(clock, cal)
    return events
