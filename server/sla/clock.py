"""Business-time clock arithmetic over a :class:`BusinessCalendar`, as pure functions.

Business time is real elapsed time (UTC) that falls inside working intervals. Each working
interval of a local day runs from the instant the calendar's wall clock first reads its
start to the instant it first reads its end, with offsets from the IANA tz database via
:mod:`zoneinfo` (PEP 615). So, for a wall time ``w``:

* a time that occurs once maps to that instant;
* a repeated time (clocks set back) maps to its first occurrence, as ``fold=0`` in
  PEP 495 and as RFC 5545 section 3.3.5 reads ambiguous local times;
* a skipped time (clocks set forward) maps to the transition instant, when the clock
  jumps past it. This differs from RFC 5545, which shifts it later by the gap: a shift
  that starts at 02:30 has begun once the clock shows 03:00.

Equivalently: an instant is business time when the highest reading the wall clock has
reached so far (a clock set back "stands still" until it passes that reading again) is a
working time of a non-holiday day. Hence a night shift loses the skipped hour on a
spring-forward day and counts the repeated hour twice on a fall-back day.

Durations are exact :class:`~datetime.timedelta` values (microseconds); the minute
functions are conveniences over them. Instants in may be in any time zone but must be
aware; instants out are aware UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.sla.calendar import MIDNIGHT, BusinessCalendar

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_ONE_SECOND = timedelta(seconds=1)

# Internally instants are naive datetimes in UTC: cheaper than aware ones, and mixing them
# up with aware values fails loudly (TypeError) rather than silently.
_Span = tuple[datetime, datetime]


def _to_utc(instant: datetime) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {instant!r}")
    if instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got {instant!r}")
    return instant.astimezone(UTC).replace(tzinfo=None)


def _offset_at_utc(zone: ZoneInfo, utc: datetime) -> timedelta | None:
    return zone.fromutc(utc.replace(tzinfo=zone)).utcoffset()


def _first_reading(zone: ZoneInfo, wall: datetime, wall_fold1: datetime) -> datetime:
    """Return the naive-UTC instant at which the wall clock first reads ``wall``."""
    # PEP 495: fold=0 gives the offset before a transition, fold=1 the one after. The
    # caller passes both folds of the same wall time: building them costs less than
    # datetime.replace, and this runs for every interval boundary of every day walked.
    before = zone.utcoffset(wall)
    after = zone.utcoffset(wall_fold1)
    if before is None or after is None:  # pragma: no cover - ZoneInfo always has offsets
        raise ValueError(f"time zone {zone.key!r} has no offset at {wall!r}")
    if before >= after:
        # Unique, or repeated (offset falls): the first occurrence uses the earlier offset.
        return wall - before
    # Skipped (offset rises): the transition instant lies in (wall - after, wall - before].
    # TZif transitions are whole seconds, so bisect on seconds.
    low, high = wall - after, wall - before
    while high - low > _ONE_SECOND:
        middle = low + _ONE_SECOND * ((high - low) // _ONE_SECOND // 2)
        if _offset_at_utc(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


@functools.cache
def _fold1(moment: time) -> time:
    return moment.replace(fold=1)


def _boundary(zone: ZoneInfo, day: date, moment: time) -> datetime:
    # Calendar times are stored with fold=0 (see BusinessCalendar).
    return _first_reading(zone, datetime.combine(day, moment),
                          datetime.combine(day, _fold1(moment)))


@functools.lru_cache(maxsize=8192)
def _day_spans(cal: BusinessCalendar, day: date) -> tuple[_Span, ...]:
    """Return a local day's working intervals as naive-UTC spans (cached: calendars are frozen)."""
    spans: list[_Span] = []
    for start, end in cal.hours_on(day):
        begin = _boundary(cal.zone, day, start)
        finish = (_boundary(cal.zone, day + _ONE_DAY, MIDNIGHT) if end == MIDNIGHT
                  else _boundary(cal.zone, day, end))
        if begin < finish:  # an interval inside a skipped hour is empty
            spans.append((begin, finish))
    return tuple(spans)


def _spans_from(cal: BusinessCalendar, after: datetime,
                until: datetime | None = None) -> Iterator[_Span]:
    """Yield working spans clipped to start at ``after``, in order, up to ``until``."""
    # Spans of local days before the wall date of `after` end by its local midnight, which
    # the clock has already reached at `after`; so the walk may start at that date.
    day = after.replace(tzinfo=UTC).astimezone(cal.zone).date()
    while True:
        if until is not None and _boundary(cal.zone, day, MIDNIGHT) >= until:
            return
        for begin, finish in _day_spans(cal, day):
            if finish > after:
                yield max(begin, after), finish
        day += _ONE_DAY


def add_business_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Return the earliest instant (UTC) by which ``duration`` of business time has elapsed.

    A zero duration is due at once: the result is ``start`` itself, even outside hours.
    """
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration!r}")
    now = _to_utc(start)
    if not duration:
        return now.replace(tzinfo=UTC)
    remaining = duration
    for begin, finish in _spans_from(cal, now):
        available = finish - begin
        if remaining <= available:
            return (begin + remaining).replace(tzinfo=UTC)
        remaining -= available
    raise AssertionError("unreachable: a validated calendar has working time ahead")


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Return the earliest instant (UTC) by which ``minutes`` business minutes have elapsed."""
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise TypeError(f"minutes must be an int, got {minutes!r}")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes!r}")
    return add_business_time(cal, start, minutes * _ONE_MINUTE)


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Return the business time in ``[start, end)``, zero when ``end <= start``."""
    low, high = _to_utc(start), _to_utc(end)
    total = _ZERO
    if high <= low:
        return total
    for begin, finish in _spans_from(cal, low, high):
        if begin >= high:
            break
        total += min(finish, high) - begin
    return total


def business_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Return the business minutes in ``[start, end)`` as a float, zero when ``end <= start``."""
    return business_time_between(cal, start, end) / _ONE_MINUTE


def next_business_instant(cal: BusinessCalendar, instant: datetime) -> datetime:
    """Return the first instant (UTC) at or after ``instant`` that is business time."""
    begin, _ = next(_spans_from(cal, _to_utc(instant)))
    return begin.replace(tzinfo=UTC)
