"""Request and response types for SLA calendars, policies, ticket clocks and reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from server.users.schemas import Cursor, Limit, Strict

Name = Annotated[str, Meta(min_length=1, max_length=100)]
ClockKindT = Literal["first_response", "resolution", "next_update"]
ClockState = Literal["running", "paused", "met", "breached", "cancelled"]
Minutes = Annotated[int, Meta(ge=1, le=525_600, description="business minutes")]
IntervalText = Annotated[str, Meta(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$(?!\n)",
                                   description="local working interval, e.g. 09:00-17:00")]
DayHours = Annotated[list[IntervalText], Meta(max_length=12)]
DateText = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$(?!\n)")]
MonthDay = Annotated[str, Meta(pattern=r"^\d{2}-\d{2}$(?!\n)", description="MM-DD, every year")]
PauseStatus = Literal["new", "assigned", "in_progress", "pending"]
Percent = Annotated[int, Meta(ge=1, le=99)]


class WeeklyHours(Strict):
    """Working intervals per weekday; a day left out is a day off."""

    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []


class CalendarCreate(Strict):
    """A new business calendar."""

    name: Name
    tz: Annotated[str, Meta(min_length=1, max_length=64, description="IANA time zone")]
    hours: WeeklyHours
    holidays: Annotated[list[DateText], Meta(max_length=1000)] = []
    recurring_holidays: Annotated[list[MonthDay], Meta(max_length=366)] = []


class CalendarUpdate(Strict):
    """Changes to a calendar; fields left out stay as they are."""

    name: Name | UnsetType = UNSET
    tz: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    hours: WeeklyHours | UnsetType = UNSET
    holidays: Annotated[list[DateText], Meta(max_length=1000)] | UnsetType = UNSET
    recurring_holidays: Annotated[list[MonthDay], Meta(max_length=366)] | UnsetType = UNSET


class Calendar(Struct, kw_only=True):
    """A business calendar as the API shows it."""

    id: int
    name: str
    tz: str
    hours: dict[str, list[str]]
    holidays: list[str]
    recurring_holidays: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class CalendarList(Struct, kw_only=True):
    """All calendars."""

    items: list[Calendar]


class Conditions(Strict):
    """When a policy applies; an empty list matches anything."""

    kinds: Annotated[list[Literal["incident", "service_request", "problem"]],
                     Meta(max_length=3)] = []
    priorities: Annotated[list[Annotated[int, Meta(ge=1, le=5)]], Meta(max_length=5)] = []
    category_ids: Annotated[list[int], Meta(max_length=100)] = []
    requester_group_ids: Annotated[list[int], Meta(max_length=100)] = []


class Targets(Strict):
    """Targets in business minutes; a clock without a target is not started."""

    first_response: Minutes | None = None
    resolution: Minutes | None = None
    next_update: Minutes | None = None


class EscalationRule(Strict):
    """What to do when a clock warns or breaches."""

    on: Literal["warning", "breach"]
    action: Literal["notify", "reassign", "raise_priority", "timeline"]
    clock: ClockKindT | None = None  # None: any clock
    percent: Percent | None = None  # warnings only: this threshold (None: any)
    group_id: int | None = None  # reassign: the group to hand the ticket to
    # notify: this staff member; None: the assignee, or the group's staff when unassigned
    user_id: int | None = None
    note: Annotated[str, Meta(max_length=1000)] | None = None  # timeline: the text


Rules = Annotated[list[EscalationRule], Meta(max_length=20)]
Warns = Annotated[list[Percent], Meta(max_length=5)]
Pauses = Annotated[list[PauseStatus], Meta(max_length=4)]


class PolicyCreate(Strict):
    """A new SLA policy."""

    name: Name
    calendar_id: int
    targets: Targets
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    fallback: bool = False
    active: bool = True
    conditions: Conditions = field(default_factory=Conditions)
    warn_percents: Warns = field(default_factory=lambda: [75])
    pause_statuses: Pauses = field(default_factory=lambda: ["pending"])
    escalations: Rules = []


class PolicyUpdate(Strict):
    """Changes to a policy; open tickets' clocks are re-targeted, closed ones are not."""

    name: Name | UnsetType = UNSET
    calendar_id: int | UnsetType = UNSET
    targets: Targets | UnsetType = UNSET
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | UnsetType = UNSET
    fallback: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    conditions: Conditions | UnsetType = UNSET
    warn_percents: Warns | UnsetType = UNSET
    pause_statuses: Pauses | UnsetType = UNSET
    escalations: Rules | UnsetType = UNSET


