"""SLA business-time arithmetic agrees with a minute-by-minute reference (pure functions)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.sla import (
    BusinessCalendar,
    Interval,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    next_business_instant,
)

settings.register_profile(
    "sla-clock", max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("sla-clock")

MINUTE = timedelta(minutes=1)
WINDOW = 6 * 24 * 60  # minutes of real time the reference walks per example

# Each zone's 2026 clock changes: the local day and the wall-clock minute at which the
# skipped or repeated hour begins on it. Havana and Santiago change at midnight; Santiago's
# autumn change repeats 23:00-24:00 of April 4th after its clocks have shown April 5th.
CHANGES: dict[str, tuple[tuple[date, int], ...]] = {
    "Europe/Berlin": ((date(2026, 3, 29), 120), (date(2026, 10, 25), 120)),
    "America/New_York": ((date(2026, 3, 8), 120), (date(2026, 11, 1), 60)),
    "Australia/Sydney": ((date(2026, 10, 4), 120), (date(2026, 4, 5), 120)),
    "America/Havana": ((date(2026, 3, 8), 0), (date(2026, 11, 1), 0)),
    "America/Santiago": ((date(2026, 9, 6), 0), (date(2026, 4, 4), 23 * 60)),
    "UTC": (),
    "Asia/Kolkata": (),  # +05:30 all year
}
DST_ZONES = sorted(tz for tz, changes in CHANGES.items() if changes)
CHANGE_DAYS = sorted({day for changes in CHANGES.values() for day, _ in changes})


# --- the brute-force reference ------------------------------------------------------------


def reference_is_working(cal: BusinessCalendar, reading: datetime) -> bool:
    """Say whether a local wall-clock reading is a working time of a non-holiday day."""
    day = reading.date()
    if day in cal.holidays or (day.month, day.day) in cal.recurring_holidays:
        return False
    minute = reading.hour * 60 + reading.minute
    for start, end in cal.weekly_hours[day.weekday()]:
        end_minute = end.hour * 60 + end.minute or 24 * 60
        if start.hour * 60 + start.minute <= minute < end_minute:
            return True
    return False


@functools.lru_cache(maxsize=32)
def reference_flags(cal: BusinessCalendar, start: datetime) -> tuple[bool, ...]:
    """Flag each whole UTC minute of the window from `start` as business time or not.

    A minute is business time when the highest wall-clock reading reached so far is a
    working time: after clocks are set back, the reading "stands still" until the clock
    passes it again. No local-to-UTC conversion is involved, only UTC-to-local.
    """
    zone = ZoneInfo(cal.tz)

    def wall(t: datetime) -> datetime:
        return t.astimezone(zone).replace(tzinfo=None)

    # Clocks are set back by at most an hour in these zones; three hours of history suffice.
    highest = max(wall(start - k * MINUTE) for k in range(1, 181))
    flags = []
    for k in range(WINDOW):
        highest = max(highest, wall(start + k * MINUTE))
        flags.append(reference_is_working(cal, highest))
    return tuple(flags)


def reference_add(flags: tuple[bool, ...], start: datetime, minutes: int) -> datetime:
    """Return when `minutes` business minutes have elapsed, by counting flagged minutes."""
    if minutes == 0:
        return start
    seen = 0
    for k, flag in enumerate(flags):
        seen += flag
        if seen == minutes:
            return start + (k + 1) * MINUTE
    raise AssertionError("target beyond the reference window")


# --- strategies ---------------------------------------------------------------------------


def minute_time(minute: int) -> time:
    """Return the time of a minute of the day, 1440 being 24:00 written as 00:00."""
    return time((minute // 60) % 24, minute % 60)


ANY_MINUTES = st.integers(0, 96).map(lambda q: 15 * q)


@st.composite
def day_hours(draw: st.DrawFn, points: st.SearchStrategy[int], *,
              cut: int | None = None) -> tuple[Interval, ...]:
    """Draw sorted, non-overlapping intervals, some touching, between drawn boundaries.

    With `cut`, one interval starts or ends there, or two touch there.
    """
    bounds = draw(st.sets(points, max_size=6))
    if cut is not None:
        bounds |= {cut, draw(st.sampled_from((0, 24 * 60)))}
    ordered = sorted(bounds)
    return tuple((minute_time(begin), minute_time(end)) for begin, end in pairwise(ordered)
                 if end == cut or begin == cut or draw(st.booleans()))


@st.composite
def cases(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """Draw a calendar and a minute-aligned start, half of them just before a DST change."""
    weekly = {weekday: draw(day_hours(ANY_MINUTES)) for weekday in range(7)}
    if draw(st.booleans()):
        # Near a change: the window covers it and that day's hours have a boundary inside
        # the skipped or repeated hour, others around it.
        tz = draw(st.sampled_from(DST_ZONES))
        anchor, hour = draw(st.sampled_from(CHANGES[tz]))
        cut = hour + draw(st.sampled_from((15, 30, 45)))
        around = st.sampled_from([m for m in range(hour - 60, hour + 135, 15) if 0 <= m <= 1440])
        weekly[anchor.weekday()] = draw(day_hours(around | ANY_MINUTES, cut=cut))
        minutes = st.integers(-36 * 60, 3 * 60)
    else:
        tz = draw(st.sampled_from(sorted(CHANGES)))
        anchor = draw(st.sampled_from([*CHANGE_DAYS, date(2028, 2, 29), date(2026, 12, 25)])
                      | st.dates(date(2024, 1, 1), date(2030, 12, 31)))
        minutes = st.integers(-3 * 24 * 60, 24 * 60)
    start = datetime.combine(anchor, time(0), tzinfo=UTC) + draw(minutes) * MINUTE
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = ((time(9), time(17)),)
    near = st.integers(-1, 7).map(lambda days: start.date() + timedelta(days=days))
    holidays = draw(st.frozensets(near, max_size=1))
    recurring = draw(st.frozensets(near.map(lambda d: (d.month, d.day))
                                   | st.just((2, 29)), max_size=1))
    cal = BusinessCalendar(name="random", tz=tz, weekly_hours=weekly, holidays=holidays,
                           recurring_holidays=recurring)
    return cal, start


def instants(start: datetime, days: int) -> st.SearchStrategy[datetime]:
    """Draw instants with microseconds within `days` after `start`."""
    return st.integers(0, days * 86_400_000_000).map(lambda us: start + timedelta(microseconds=us))


# --- properties ---------------------------------------------------------------------------


def edges(flags: tuple[bool, ...]) -> list[int]:
    """Return the minute offsets where the flags change, with both ends of the window."""
    return [0, *(k for k in range(1, len(flags)) if flags[k] != flags[k - 1]), len(flags)]


@PROFILE
@given(case=cases(), data=st.data())
def test_clock_matches_reference(case: tuple[BusinessCalendar, datetime],
                                 data: st.DataObject) -> None:
    """Due times, business time and the next opening match minute-by-minute counting."""
    cal, start = case
    flags = reference_flags(cal, start)
    total = sum(flags)
    # Agreement at every start and end of a working stretch pins every span down.
    for k in edges(flags):
        done = sum(flags[:k])
        assert business_time_between(cal, start, start + k * MINUTE) == done * MINUTE
        for minutes in (done, done + 1):
            if minutes <= total:
                assert add_business_minutes(cal, start, minutes) == \
                    reference_add(flags, start, minutes)
    minutes = data.draw(st.integers(0, total), label="minutes")
    assert add_business_minutes(cal, start, minutes) == reference_add(flags, start, minutes)

    skip = data.draw(st.integers(0, WINDOW), label="skip")
    length = data.draw(st.integers(0, WINDOW - skip), label="length")
    begin, end = start + skip * MINUTE, start + (skip + length) * MINUTE
    expected = sum(flags[skip:skip + length]) * MINUTE
    assert business_time_between(cal, begin, end) == expected
    local = cal.zone
    assert business_time_between(cal, begin.astimezone(local), end.astimezone(local)) == expected

    if total:
        assert next_business_instant(cal, start) == start + flags.index(True) * MINUTE
    else:
        assert next_business_instant(cal, start) >= start + WINDOW * MINUTE


@PROFILE
@given(case=cases(), data=st.data())
def test_between_inverts_add(case: tuple[BusinessCalendar, datetime], data: st.DataObject) -> None:
    """From any instant, the business time up to `add(start, m)` is exactly m minutes."""
    cal, start = case
    start = data.draw(instants(start, 2), label="start")
    minutes = data.draw(st.integers(0, 5_000), label="minutes")
    due = add_business_minutes(cal, start, minutes)
    assert due >= start
    assert business_time_between(cal, start, due) == minutes * MINUTE
    assert business_minutes_between(cal, start, due) == minutes


@PROFILE
@given(case=cases(), data=st.data())
def test_between_is_additive(case: tuple[BusinessCalendar, datetime], data: st.DataObject) -> None:
    """Business time over [a, c) is that over [a, b) plus [b, c); openings are business time."""
    cal, start = case
    a, b, c = sorted(data.draw(st.lists(instants(start, 20), min_size=3, max_size=3)))
    assert (business_time_between(cal, a, b) + business_time_between(cal, b, c)
            == business_time_between(cal, a, c))
    assert business_time_between(cal, c, a) == timedelta(0)
    # The clock starts at the next opening: nothing counts before it, everything just after.
    opening, tick = next_business_instant(cal, a), timedelta(microseconds=1)
    assert opening >= a
    assert business_time_between(cal, a, opening) == timedelta(0)
    assert business_time_between(cal, opening, opening + tick) == tick


@PROFILE
@given(case=cases(), data=st.data())
def test_add_is_monotonic_and_composes(case: tuple[BusinessCalendar, datetime],
                                       data: st.DataObject) -> None:
    """Larger targets or later starts are never due earlier; targets add up over months."""
    cal, start = case
    later = data.draw(instants(start, 3), label="later")
    small, big = sorted(data.draw(st.lists(st.integers(0, 40_000), min_size=2, max_size=2)))
    assert add_business_minutes(cal, start, small) <= add_business_minutes(cal, start, big)
    assert add_business_minutes(cal, start, small) <= add_business_minutes(cal, later, small)
    first = add_business_minutes(cal, start, small)
    assert add_business_minutes(cal, first, big - small) == add_business_minutes(cal, start, big)


# --- scenarios ----------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {weekday: ((time(9), time(17)),) for weekday in range(5)}


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
           second: int = 0, microsecond: int = 0) -> datetime:
    """Return an aware Europe/Berlin wall time."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=BERLIN)


