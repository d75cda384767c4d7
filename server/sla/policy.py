"""SLA policies as plain values: conditions, match order, calendars from stored rows (pure)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from server.sla.calendar import BusinessCalendar, Interval

ClockKind = Literal["first_response", "resolution", "next_update"]
CLOCK_KINDS: tuple[ClockKind, ...] = ("first_response", "resolution", "next_update")
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Facts:
    """What a policy's conditions look at."""

    kind: str
    priority: int
    category_id: int | None
    requester_group_ids: frozenset[int]


@dataclass(frozen=True)
class Policy:
    """A stored SLA policy, as the matcher and the clocks need it."""

    id: int
    name: str
    position: int
    fallback: bool
    active: bool
    calendar_id: int
    kinds: tuple[str, ...]
    priorities: tuple[int, ...]
    category_ids: tuple[int, ...]
    requester_group_ids: tuple[int, ...]
    targets: Mapping[ClockKind, int | None]
    warn_percents: tuple[int, ...]
    pause_statuses: tuple[str, ...]
    escalations: tuple[Mapping[str, Any], ...]

    def matches(self, facts: Facts) -> bool:
        """Tell whether every non-empty condition holds for ``facts``."""
        return ((not self.kinds or facts.kind in self.kinds)
                and (not self.priorities or facts.priority in self.priorities)
                and (not self.category_ids or facts.category_id in self.category_ids)
                and (not self.requester_group_ids
                     or bool(facts.requester_group_ids & set(self.requester_group_ids))))


def choose(policies: Iterable[Policy], facts: Facts) -> Policy | None:
    """Return the first active policy by position whose conditions match, else the fallback.

    The fallback applies only when no other policy matches, whatever its position and
    conditions.
    """
    ordered = sorted((p for p in policies if p.active), key=lambda p: (p.position, p.id))
    for policy in ordered:
        if not policy.fallback and policy.matches(facts):
            return policy
    return next((p for p in ordered if p.fallback), None)


def policy_from_row(row: Any) -> Policy:
    """Build a :class:`Policy` from an ``sla_policies`` row."""
    return Policy(
        id=row.id, name=row.name, position=row.position, fallback=row.fallback,
        active=row.active, calendar_id=row.calendar_id, kinds=tuple(row.kinds),
        priorities=tuple(row.priorities), category_ids=tuple(row.category_ids),
        requester_group_ids=tuple(row.requester_group_ids),
        targets={"first_response": row.first_response_minutes,
                 "resolution": row.resolution_minutes,
                 "next_update": row.next_update_minutes},
        warn_percents=tuple(sorted(row.warn_percents)),
        pause_statuses=tuple(row.pause_statuses), escalations=tuple(row.escalations))


def parse_interval(text: str) -> Interval:
    """Parse "09:00-17:00" (24:00 allowed as an end) into an interval.

    Raises:
        ValueError: not two HH:MM times.
    """
    try:
        start, end = text.split("-")
        sh, sm = (int(v) for v in start.split(":"))
        eh, em = (int(v) for v in end.split(":"))
        if (eh, em) == (24, 0):
            eh = 0
        return dt.time(sh, sm), dt.time(eh, em)
    except ValueError as exc:
        raise ValueError(f"working hours must look like '09:00-17:00', got {text!r}") from exc


def calendar_from_parts(*, name: str, tz: str, hours: Mapping[str, Sequence[str]],
                        holidays: Iterable[str],
                        recurring_holidays: Iterable[str]) -> BusinessCalendar:
    """Build a validated calendar from its stored (JSON) form.

    Raises:
        ValueError: any part is invalid (the message names it).
    """
    weekly: dict[int, tuple[Interval, ...]] = {}
    for key, intervals in hours.items():
        if key not in DAY_KEYS:
            raise ValueError(f"hours: unknown day {key!r}; use {', '.join(DAY_KEYS)}")
        weekly[DAY_KEYS.index(key)] = tuple(parse_interval(i) for i in intervals)
    try:
        single = frozenset(dt.date.fromisoformat(d) for d in holidays)
    except ValueError as exc:
        raise ValueError(f"holidays must be YYYY-MM-DD dates: {exc}") from exc
    recurring: set[tuple[int, int]] = set()
    for text in recurring_holidays:
        try:
            month, day = (int(v) for v in text.split("-"))
        except ValueError as exc:
            raise ValueError(f"recurring holidays must be MM-DD, got {text!r}") from exc
        recurring.add((month, day))
    return BusinessCalendar(name=name, tz=tz, weekly_hours=weekly, holidays=single,
                            recurring_holidays=frozenset(recurring))


_calendars: dict[str, BusinessCalendar] = {}


def calendar_from_row(row: Any) -> BusinessCalendar:
    """Build (once per distinct content) the calendar of an ``sla_calendars`` row."""
    # Keyed by content, not id: ids repeat across databases (tests, restores).
    key = json.dumps([row.name, row.tz, row.hours, sorted(row.holidays),
                      sorted(row.recurring_holidays)], sort_keys=True)
    cal = _calendars.get(key)
    if cal is None:
        if len(_calendars) > 256:
            _calendars.clear()
        cal = calendar_from_parts(name=row.name, tz=row.tz, hours=row.hours,
                                  holidays=row.holidays,
                                  recurring_holidays=row.recurring_holidays)
        _calendars[key] = cal
    return cal


ALWAYS_HOURS: dict[str, list[str]] = {d: ["00:00-24:00"] for d in DAY_KEYS}