class PolicyOut(Struct, kw_only=True):
    """An SLA policy as the API shows it."""

    id: int
    name: str
    position: int
    fallback: bool
    active: bool
    calendar_id: int
    conditions: Conditions
    targets: Targets
    warn_percents: list[int]
    pause_statuses: list[str]
    escalations: list[EscalationRule]
    created_at: dt.datetime
    updated_at: dt.datetime
    # Open clocks wait to be re-targeted to this version in the background.
    retarget_pending: bool = False


class PolicyList(Struct, kw_only=True):
    """All policies in match order (the fallback last)."""

    items: list[PolicyOut]


class SlaClock(Struct, kw_only=True):
    """One clock of a ticket."""

    id: int
    kind: str
    policy_id: int | None
    policy_name: str
    target_minutes: int
    state: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    elapsed_minutes: float
    remaining_minutes: float
    counting: bool
    breached_at: dt.datetime | None
    stopped_at: dt.datetime | None
    warnings_fired: int


class TicketSla(Struct, kw_only=True):
    """A ticket's SLA state: the earliest open due time and every clock."""

    due_at: dt.datetime | None
    breached: bool
    paused: bool
    clocks: list[SlaClock]


class PeriodQuery(Strict):
    """A reporting period."""

    start: dt.datetime
    end: dt.datetime


class ReportQuery(Strict):
    """A reporting period and grouping."""

    start: dt.datetime
    end: dt.datetime
    by: Literal["policy", "priority", "group"] = "policy"
    clock: ClockKindT | None = None


class ComplianceRow(Struct, kw_only=True):
    """Compliance of one group of clocks decided in the period."""

    key: str
    clock: str
    total: int
    met: int
    breached: int
    compliance_percent: float | None


class ComplianceReport(Struct, kw_only=True):
    """SLA compliance over a period."""

    start: dt.datetime
    end: dt.datetime
    by: str
    rows: list[ComplianceRow]


class BreachQuery(Strict):
    """A period of breaches and a page."""

    start: dt.datetime
    end: dt.datetime
    limit: Limit | None = None
    cursor: Cursor | None = None


class Breach(Struct, kw_only=True):
    """A clock that breached."""

    clock_id: int
    ticket_id: int
    number: str
    title: str
    priority: int
    group_id: int | None
    status: str
    clock: str
    policy_name: str
    target_minutes: int
    due_at: dt.datetime | None
    breached_at: dt.datetime
    stopped_at: dt.datetime | None


class BreachPage(Struct, kw_only=True):
    """A page of breaches, oldest first."""

    items: list[Breach]
    next_cursor: str | None


class PreviewCalendar(Strict):
    """An unsaved calendar to preview against."""

    tz: Annotated[str, Meta(min_length=1, max_length=64, description="IANA time zone")]
    hours: WeeklyHours
    holidays: Annotated[list[DateText], Meta(max_length=1000)] = []
    recurring_holidays: Annotated[list[MonthDay], Meta(max_length=366)] = []


class PreviewRequest(Strict):
    """An unsaved policy's targets on a saved (``calendar_id``) or unsaved calendar."""

    targets: Targets
    calendar_id: int | None = None
    calendar: PreviewCalendar | None = None
    warn_percents: Warns = field(default_factory=lambda: [75])
    start: dt.datetime | None = None  # when the ticket is created; default now
    priority: Annotated[int, Meta(ge=1, le=5)] | None = None
    kind: Literal["incident", "service_request", "problem"] | None = None


class PreviewClock(Struct, kw_only=True):
    """When one clock of a ticket created at ``start`` would warn and be due."""

    clock: str
    target_minutes: int
    warnings_at: list[dt.datetime]
    due_at: dt.datetime


class PreviewOut(Struct, kw_only=True):
    """Due times computed by the server's own business-time clock."""

    start: dt.datetime
    calendar_name: str
    tz: str
    priority: int | None
    kind: str | None
    clocks: list[PreviewClock]