def office(**kwargs: object) -> BusinessCalendar:
    """Return a 9-17 Monday-Friday calendar in Europe/Berlin."""
    return BusinessCalendar(name="office", tz="Europe/Berlin",
                            weekly_hours=NINE_TO_FIVE, **kwargs)  # type: ignore[arg-type]


def nightly() -> BusinessCalendar:
    """Return a calendar working 00:00-06:00 every night in Europe/Berlin."""
    return BusinessCalendar(name="night", tz="Europe/Berlin",
                            weekly_hours={d: ((time(0), time(6)),) for d in range(7)})


def test_friday_afternoon_target_is_due_monday() -> None:
    """A 4-hour target raised Friday 15:00 is due Monday 11:00 (2 h Friday, 2 h Monday)."""
    due = add_business_minutes(office(), berlin(2026, 3, 6, 15, 0), 240)
    assert due == berlin(2026, 3, 9, 11, 0)
    assert due.tzinfo is UTC


def test_target_ending_at_closing_time_is_due_that_day() -> None:
    """A target used up exactly at closing time is due then, not at the next opening."""
    assert add_business_minutes(office(), berlin(2026, 3, 6, 9, 0), 480) == berlin(2026, 3, 6, 17)


def test_zero_target_is_due_at_start_even_outside_hours() -> None:
    """A zero target is due at once: the start itself, on a Saturday night too."""
    start = berlin(2026, 3, 7, 23, 15)
    assert add_business_minutes(office(), start, 0) == start


