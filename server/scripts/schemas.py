"""Request and response types of the script library and script runs (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.scripts.params import Parameter, Value
from server.tickets.schemas import UserRef
from server.users.schemas import Strict
from shared import scripts as sc

Language = Literal["bash", "python"]
RunState = Literal["requested", "running", "ended"]


class ScriptWrite(Strict):
    """A script's name and its text: creating a script, or a new version of one."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    language: Language
    body: Annotated[str, Meta(min_length=1, max_length=sc.MAX_BODY_BYTES)]
    description: Annotated[str, Meta(max_length=2000)] = ""
    parameters: Annotated[list[Parameter], Meta(max_length=sc.MAX_PARAMS)] = []
    timeout_seconds: Annotated[int, Meta(ge=1, le=sc.MAX_TIMEOUT)] = 300


class ScriptVersion(Struct, kw_only=True):
    """One version of a script; it runs only once approved."""

    version: int
    description: str
    language: Language
    body: str
    parameters: list[Parameter]
    timeout_seconds: int
    author: UserRef | None
    created_at: dt.datetime
    approved: bool
    approved_by: UserRef | None
    approved_at: dt.datetime | None


class ScriptSummary(Struct, kw_only=True):
    """A script in the library list."""

    id: int
    name: str
    description: str  # of the newest version
    language: Language
    latest_version: int
    approved_version: int | None  # the newest approved version: what runs by default
    pending_review: bool  # the newest version awaits approval
    updated_at: dt.datetime


class Script(ScriptSummary, kw_only=True):
    """A script with all its versions, newest first."""

    versions: list[ScriptVersion]


class ScriptList(Struct, kw_only=True):
    """The script library, by name."""

    items: list[ScriptSummary]


class RunCreate(Strict):
    """Run a script on devices linked to the ticket: one run per device.

    ``version``: the newest approved one if left out; an unapproved version is refused.
    """

    script_id: Annotated[int, Meta(ge=1)]
    device_ids: Annotated[list[Annotated[int, Meta(ge=1)]], Meta(min_length=1, max_length=50)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    version: Annotated[int, Meta(ge=1)] | None = None
    parameters: Annotated[dict[str, Value], Meta(max_length=sc.MAX_PARAMS)] = {}
    as_root: bool = False


class AttachmentRef(Struct, kw_only=True):
    """The run's output as a ticket attachment."""

    id: int
    filename: str
    size: int
    url: str


class ScriptRun(Struct, kw_only=True):
    """A run of one script version on one device (output so far while it runs)."""

    id: int
    batch: str
    script_id: int
    script_name: str
    version: int
    ticket_id: int
    device_id: int
    device_name: str
    technician: UserRef | None
    parameters: dict[str, str]
    reason: str
    as_root: bool
    account: str | None
    state: RunState
    outcome: str | None
    end_reason: str
    exit_code: int | None
    truncated: bool
    stdout: str
    stderr: str
    attachment: AttachmentRef | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


class RunList(Struct, kw_only=True):
    """Script runs, newest first."""

    items: list[ScriptRun]


class ScriptPolicy(Struct, kw_only=True):
    """A device group's script policy."""

    group_id: int
    run_as_root: bool  # staff may run scripts as root on the group's devices


class ScriptPolicyUpdate(Strict):
    """Change a device group's script policy."""

    run_as_root: bool | UnsetType = UNSET
