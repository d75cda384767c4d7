"""Types of the reports API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from server.users.schemas import Strict

ChartName = Literal["volume", "times", "sla", "quality", "remote", "satisfaction",
                    "deflection"]
CHARTS: tuple[str, ...] = ("volume", "times", "sla", "quality", "remote", "satisfaction",
                           "deflection")
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]


class ChartQuery(Strict):
    """A period (days in the report time zone, both included) and filters."""

    start: dt.date | None = None  # default: 29 days before end
    end: dt.date | None = None  # default: today
    group_id: Id | None = None
    category_id: Id | None = None
    by: Literal["group", "category", "technician", "priority", "channel"] = "group"


class ChartData(Struct, kw_only=True):
    """One chart's data as a table; its CSV download holds the same columns and rows."""

    chart: str
    start: dt.date
    end: dt.date
    time_zone: str
    by: str | None
    columns: list[str]
    rows: list[list[str | int | float | None]]


class SuggestionsShown(Strict):
    """The portal showed knowledge-base suggestions on a new-ticket form, or filed it after."""

    outcome: Literal["shown", "filed"]


class GroupRef(Struct, kw_only=True):
    """A group the caller may filter by."""

    id: int
    name: str


class ReportScope(Struct, kw_only=True):
    """What the caller's dashboards cover: groups they may see, the days' time zone."""

    groups: list[GroupRef]
    all_groups: bool
    time_zone: str
    today: dt.date