def test_raised_outside_hours_clock_starts_when_business_opens() -> None:
    """Outside hours the clock starts at the next opening; inside, at once."""
    saturday = berlin(2026, 3, 7, 10, 0)
    assert next_business_instant(office(), saturday) == berlin(2026, 3, 9, 9, 0)
    assert add_business_minutes(office(), saturday, 30) == berlin(2026, 3, 9, 9, 30)
    tuesday = berlin(2026, 3, 10, 10, 7, 30)
    assert next_business_instant(office(), tuesday) == tuesday


def test_christmas_holidays_are_skipped() -> None:
    """Recurring Dec 24-26 and a single Dec 31 are skipped like weekends."""
    cal = office(recurring_holidays=frozenset({(12, 24), (12, 25), (12, 26)}),
                 holidays=frozenset({date(2026, 12, 31)}))
    # Wed 23rd 16:00 + 2 h: 1 h on Wednesday, Thu/Fri holidays, weekend, 1 h on Monday.
    assert add_business_minutes(cal, berlin(2026, 12, 23, 16), 120) == berlin(2026, 12, 28, 10)
    # Mon 28th .. Fri Jan 1st 2027: Mon-Wed count, Thu 31st single holiday, Fri Jan 1 counts.
    assert business_minutes_between(cal, berlin(2026, 12, 28), berlin(2027, 1, 2)) == 4 * 480


