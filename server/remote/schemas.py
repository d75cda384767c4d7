"""Request and response types of the remote-session API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from server.tickets.schemas import UserRef
from server.users.schemas import Strict

Mode = Literal["view", "control"]
State = Literal["requested", "active", "ended"]


class SessionCreate(Strict):
    """Start a session on a device linked to the ticket (the only online one if omitted)."""

    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    mode: Mode = "view"
    device_id: Annotated[int, Meta(ge=1)] | None = None


class ModeChange(Strict):
    """Switch between watching and controlling."""

    mode: Mode


class RemoteSession(Struct, kw_only=True):
    """A remote session as the API shows it."""

    id: int
    ticket_id: int
    ticket_number: str
    device_id: int
    device_name: str
    technician: UserRef | None
    mode: Mode
    pending_mode: Mode | None  # a change waiting for the user's answer
    reason: str
    state: State
    outcome: str | None
    consent: str | None
    ended_by: str | None
    end_reason: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    summary: dict[str, Any]
    viewers: int
    monitors: list[dict[str, int]]
    websocket_path: str


class RemoteSessionList(Struct, kw_only=True):
    """Sessions of a ticket, newest first."""

    items: list[RemoteSession]


class RemotePolicy(Struct, kw_only=True):
    """A device group's remote-access policy."""

    group_id: int
    unattended: bool


class RemotePolicyUpdate(Strict):
    """Allow unattended access to the group's devices (false: ask the user; the default)."""

    unattended: bool
