"""Business calendars: an IANA time zone, weekly working hours and holidays, validated.

Working hours are local wall-clock times in the calendar's zone. An interval is
``(start, end)`` with ``start < end`` on the same day; an ``end`` of ``time(0, 0)`` always
means 24:00, the end of the day, so ``(time(0), time(0))`` is the whole day. A shift over
midnight is written as two intervals (Mon 22:00-24:00, Tue 00:00-06:00); touching
intervals are allowed and behave as one. Times are whole minutes without a time zone.

A holiday removes its whole local day. Recurring holidays are ``(month, day)`` pairs
observed every year; ``(2, 29)`` falls only in leap years (it is not moved to Feb 28).
How wall-clock hours map to real time across DST changes is defined in
:mod:`server.sla.clock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[time, time]
"""A working interval ``(start, end)`` in local wall time; ``end == time(0)`` is 24:00."""

MIDNIGHT = time(0)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MINUTES_PER_DAY = 24 * 60
_DAYS_IN_LEAP_YEAR = 366


def interval_minutes(interval: Interval) -> tuple[int, int]:
    """Return an interval as (start, end) minutes of the day, 24:00 being 1440."""
    start, end = interval
    end_minute = end.hour * 60 + end.minute
    return start.hour * 60 + start.minute, end_minute or _MINUTES_PER_DAY


def _format(interval: Interval) -> str:
    start, end = interval_minutes(interval)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _check_time(value: object, day: str) -> time:
    if not isinstance(value, time):
        raise ValueError(f"working hours on {day} need datetime.time values, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"working hours on {day} are local wall time, got aware {value!r}")
    if value.second or value.microsecond:
        raise ValueError(f"working hours on {day} must be whole minutes, got {value!r}")
    return value.replace(fold=0)  # which occurrence of a wall time counts is the clock's rule


def _check_day(weekday: object, intervals: object) -> tuple[Interval, ...]:
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be an int 0 (Monday) to 6 (Sunday), got {weekday!r}")
    day = DAY_NAMES[weekday]
    if not isinstance(intervals, tuple | list):
        raise ValueError(f"working hours on {day} must be a tuple of intervals, "
                         f"got {intervals!r}")
    checked: list[Interval] = []
    for interval in intervals:
        if not isinstance(interval, tuple | list) or len(interval) != 2:
            raise ValueError(f"working interval on {day} must be (start, end), "
                             f"got {interval!r}")
        current = (_check_time(interval[0], day), _check_time(interval[1], day))
        start, end = interval_minutes(current)
        if start >= end:
            raise ValueError(f"working interval on {day} is empty or reversed: "
                             f"{_format(current)!r}")
        if checked:
            previous = checked[-1]
            prev_start, prev_end = interval_minutes(previous)
            if start < prev_start:
                raise ValueError(f"working intervals on {day} are not sorted: "
                                 f"{_format(current)!r} after {_format(previous)!r}")
            if start < prev_end:
                raise ValueError(f"working intervals on {day} overlap: "
                                 f"{_format(current)!r} and {_format(previous)!r}")
        checked.append(current)
    return tuple(checked)


def _check_recurring(value: object) -> tuple[int, int]:
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"recurring holiday must be a (month, day) pair, got {value!r}")
    month, day = value
    try:
        date(2000, month, day)  # 2000 is a leap year, so Feb 29 is accepted
    except ValueError as exc:
        raise ValueError(f"recurring holiday is not a calendar day: {value!r}") from exc
    return month, day


@dataclass(frozen=True)
class BusinessCalendar:
    """A named working-time calendar: IANA time zone, weekly hours and holidays."""

    name: str
    tz: str
    # Weekday 0 (Monday) .. 6 (Sunday) -> sorted, non-overlapping intervals; a missing
    # weekday is a day off. Stored as a read-only mapping holding all seven weekdays.
    weekly_hours: Mapping[int, tuple[Interval, ...]] = field(hash=False)
    holidays: frozenset[date] = frozenset()
    recurring_holidays: frozenset[tuple[int, int]] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate every field and normalise the containers to immutable ones."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"calendar name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.tz, str) or not self.tz:
            raise ValueError(f"time zone must be an IANA name, got {self.tz!r}")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {self.tz!r}") from exc
        if not isinstance(self.weekly_hours, Mapping):
            raise ValueError(f"weekly hours must map weekday to intervals, "
                             f"got {self.weekly_hours!r}")
        weekly: dict[int, tuple[Interval, ...]] = dict.fromkeys(range(7), ())
        for weekday, intervals in self.weekly_hours.items():
            weekly[weekday] = _check_day(weekday, intervals)
        if not any(weekly.values()):
            raise ValueError(f"calendar {self.name!r} has no working hours")
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # datetime is a date subclass but never equals one: reject it outright.
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(f"holiday must be a datetime.date, got {holiday!r}")
        recurring = frozenset(_check_recurring(v) for v in self.recurring_holidays)
        if len(recurring) == _DAYS_IN_LEAP_YEAR:
            raise ValueError(f"calendar {self.name!r} has every day of the year as a holiday")
        object.__setattr__(self, "weekly_hours", MappingProxyType(weekly))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "recurring_holidays", recurring)
        object.__setattr__(self, "zone", zone)

    @classmethod
    def always(cls) -> BusinessCalendar:
        """Return the 24x7 preset: UTC, every day 00:00-24:00, no holidays."""
        whole_day = ((MIDNIGHT, MIDNIGHT),)
        return cls(name="24x7", tz="UTC", weekly_hours=dict.fromkeys(range(7), whole_day))

    def is_holiday(self, day: date) -> bool:
        """Return whether a local date is a single or a recurring holiday."""
        return day in self.holidays or (day.month, day.day) in self.recurring_holidays

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Return the working intervals of a local date (none on a holiday)."""
        if self.is_holiday(day):
            return ()
        return self.weekly_hours[day.weekday()]