def test_recurring_holiday_applies_every_year() -> None:
    """A recurring Dec 25 holiday removes that day in every year."""
    cal = BusinessCalendar(name="xmas", tz="Europe/Berlin",
                           weekly_hours={d: ((time(8), time(20)),) for d in range(7)},
                           recurring_holidays=frozenset({(12, 25)}))
    for year in (2026, 2027, 2031, 2040):
        christmas = business_time_between(cal, berlin(year, 12, 25), berlin(year, 12, 26))
        eve = business_time_between(cal, berlin(year, 12, 24), berlin(year, 12, 25))
        assert (christmas, eve) == (timedelta(0), timedelta(hours=12))


def test_feb_29_recurring_holiday_only_in_leap_years() -> None:
    """A recurring Feb 29 removes that day in leap years and moves to no other day."""
    cal = BusinessCalendar(name="leap", tz="Europe/Berlin",
                           weekly_hours={d: ((time(9), time(17)),) for d in range(7)},
                           recurring_holidays=frozenset({(2, 29)}))
    assert business_minutes_between(cal, berlin(2028, 2, 28), berlin(2028, 3, 2)) == 2 * 480
    assert business_minutes_between(cal, berlin(2027, 2, 27), berlin(2027, 3, 2)) == 3 * 480


def test_spring_forward_night_shift_loses_an_hour() -> None:
    """On 2026-03-29 (Berlin 02:00 -> 03:00) a 00:00-06:00 shift lasts five real hours."""
    cal = nightly()
    assert business_time_between(cal, berlin(2026, 3, 29), berlin(2026, 3, 30)) == \
        timedelta(hours=5)
    # Six hours from Sunday 00:00 run out at Monday 01:00.
    assert add_business_minutes(cal, berlin(2026, 3, 29), 360) == berlin(2026, 3, 30, 1)


def test_fall_back_night_shift_gains_an_hour() -> None:
    """On 2026-10-25 (Berlin 03:00 -> 02:00) a 00:00-06:00 shift lasts seven real hours."""
    cal = nightly()
    assert business_time_between(cal, berlin(2026, 10, 25), berlin(2026, 10, 26)) == \
        timedelta(hours=7)
    # Six hours from 00:00 CEST (22:00 UTC) run out at 04:00 UTC, 05:00 CET.
    assert add_business_minutes(cal, berlin(2026, 10, 25), 360) == \
        datetime(2026, 10, 25, 4, tzinfo=UTC)


