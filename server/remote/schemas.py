"""Request and response types of the remote-session API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

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


RecordingState = Literal["pending", "recording", "ready", "failed", "deleted"]


class RecordingInfo(Struct, kw_only=True):
    """A session's recording: its state, size and length, and where to fetch it."""

    state: RecordingState  # pending: the session is to be recorded once it starts
    bytes: int
    duration_seconds: float
    frames: int
    dropped_frames: int  # frames the disk could not take in time (left out, see gaps)
    gaps: int  # places where frames were left out; playback resumes at a key frame
    complete: bool  # the file ends with its end record (not cut short by a stop)
    error: str | None
    deleted_at: dt.datetime | None
    delete_reason: str | None  # retention | admin
    url: str | None  # GET it to play (state ready)


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
    recording: RecordingInfo | None = None  # None: the session is not recorded


class RemoteSessionList(Struct, kw_only=True):
    """Sessions of a ticket, newest first."""

    items: list[RemoteSession]


class RemotePolicy(Struct, kw_only=True):
    """A device group's remote-access policy."""

    group_id: int
    unattended: bool
    record: bool = False


class RemotePolicyUpdate(Strict):
    """Change a device group's policy; a field left out keeps its value.

    ``unattended``: allow access without asking the user (false: ask; the default).
    ``record``: record the frame stream of the group's sessions (false: the default).
    """

    unattended: bool | UnsetType = UNSET
    record: bool | UnsetType = UNSET
