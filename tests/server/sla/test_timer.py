"""One clock's transitions as pure functions: pause, resume, stop, fire, re-target."""

from __future__ import annotations

import datetime as dt

from server.sla import timer
from server.sla.calendar import BusinessCalendar

UTC = dt.UTC
OFFICE = BusinessCalendar(name="office", tz="UTC", weekly_hours={
    d: ((dt.time(9), dt.time(17)),) for d in range(5)})
MON_9 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def new(target: int = 600, warn: tuple[int, ...] = (50,)) -> timer.Clock:
    return timer.start(OFFICE, kind="resolution", target_minutes=target, warn_percents=warn,
                       pause_statuses=("pending",), now=MON_9)


def test_due_and_first_warning_follow_business_hours() -> None:
    """600 business minutes from Monday 09:00 end Tuesday 11:00; 50% is Monday 14:00."""
    clock = new()
    assert clock.due_at == at(3, 11)
    assert clock.next_event_at == at(2, 14)


def test_a_pause_overnight_only_moves_due_by_the_business_time_paused() -> None:
    """Paused Monday 16:00 to Tuesday 10:00: two business hours paused, due two hours later."""
    clock = new()
    timer.pause(clock, OFFICE, at(2, 16))
    assert (clock.state, clock.due_at, clock.elapsed_seconds) == ("paused", None, 7 * 3600)
    timer.resume(clock, OFFICE, at(3, 10))
    assert (clock.state, clock.due_at) == ("running", at(3, 13))


def test_fire_reports_each_event_once_and_the_breach_at_its_due_time() -> None:
    """Firing late reports the breach alone, dated when it fell due."""
    clock = new()
    assert timer.fire(clock, OFFICE, at(2, 13)) == []
    assert timer.fire(clock, OFFICE, at(2, 14)) == [("warning", 50)]
    assert timer.fire(clock, OFFICE, at(2, 15)) == []
    assert timer.fire(clock, OFFICE, at(4, 9)) == [("breach", None)]
    assert (clock.state, clock.breached_at, clock.next_event_at) == ("breached", at(3, 11), None)
    assert timer.fire(clock, OFFICE, at(5, 9)) == []


def test_stop_meets_in_time_and_breaches_when_late() -> None:
    """Stopping before the due time meets the clock; after it, breaches it (not yet fired)."""
    early, late = new(), new()
    timer.stop(early, OFFICE, at(2, 12))
    assert (early.state, early.elapsed_seconds) == ("met", 3 * 3600)
    timer.stop(late, OFFICE, at(3, 12))
    assert (late.state, late.breached_at) == ("breached", at(3, 11))


def test_retarget_keeps_the_elapsed_time() -> None:
    """A new target counts from the same start; one already passed is due at once."""
    clock = new()
    timer.retarget(clock, OFFICE, at(2, 12), target_minutes=240, warn_percents=(),
                   pause_statuses=("pending",))
    assert clock.due_at == at(2, 13)
    timer.retarget(clock, OFFICE, at(2, 12), target_minutes=60, warn_percents=(),
                   pause_statuses=("pending",))
    assert clock.due_at == clock.next_event_at == at(2, 12)