def test_boundaries_inside_dst_changes() -> None:
    """Skipped times start at the jump; repeated times start at their first occurrence."""
    def one_interval(start: time, end: time) -> BusinessCalendar:
        return BusinessCalendar(name="x", tz="Europe/Berlin",
                                weekly_hours={6: ((start, end),)})

    def length(cal: BusinessCalendar, day: date) -> timedelta:
        return business_time_between(cal, datetime.combine(day, time(0), tzinfo=BERLIN),
                                     datetime.combine(day, time(12), tzinfo=BERLIN))

    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert length(one_interval(time(1, 30), time(3, 30)), spring) == timedelta(hours=1)
    assert length(one_interval(time(2, 30), time(4)), spring) == timedelta(hours=1)
    assert length(one_interval(time(2), time(2, 30)), spring) == timedelta(0)
    assert next_business_instant(one_interval(time(2, 30), time(4)),
                                 berlin(2026, 3, 29)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert length(one_interval(time(1, 30), time(3, 30)), autumn) == timedelta(hours=3)
    assert length(one_interval(time(2, 30), time(4)), autumn) == timedelta(hours=2, minutes=30)
    assert length(one_interval(time(0), time(2, 30)), autumn) == timedelta(hours=2, minutes=30)


@pytest.mark.parametrize(("tz", "day", "hours"), [
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
    ("Australia/Sydney", date(2026, 10, 4), 23),
    ("Australia/Sydney", date(2026, 4, 5), 25),
    ("America/Havana", date(2026, 3, 8), 23),  # midnight is skipped: the day starts at 01:00
    ("America/Santiago", date(2026, 4, 4), 25),  # 23:00-24:00 repeats after "April 5th"
    ("America/Santiago", date(2026, 4, 5), 24),
    ("Pacific/Apia", date(2011, 12, 29), 24),
    ("Pacific/Apia", date(2011, 12, 30), 0),  # Samoa skipped the whole day
])
def test_whole_day_lengths_across_changes(tz: str, day: date, hours: int) -> None:
    """A whole-day calendar counts a local day as the real time between its midnights."""
    # Only `day` is a working day: the days around it are holidays.
    around = frozenset(day + timedelta(days=n) for n in range(-3, 4) if n)
    cal = BusinessCalendar(name=tz, tz=tz, holidays=around,
                           weekly_hours={d: ((time(0), time(0)),) for d in range(7)})
    since = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=2)
    assert business_time_between(cal, since, since + timedelta(days=5)) == \
        timedelta(hours=hours)


def test_preset_24x7_is_plain_elapsed_time() -> None:
    """The 24x7 preset counts every minute: due time is start plus the target."""
    cal = BusinessCalendar.always()
    start = datetime(2026, 3, 29, 0, 30, 15, tzinfo=BERLIN)
    # Aware arithmetic within one zone is wall-clock arithmetic in Python: compute in UTC.
    elapsed = start.astimezone(UTC) + 60_000 * MINUTE
    assert add_business_minutes(cal, start, 60_000) == elapsed
    assert elapsed.astimezone(BERLIN) == datetime(2026, 5, 9, 17, 30, 15, tzinfo=BERLIN)
    end = datetime(2026, 5, 8, 0, 30, 22, tzinfo=BERLIN)
    assert business_time_between(cal, start, end) == timedelta(days=40, seconds=7, hours=-1)
    assert cal.name == "24x7" and cal.tz == "UTC" and not cal.holidays


def test_lunch_break_splits_the_day() -> None:
    """With 09-12 and 13-17, two hours from 11:00 are due at 14:00."""
    cal = BusinessCalendar(name="lunch", tz="Europe/Berlin",
                           weekly_hours={d: ((time(9), time(12)), (time(13), time(17)))
                                         for d in range(5)})
    assert add_business_minutes(cal, berlin(2026, 5, 5, 11), 120) == berlin(2026, 5, 5, 14)
    assert business_minutes_between(cal, berlin(2026, 5, 5, 8), berlin(2026, 5, 5, 20)) == 420


