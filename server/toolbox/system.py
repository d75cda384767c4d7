"""The process and services tools on the server: the agent's lists, and actions with audit.

The agent pushes its list (``tool_snapshot``) while the tool is open; the server keeps
the latest for the API. Each action a technician takes becomes one ``tool_call`` with a
fresh call number; the agent's ``tool_result`` resolves it. Every action — done or
refused — is a public event on the ticket's timeline: who, what, which process or unit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from server.db.schema import utcnow
from server.toolbox import store
from shared import protocol as p
from shared import toolbox_system as ts

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.toolbox.manager import ToolSessions
    from server.toolbox.relay import LiveTool

log = logging.getLogger("deskmate.toolbox")

CALL_TIMEOUT = 75.0  # seconds for the agent's result (its systemctl may take 60)
VERBS = {"terminate": "ended", "kill": "killed", "start": "started", "stop": "stopped",
         "restart": "restarted", "journal": "read the journal of", "reboot": "restart",
         "shutdown": "shut down"}


class CallFailed(Exception):
    """The agent did not answer a call (gone, ended, or too slow)."""


def from_agent(tools: ToolSessions, link: AgentLink,
               msg: ts.ToolSnapshot | ts.ToolResult) -> None:
    """Take a snapshot or a result from the agent.

    Raises:
        ProtocolError: for a session that is not this agent's, not active, or not a
            system tool; or a result nobody waits for.
    """
    live = tools.by_id.get(msg.tool)
    if live is None and isinstance(msg, ts.ToolSnapshot):
        return  # a list sent as the tool ended: nobody needs it
    if live is None or live.link is not link:
        raise p.ProtocolError(p.NO_SESSION, f"no tool session {msg.tool}")
    if live.kind not in ts.KINDS or live.state != "active":
        raise p.ProtocolError(p.UNEXPECTED, f"tool session {msg.tool} is not an open "
                              "process or services tool")
    if isinstance(msg, ts.ToolSnapshot):
        live.snapshot = (msg, utcnow())
        return
    waiting = live.calls.pop(msg.call, None)
    if waiting is None:
        raise p.ProtocolError(p.UNEXPECTED, f"no call {msg.call} waits for a result")
    if not waiting.done():
        waiting.set_result(msg)


def describe(live: LiveTool, action: str, *, pid: int | None, unit: str | None) -> str:
    """Return what the action is about, as the timeline says it: a process with its name."""
    if pid is not None:
        known = live.snapshot[0].processes if live.snapshot is not None else []
        for proc in known:
            if proc.pid == pid:
                return f"process {pid} ({proc.name}, {proc.user or 'unknown user'})"
        return f"process {pid}"
    if unit is not None:
        return f"unit {unit}"
    return "the computer"


async def call(tools: ToolSessions, live: LiveTool, *, action: str, actor_id: int,
               who: str, pid: int | None = None, unit: str | None = None, lines: int = 50,
               delay: int = 60, notice: str = "") -> ts.ToolResult:
    """Ask the agent to act, wait for its result, and put it on the ticket's timeline.

    Raises:
        CallFailed: the agent did not answer in time, or the tool ended first.
    """
    live.actions += 1
    number = live.actions
    future: asyncio.Future[ts.ToolResult] = asyncio.get_running_loop().create_future()
    live.calls[number] = future
    target = describe(live, action, pid=pid, unit=unit)
    live.link.send(p.encode(ts.ToolCall(
        tool=live.id, call=number, action=action, pid=pid, unit=unit,  # type: ignore[arg-type]
        lines=lines, delay=delay, notice=notice)))
    try:
        result = await asyncio.wait_for(future, CALL_TIMEOUT)
    except (TimeoutError, asyncio.CancelledError) as exc:
        live.calls.pop(number, None)
        if isinstance(exc, asyncio.CancelledError) and live.state != "ended":
            raise
        await _record(tools, live, actor_id=actor_id, action=action, target=target,
                      ok=False, code="no_answer", text="the device did not answer",
                      pid=pid, unit=unit, who=who, now=utcnow())
        raise CallFailed("the device did not answer" if live.state != "ended"
                         else "the tool ended before the device answered") from exc
    if action != "journal":  # reading a journal changes nothing; it is audited below
        await _record(tools, live, actor_id=actor_id, action=action, target=target,
                      ok=result.ok, code=result.code, text=result.message, pid=pid,
                      unit=unit, who=who, now=utcnow())
    else:
        await _record(tools, live, actor_id=actor_id, action=action, target=target,
                      ok=result.ok, code=result.code,
                      text=f"{len(result.lines)} lines" if result.ok else result.message,
                      pid=pid, unit=unit, who=who, now=utcnow())
    return result


async def _record(tools: ToolSessions, live: LiveTool, *, actor_id: int, action: str,
                  target: str, ok: bool, code: str, text: str, pid: int | None,
                  unit: str | None, who: str, now: dt.datetime) -> None:
    verb = VERBS.get(action, action)
    if action in ts.POWER_ACTIONS:
        head = f"{who} asked to {verb} {live.device_name}"
    else:
        head = f"{who} {verb} {target}" if ok else f"{who} tried to {action} {target}"
    body = f"{head}: {text}" if text else head
    if not ok:
        body += f" (refused: {code})"
    changes: dict[str, Any] = {"action": action, "ok": ok, "code": code}
    if pid is not None:
        changes["pid"] = pid
    if unit is not None:
        changes["unit"] = unit
    await tools.db.write(lambda c: store.record_step(
        c, live.id, actor_id=actor_id, step="action", body=body[:2000], now=now, **changes))
    await tools.publish(live.ticket_id)
