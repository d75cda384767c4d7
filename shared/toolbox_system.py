"""The toolbox's system tools on the agent link: processes, services and power (sans-I/O).

A ``processes`` or ``services`` tool session is asked for, consented to and ended like a
terminal (:mod:`shared.toolbox`). While it is open the agent pushes a ``tool_snapshot``
(the process list every ~2 s, the unit list after each change); the server sends a
``tool_call`` for each action a technician takes and the agent answers it with one
``tool_result`` carrying the same ``call`` number (docs/protocol.md, section 3.3).
An agent serves exactly the kinds it lists as capabilities.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from shared.toolbox import ToolId, ToolMessage

PROCESSES_CAPABILITY = "processes"
SERVICES_CAPABILITY = "services"
KINDS: tuple[str, ...] = (PROCESSES_CAPABILITY, SERVICES_CAPABILITY)

MAX_PROCESSES = 2000  # entries of one process snapshot (the busiest first)
MAX_UNITS = 2000
MAX_COMMAND = 300  # characters of a command line kept
MAX_JOURNAL_LINES = 500
MAX_LINE = 1000  # characters of one journal line kept
MAX_DELAY = 3600  # seconds a reboot or shutdown may wait
SNAPSHOT_BYTES = 1024 * 1024  # a snapshot may exceed the 64 KiB control limit up to this
PROCESS_SECONDS = 2.0  # the process list is sent this often while the tool is open

CallId = Annotated[int, Meta(ge=1, le=2**53)]
Name = Annotated[str, Meta(max_length=256)]
# A unit's name: systemd's characters (escapes use "\"), never an option ("-x"); "$(?!\n)"
# as msgspec's re.search would let "$" match before a final newline.
UNIT_PATTERN = r"^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]*$(?!\n)"
UnitName = Annotated[str, Meta(min_length=1, max_length=256, pattern=UNIT_PATTERN)]
Text = Annotated[str, Meta(max_length=1000)]

# What a technician may do: signal a process, act on a unit, read a unit's journal,
# reboot or shut down the computer.
Action = Literal["terminate", "kill", "start", "stop", "restart", "journal", "reboot",
                 "shutdown"]
PROCESS_ACTIONS = frozenset({"terminate", "kill"})
UNIT_ACTIONS = frozenset({"start", "stop", "restart", "journal"})
POWER_ACTIONS = frozenset({"reboot", "shutdown"})
# Why an agent refuses a call (ok: false).
ResultCode = Literal["ok", "not_found", "not_permitted", "failed", "invalid", "unavailable"]


class ProcessInfo(Struct, kw_only=True):
    """One process as the list shows it."""

    pid: Annotated[int, Meta(ge=0, le=2**31)]
    name: Name
    command: Annotated[str, Meta(max_length=MAX_COMMAND)]  # its command line, cut
    user: Name  # the account it runs as ("" when the agent may not tell)
    cpu: Annotated[float, Meta(ge=0, le=100_000)]  # per cent of one core since the last list
    memory: Annotated[int, Meta(ge=0)]  # resident bytes


class UnitInfo(Struct, kw_only=True):
    """One systemd unit (a service) as ``systemctl list-units`` shows it."""

    name: UnitName
    description: Name
    load: Annotated[str, Meta(max_length=32)]  # loaded, not-found, masked...
    active: Annotated[str, Meta(max_length=32)]  # active, inactive, failed...
    sub: Annotated[str, Meta(max_length=32)]  # running, exited, dead...


class ToolSnapshot(ToolMessage, tag="tool_snapshot", omit_defaults=True):
    """The agent's current process or unit list (only the one its tool shows)."""

    tool: ToolId
    processes: Annotated[list[ProcessInfo], Meta(max_length=MAX_PROCESSES)] = []
    units: Annotated[list[UnitInfo], Meta(max_length=MAX_UNITS)] = []
    total: Annotated[int, Meta(ge=0)] = 0  # entries before the list was cut
    scope: Literal["", "system", "user"] = ""  # which service manager (services only)


class ToolCall(ToolMessage, tag="tool_call", omit_defaults=True):
    """A technician's action: ``pid`` for a process, ``unit`` for a unit's action.

    ``lines`` is for ``journal``; ``delay`` and ``notice`` (shown to the user) for
    ``reboot`` and ``shutdown``.
    """

    tool: ToolId
    call: CallId
    action: Action
    pid: Annotated[int, Meta(ge=1, le=2**31)] | None = None
    unit: UnitName | None = None
    lines: Annotated[int, Meta(ge=1, le=MAX_JOURNAL_LINES)] = 50
    delay: Annotated[int, Meta(ge=0, le=MAX_DELAY)] = 60
    notice: Text = ""


class ToolResult(ToolMessage, tag="tool_result", omit_defaults=True):
    """The agent's answer to one ``tool_call``: done, or refused and why."""

    tool: ToolId
    call: CallId
    ok: bool
    code: ResultCode = "ok"
    message: Text = ""  # what happened, for people
    lines: Annotated[list[Annotated[str, Meta(max_length=MAX_LINE)]],
                     Meta(max_length=MAX_JOURNAL_LINES)] = []  # a journal's lines


SERVER_SYSTEM_MESSAGES = (ToolCall,)
AGENT_SYSTEM_MESSAGES = (ToolSnapshot, ToolResult)


def check_call(call: ToolCall, kind: str) -> str | None:
    """Return why a call does not fit its tool (None when it does).

    Args:
        call: the call as decoded.
        kind: the kind of the tool session it is for.
    """
    if call.action in PROCESS_ACTIONS:
        if kind != PROCESSES_CAPABILITY:
            return f"{call.action!r} is an action of the process tool"
        if call.pid is None:
            return f"{call.action!r} needs a pid"
    elif call.action in UNIT_ACTIONS:
        if kind != SERVICES_CAPABILITY:
            return f"{call.action!r} is an action of the services tool"
        if call.unit is None:
            return f"{call.action!r} needs a unit"
    elif kind != SERVICES_CAPABILITY:
        return f"{call.action!r} is an action of the services tool"
    return None