def test_overnight_shift_over_midnight_is_continuous() -> None:
    """Mon 22:00-24:00 plus Tue 00:00-06:00 is one eight-hour stretch."""
    cal = BusinessCalendar(name="night", tz="Asia/Kolkata",
                           weekly_hours={0: ((time(22), time(0)),), 1: ((time(0), time(6)),)})
    start = datetime(2026, 6, 1, 22, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert add_business_minutes(cal, start, 480) == start + timedelta(hours=8)


def test_duration_and_units() -> None:
    """Durations are exact timedeltas; minute helpers convert without rounding."""
    cal = office()
    start = berlin(2026, 3, 9, 9, 0, 0, 250_000)
    due = add_business_time(cal, start, timedelta(seconds=90))
    assert due == start + timedelta(seconds=90)
    assert business_minutes_between(cal, start, due) == 1.5


def test_instant_arguments_are_checked() -> None:
    """Naive instants and negative targets are refused."""
    cal = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(cal, datetime(2026, 3, 9, 9), 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(cal, berlin(2026, 3, 9), datetime(2026, 3, 10))
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(cal, berlin(2026, 3, 9), -1)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(cal, berlin(2026, 3, 9), timedelta(seconds=-1))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tz": "Mars/Olympus"}, "unknown IANA time zone 'Mars/Olympus'"),
    ({"name": " "}, "calendar name"),
    ({"weekly_hours": {7: ((time(9), time(17)),)}}, "weekday must be .* got 7"),
    ({"weekly_hours": {0: ((time(17), time(9)),)}}, "empty or reversed: '17:00-09:00'"),
    ({"weekly_hours": {0: ((time(9), time(9)),)}}, "empty or reversed: '09:00-09:00'"),
    ({"weekly_hours": {0: ((time(9), time(12)), (time(11), time(17)))}},
     "overlap: '11:00-17:00' and '09:00-12:00'"),
    ({"weekly_hours": {0: ((time(13), time(17)), (time(9), time(12)))}},
     "not sorted: '09:00-12:00' after '13:00-17:00'"),
    ({"weekly_hours": {0: ((time(9, 0, 30), time(17)),)}}, "whole minutes"),
    ({"weekly_hours": {0: ((time(9, tzinfo=UTC), time(17)),)}}, "local wall time"),
    ({"weekly_hours": {0: ((time(9),),)}}, r"must be \(start, end\)"),
    ({"weekly_hours": {0: ()}}, "no working hours"),
    ({"holidays": frozenset({datetime(2026, 12, 25)})}, "must be a datetime.date"),
    ({"recurring_holidays": frozenset({(2, 30)})}, r"not a calendar day: \(2, 30\)"),
    ({"recurring_holidays": frozenset({(13, 1)})}, r"not a calendar day: \(13, 1\)"),
    ({"recurring_holidays": frozenset({(date(2000, 1, 1) + timedelta(days=n)).timetuple()[1:3]
                                       for n in range(366)})}, "every day of the year"),
])
def test_calendar_validation(kwargs: dict[str, object], message: str) -> None:
    """Bad calendar definitions are refused with a message naming the offending value."""
    fields: dict[str, object] = {"name": "bad", "tz": "Europe/Berlin",
                                 "weekly_hours": NINE_TO_FIVE, **kwargs}
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**fields)  # type: ignore[arg-type]


def test_calendar_is_immutable_and_normalised() -> None:
    """A calendar lists all seven weekdays, cannot be changed, and hashes by value."""
    cal = office(holidays={date(2026, 12, 31)})
    assert cal.weekly_hours[5] == ()
    assert cal.holidays == frozenset({date(2026, 12, 31)})
    with pytest.raises(TypeError):
        cal.weekly_hours[5] = ((time(9), time(12)),)  # type: ignore[index]
    assert cal == office(holidays=frozenset({date(2026, 12, 31)}))
    assert hash(cal) == hash(office(holidays=frozenset({date(2026, 12, 31)})))
