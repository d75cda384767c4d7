"""Request and response types of the toolbox API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.tickets.schemas import UserRef
from server.users.schemas import Strict

Kind = Literal["terminal", "processes", "services", "files"]
State = Literal["requested", "active", "ended"]


class ToolCreate(Strict):
    """Open a tool on a device linked to the ticket (the only online one if omitted).

    ``as_root``: a terminal as root, or the process and services tools acting as root,
    only where the device group's toolbox policy allows it (``terminal_root`` and
    ``system_root``). ``cols`` and ``rows`` are the terminal's.
    """

    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    kind: Kind = "terminal"
    device_id: Annotated[int, Meta(ge=1)] | None = None
    as_root: bool = False
    cols: Annotated[int, Meta(ge=1, le=1000)] = 80
    rows: Annotated[int, Meta(ge=1, le=500)] = 24


class TranscriptInfo(Struct, kw_only=True):
    """A terminal's transcript: its state and size, and where to fetch it."""

    state: Literal["recording", "ready", "failed"]
    bytes: int
    url: str | None  # GET it (asciicast v2) once ready


class ToolSession(Struct, kw_only=True):
    """A tool session as the API shows it."""

    id: int
    kind: Kind
    ticket_id: int
    ticket_number: str
    device_id: int
    device_name: str
    technician: UserRef | None
    reason: str
    as_root: bool
    account: str | None  # the OS account it runs as, once started
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
    websocket_path: str
    transcript: TranscriptInfo | None = None  # None: no transcript is kept


class ToolSessionList(Struct, kw_only=True):
    """Tool sessions of a ticket, newest first."""

    items: list[ToolSession]


ConsentMode = Literal["inherit", "ask", "notify", "unattended"]
ToolName = Literal["terminal", "processes", "services"]


class ToolboxPolicy(Struct, kw_only=True):
    """A device group's toolbox policy.

    ``consent``: ``inherit`` follows the group's remote-access policy (ask the user, or
    unattended where it allows that); ``ask``, ``notify`` (the user is told, not asked)
    and ``unattended`` set it for the toolbox alone.
    """

    group_id: int
    terminal_root: bool  # technicians may open a terminal as root
    record_terminal: bool  # a transcript of every terminal is kept
    allowed_tools: list[str] = []  # the tools technicians may open on the group's devices
    consent: ConsentMode = "inherit"
    system_root: bool = False  # the process and services tools may act as root


class ToolboxPolicyUpdate(Strict):
    """Change a device group's toolbox policy; a field left out keeps its value."""

    terminal_root: bool | UnsetType = UNSET
    record_terminal: bool | UnsetType = UNSET
    allowed_tools: Annotated[list[ToolName], Meta(max_length=16)] | UnsetType = UNSET
    consent: ConsentMode | UnsetType = UNSET
    system_root: bool | UnsetType = UNSET
