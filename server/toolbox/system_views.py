"""HTTP handlers of the process and services tools: the current list, and actions.

Rights are the terminal's (server/toolbox/views.py): whoever may see the tool session
reads its list; only the technician who opened it acts, and each action is on the
ticket's timeline (server/toolbox/system.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from server.api.routing import STAFF, ApiRequest, Router
from server.errors import Conflict, Forbidden, ServiceUnavailable, ValidationFailed
from server.i18n.messages import N_
from server.keys import DATABASE, TOOLS
from server.remote import store as remote_store
from server.toolbox import system
from server.toolbox.views import SID, _session_for
from server.users.schemas import Strict
from shared import toolbox_system as ts

router = Router("toolbox_system")


class ProcessItem(Struct, kw_only=True):
    """One process: CPU in per cent of one core, memory in resident bytes."""

    pid: int
    name: str
    command: str
    user: str
    cpu: float
    memory: int


class UnitItem(Struct, kw_only=True):
    """One systemd service unit and its states."""

    name: str
    description: str
    load: str
    active: str
    sub: str


class ToolSnapshotOut(Struct, kw_only=True):
    """The latest list the device sent (processes or units); ``at`` is None before the first."""

    session_id: int
    kind: str
    state: str
    at: dt.datetime | None
    total: int
    scope: str  # the service manager: system or user (services only)
    processes: list[ProcessItem]
    units: list[UnitItem]


class ToolAction(Strict):
    """An action on the device: ``pid`` for terminate/kill, ``unit`` for a unit's action.

    ``lines`` for journal; ``delay_seconds`` and ``notice`` (shown to the user) for
    reboot and shutdown.
    """

    action: Literal["terminate", "kill", "start", "stop", "restart", "journal", "reboot",
                    "shutdown"]
    pid: Annotated[int, Meta(ge=1, le=2**31)] | None = None
    unit: Annotated[str, Meta(min_length=1, max_length=256,
                              pattern=ts.UNIT_PATTERN)] | None = None
    lines: Annotated[int, Meta(ge=1, le=ts.MAX_JOURNAL_LINES)] = 50
    delay_seconds: Annotated[int, Meta(ge=0, le=ts.MAX_DELAY)] = 60
    notice: Annotated[str, Meta(max_length=500)] = ""


class ToolActionResult(Struct, kw_only=True):
    """What the device did: ``ok`` false with ``code`` when it refused (also on the timeline)."""

    action: str
    ok: bool
    code: str
    message: str
    lines: list[str]


@router.route("GET", f"/api/v1/tool-sessions/{SID}/snapshot", roles=STAFF,
              summary="Get the process or unit list of a process or services tool",
              response=ToolSnapshotOut)
async def get_tool_snapshot(req: ApiRequest) -> ToolSnapshotOut:
    session_id = int(req.params["session_id"])
    row, live = await _session_for(req, session_id)
    if row.kind not in ts.KINDS:
        raise Conflict("a {kind} has no list", code="not_a_list_tool", kind=row.kind)
    snap, at = (live.snapshot if live is not None and live.snapshot is not None
                else (None, None))
    return ToolSnapshotOut(
        session_id=session_id, kind=row.kind, state=live.state if live else row.state,
        at=at, total=snap.total if snap else 0, scope=snap.scope if snap else "",
        processes=[ProcessItem(pid=x.pid, name=x.name, command=x.command, user=x.user,
                               cpu=x.cpu, memory=x.memory)
                   for x in (snap.processes if snap else [])],
        units=[UnitItem(name=u.name, description=u.description, load=u.load,
                        active=u.active, sub=u.sub) for u in (snap.units if snap else [])])


@router.route("POST", f"/api/v1/tool-sessions/{SID}/actions", roles=STAFF,
              summary="End or kill a process, act on a unit, read its journal, reboot or "
                      "shut down", body=ToolAction, response=ToolActionResult)
async def act_on_tool(req: ApiRequest) -> ToolActionResult:
    session_id = int(req.params["session_id"])
    body: ToolAction = req.body
    _row, live = await _session_for(req, session_id)
    if live is None or live.state == "ended":
        raise Conflict("the session is over", code="session_ended")
    if live.kind not in ts.KINDS:
        raise Conflict("a {kind} takes no actions", code="not_a_list_tool", kind=live.kind)
    if live.technician_id != req.user.user_id:
        raise Forbidden("only the technician who opened the tool acts with it; others "
                        "watch", code="not_controller")
    if live.state != "active":
        raise Conflict("the tool is not open yet", code="not_active")
    problem = ts.check_call(ts.ToolCall(tool=live.id, call=1, action=body.action,
                                        pid=body.pid, unit=body.unit), live.kind)
    if problem is not None:
        raise ValidationFailed("the {kind} tool does not take {action} this way (a process "
                               "action needs pid, a unit action needs unit)",
                               kind=live.kind, action=body.action)
    if body.action in ts.POWER_ACTIONS and not live.as_root:
        raise Forbidden("reboot and shutdown need the tool opened as root, which the "
                        "group's toolbox policy must allow", code="root_not_allowed")
    me = req.user
    who = await req.app[DATABASE].read(lambda c: remote_store.display_name(c, me.user_id))
    try:
        result = await system.call(req.app[TOOLS], live, action=body.action,
                                   actor_id=me.user_id, who=who, pid=body.pid, unit=body.unit,
                                   lines=body.lines, delay=body.delay_seconds,
                                   notice=body.notice)
    except system.CallFailed as exc:
        if live.state == "ended":
            raise Conflict("the tool ended before the device answered",
                           code="session_ended") from exc
        raise ServiceUnavailable(N_("the device did not answer in time"),
                                 code="no_answer") from exc
    return ToolActionResult(action=body.action, ok=result.ok, code=result.code,
                            message=result.message, lines=list(result.lines))
