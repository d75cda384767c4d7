"""What one ticket adds to the daily roll-ups (pure: plain values in, counts out).

A ticket's contribution is a list of ``(day, name, value)`` items: counters (``created``,
``resolved``...) and histogram entries (``hist:fr:<bucket>``). The roll-up keeps, per
ticket, the items it added and under which group, category, technician, priority and
channel; when the ticket changes it subtracts those and adds the new ones, so the
roll-ups always equal a fresh computation over the tickets (``rollup.refresh``).

The definitions (docs/reports.md says the same):

- days are calendar days in the desk's report time zone (``report_time_zone``);
- ``created``: the ticket was filed that day;
- ``entered`` / ``left``: it became open (filed, or reopened) / stopped being open
  (resolved, closed, cancelled, merged) that day — the backlog's flows;
- ``resolved``: a move from an open status to resolved or closed that day (not a merge,
  not a cancellation); a reopened ticket resolved twice counts twice;
- ``done``: the ticket's last resolution fell on that day and it is resolved or closed
  now (not merged): the base of the rates and of the resolution time;
- resolution time: from filing to that last resolution, in wall-clock time;
- ``reopened``: a done ticket that was reopened at least once;
- ``fcr`` (first-contact resolution): a done ticket never reopened, with at most one
  public reply from someone other than the requester;
- ``remote``: a done ticket with a remote session that started (consent given);
- first response: the first public comment by someone other than the requester, counted
  on its day, in wall-clock time from filing;
- SLA: a first-response or resolution clock counts on the day it was decided — breached
  (``breached_at``) or stopped in time (``stopped_at`` of a met clock), as the SLA
  compliance report counts; paused, running and cancelled clocks do not count;
- satisfaction: the ticket's latest rating (1-5), on the day it was given.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.reports import histogram

OPEN = frozenset({"new", "assigned", "in_progress", "pending"})
RESOLVED = frozenset({"resolved", "closed"})
COUNTERS = ("created", "entered", "left", "resolved", "responded", "done", "reopened", "fcr",
            "remote", "fr_met", "fr_breached", "res_met", "res_breached", "rated", "rating_sum")
HISTOGRAMS = ("fr", "res", "res_remote", "rating")

Item = tuple[str, str, int]  # day, name, value


@dataclass(frozen=True)
class TicketIn:
    """The ticket's own fields that reports read."""

    id: int
    created_at: dt.datetime
    status: str
    requester_id: int
    merged_into_id: int | None


@dataclass(frozen=True)
class EventIn:
    """One timeline event, as reports read it."""

    at: dt.datetime
    type: str
    actor_id: int | None
    public: bool
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class ClockIn:
    """One SLA clock, as reports read it."""

    kind: str
    state: str
    breached_at: dt.datetime | None
    stopped_at: dt.datetime | None


def day_of(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """Return the calendar day (YYYY-MM-DD) of an aware time in a zone."""
    return at.astimezone(zone).date().isoformat()


def _status_move(event: EventIn) -> tuple[str | None, str] | None:
    change = event.changes.get("status") if isinstance(event.changes, Mapping) else None
    if not isinstance(change, Mapping) or not isinstance(change.get("after"), str):
        return None
    before = change.get("before")
    return (before if isinstance(before, str) else None), change["after"]


def contribution(ticket: TicketIn, events: Sequence[EventIn], clocks: Sequence[ClockIn], *,
                 remote: bool, zone: zoneinfo.ZoneInfo) -> list[Item]:
    """Return the items one ticket adds to the roll-ups (events in timeline order)."""
    items: list[Item] = [(day_of(ticket.created_at, zone), "created", 1)]
    merged = ticket.merged_into_id is not None
    last_resolution: dt.datetime | None = None
    reopens = 0
    replies = 0
    first_response: dt.datetime | None = None
    rating: tuple[dt.datetime, int] | None = None
    for ev in events:
        if ev.type == "comment" and ev.public and ev.actor_id != ticket.requester_id:
            replies += 1
            if first_response is None:
                first_response = ev.at
        if ev.type == "rating":
            score = (ev.changes.get("rating") or {}).get("score")
            if isinstance(score, int) and 1 <= score <= 5:
                rating = (ev.at, score)
        move = _status_move(ev)
        if move is None:
            continue
        before, after = move
        was_open, is_open = before in OPEN, after in OPEN
        day = day_of(ev.at, zone)
        if is_open and not was_open:
            items.append((day, "entered", 1))
            if before in RESOLVED:
                reopens += 1
        elif was_open and not is_open:
            items.append((day, "left", 1))
            if after in RESOLVED and "merged_into" not in ev.changes:
                items.append((day, "resolved", 1))
                last_resolution = ev.at
    if first_response is not None:
        seconds = (first_response - ticket.created_at).total_seconds()
        day = day_of(first_response, zone)
        items += [(day, "responded", 1),
                  (day, f"hist:fr:{histogram.bucket_of(max(0.0, seconds))}", 1)]
    if not merged and ticket.status in RESOLVED and last_resolution is not None:
        day = day_of(last_resolution, zone)
        bucket = histogram.bucket_of(
            max(0.0, (last_resolution - ticket.created_at).total_seconds()))
        items += [(day, "done", 1), (day, f"hist:res:{bucket}", 1)]
        if reopens:
            items.append((day, "reopened", 1))
        elif replies <= 1:
            items.append((day, "fcr", 1))
        if remote:
            items += [(day, "remote", 1), (day, f"hist:res_remote:{bucket}", 1)]
    for clock in clocks:
        if clock.kind not in ("first_response", "resolution"):
            continue
        prefix = "fr" if clock.kind == "first_response" else "res"
        if clock.state == "breached" and clock.breached_at is not None:
            items.append((day_of(clock.breached_at, zone), f"{prefix}_breached", 1))
        elif clock.state == "met" and clock.stopped_at is not None:
            items.append((day_of(clock.stopped_at, zone), f"{prefix}_met", 1))
    if rating is not None:
        day = day_of(rating[0], zone)
        items += [(day, "rated", 1), (day, "rating_sum", rating[1]),
                  (day, f"hist:rating:{rating[1]}", 1)]
    return items


def is_open(status: str) -> bool:
    """Tell whether a status counts in the backlog."""
    return status in OPEN
