"""Request and response types for health checks and device health (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.users.schemas import Strict
from shared.protocol import CheckKind

CheckName = Annotated[str, Meta(min_length=1, max_length=100)]
Target = Annotated[str, Meta(max_length=255, pattern=r"^[A-Za-z0-9@._:/+-]*$(?!\n)",
                             description="mount point (disk), systemd unit (service) or "
                                         "process name (process)")]
Level = Annotated[float, Meta(ge=0, le=100, description="percent; higher is worse")]
Seconds = Annotated[float, Meta(ge=0, le=86_400)]
OnRecovery = Annotated[Literal["resolve", "note"], Meta(
    description="when the check recovers: resolve the incident, or only add a note")]
ShownState = Literal["ok", "warning", "critical", "unknown", "pending"]


class HealthCheckCreate(Strict):
    """A new check, for one device group or (group_id null) as a default for all."""

    name: CheckName
    kind: CheckKind
    group_id: int | None = None
    target: Target = ""
    warning: Level | None = None
    critical: Level | None = None
    window: Seconds = 0
    hysteresis: Annotated[float, Meta(ge=0, le=50)] = 0
    recover_after: Seconds = 0
    repeat_interval: Annotated[float, Meta(ge=1, le=86_400)] = 300
    on_recovery: OnRecovery = "resolve"
    enabled: bool = True


class HealthCheckUpdate(Strict):
    """Changes to a check (the group and kind stay)."""

    name: CheckName | UnsetType = UNSET
    target: Target | UnsetType = UNSET
    warning: Level | UnsetType | None = UNSET
    critical: Level | UnsetType | None = UNSET
    window: Seconds | UnsetType = UNSET
    hysteresis: Annotated[float, Meta(ge=0, le=50)] | UnsetType = UNSET
    recover_after: Seconds | UnsetType = UNSET
    repeat_interval: Annotated[float, Meta(ge=1, le=86_400)] | UnsetType = UNSET
    on_recovery: OnRecovery | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class HealthCheckOut(Struct, kw_only=True):
    """A check as stored."""

    id: int
    group_id: int | None
    name: str
    kind: CheckKind
    target: str
    warning: float | None
    critical: float | None
    window: float
    hysteresis: float
    recover_after: float
    repeat_interval: float
    on_recovery: str
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class HealthCheckList(Struct, kw_only=True):
    """Checks, defaults first, then by group and name."""

    items: list[HealthCheckOut]


class HealthCheckQuery(Strict):
    """Which checks to list."""

    group_id: int | None = None
    defaults: Annotated[bool, Meta(description="only the defaults (true) or only group "
                                   "checks (false)")] | None = None


class IncidentRef(Struct, kw_only=True):
    """The open incident of a failing check."""

    id: int
    number: str
    status: str


class CheckStatus(Struct, kw_only=True):
    """One check of a device and its newest state (pending: no result yet)."""

    check: HealthCheckOut
    state: ShownState
    value: float | None
    message: str
    at: dt.datetime | None
    changed_at: dt.datetime | None
    incident: IncidentRef | None


class DeviceHealth(Struct, kw_only=True):
    """The checks that apply to a device, worst first."""

    items: list[CheckStatus]
