"""Glue between :class:`~endpoint_agent.toolbox.support.ToolSupport` and the system tools.

The process and services tools act for an account, like a terminal: the user logged in
at the computer (or the agent's own account when it does not run as root), or — when the
request says the group's policy allows root and the agent runs as root — without limit.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from endpoint_agent.toolbox.processes import ProcessTool
from endpoint_agent.toolbox.services import Notify, ServiceTool, wall
from shared import toolbox as tb
from shared import toolbox_system as ts

if TYPE_CHECKING:
    from endpoint_agent.toolbox.support import ToolSession, ToolSupport
    from endpoint_agent.toolbox.terminal import Account

ROOT = "root"


def system_account(support: ToolSupport, *, root: bool) -> str:
    """Return whom a system tool acts for: ``root`` (no limit), a login, or "" (nobody)."""
    import pwd

    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    if root:
        return ROOT
    return support.login or support.find_login() or ""


async def start_system(support: ToolSupport, s: ToolSession, msg: tb.ToolRequest,
                       user: Account | str, answer: str) -> None:
    """Open a process or services tool: answer the server, then push its list."""
    name = user if isinstance(user, str) else user.name
    unrestricted = name == ROOT and os.geteuid() == 0

    async def send(message: ts.ToolSnapshot | ts.ToolResult) -> None:
        if not s.ended:
            await support._out(message)

    if msg.kind == ts.PROCESSES_CAPABILITY:
        s.system = ProcessTool(s.id, send=send, owner=name or None, unrestricted=unrestricted)
    else:
        assert support.services is not None  # the kind is among the capabilities
        s.system = ServiceTool(s.id, send=send, config=support.services,
                               unrestricted=unrestricted, notify=_notifier(support),
                               power_tasks=support.power_tasks)
    await support._out(tb.ToolAnswer(tool=s.id, allowed=True, account=name[:64],
                                     reason="allowed" if answer == "allow" else "unattended"))
    s.tasks.append(support._spawn(s.system.run(), f"tool-{s.id}-list"))
    if support.remote is not None:
        s.tasks.append(support._spawn(support._indicator(s), f"tool-{s.id}-indicator"))


def _notifier(support: ToolSupport) -> Notify:
    async def notify(text: str, action: str, delay: int, note: str) -> None:
        await wall(text)
        if support.remote is not None:  # a desktop: the notice window, in the user's language
            desktop = support._desktop()
            proc = await asyncio.create_subprocess_exec(
                *desktop._ui_command("notice", technician="-", ticket="-", kind=action,
                                     timeout=str(max(5, delay)), reason=note[:500]),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, env=desktop._ui_environ())
            support.notices.add(proc)

    return notify


async def answer_call(s: ToolSession, msg: ts.ToolCall,
                      out: Callable[[Any], Awaitable[None]]) -> None:
    """Carry out one call on an open system tool; always answer it."""
    problem = ts.check_call(msg, s.kind)
    if s.system is None or problem is not None:
        await out(ts.ToolResult(tool=s.id, call=msg.call, ok=False, code="invalid",
                                message=(problem or f"the {s.kind} tool takes no calls")[:1000]))
        return
    try:
        result = await s.system.call(msg)
    except Exception as exc:  # an unexpected failure is answered, and the agent goes on
        import logging

        logging.getLogger("deskmate.agent.toolbox").exception("tool %d: call failed", s.id)
        result = ts.ToolResult(tool=s.id, call=msg.call, ok=False, code="failed",
                               message=f"the agent could not do it: {type(exc).__name__}")
    await out(result)
