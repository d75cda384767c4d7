"""SLA domain: business calendars and business-time clock arithmetic (pure)."""

from __future__ import annotations

from server.sla.calendar import BusinessCalendar, Interval
from server.sla.clock import (
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    next_business_instant,
)

__all__ = [
    "BusinessCalendar",
    "Interval",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "next_business_instant",
]
