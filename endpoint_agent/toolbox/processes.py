"""The process tool: a live process list, and ending or killing a process.

While the tool is open the agent sends the list every :data:`PROCESS_SECONDS` (psutil,
on a thread: it reads /proc). A process may be signalled only when it runs as the
account the tool acts for (the user logged in at the computer), unless the device
group's policy allows acting as root and the agent runs as root; the agent itself and
PID 1 are never signalled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

from shared import toolbox_system as ts

log = logging.getLogger("deskmate.agent.toolbox")

SendMessage = Callable[[ts.ToolSnapshot | ts.ToolResult], Awaitable[None]]
SIGNALS = {"terminate": signal.SIGTERM, "kill": signal.SIGKILL}


def snapshot(tool: int) -> ts.ToolSnapshot:
    """Return the process list now, the busiest first, cut at the protocol's limit."""
    import psutil

    items: list[ts.ProcessInfo] = []
    for proc in psutil.process_iter(["pid", "name", "username", "cmdline", "memory_info",
                                     "cpu_percent"]):
        info = proc.info
        command = " ".join(info.get("cmdline") or []) or f"[{info.get('name') or ''}]"
        memory = info.get("memory_info")
        items.append(ts.ProcessInfo(
            pid=int(info["pid"]), name=str(info.get("name") or "")[:256],
            command=command[:ts.MAX_COMMAND], user=str(info.get("username") or "")[:256],
            cpu=min(float(info.get("cpu_percent") or 0.0), 100_000.0),
            memory=int(memory.rss) if memory is not None else 0))
    items.sort(key=lambda p: (-p.cpu, -p.memory, p.pid))
    return ts.ToolSnapshot(tool=tool, processes=items[:ts.MAX_PROCESSES], total=len(items))


def send_signal(pid: int, action: str, *, owner: str | None,
                unrestricted: bool) -> tuple[str, str]:
    """Signal a process; return (result code, what happened) for the technician."""
    import psutil

    if pid in (1, os.getpid(), os.getppid()):
        return "not_permitted", f"process {pid} is the system's init or the agent itself"
    try:
        proc = psutil.Process(pid)
        name, user = proc.name(), proc.username()
    except psutil.NoSuchProcess:
        return "not_found", f"no process {pid} (it may have ended already)"
    except psutil.AccessDenied:
        return "not_permitted", f"the agent may not inspect process {pid}"
    label = f"{pid} ({name}, {user})"
    if not unrestricted:
        if owner is None:
            return "not_permitted", ("nobody is logged in, and the group's policy does not "
                                     "allow acting as root")
        if user != owner:
            return "not_permitted", (f"process {label} does not run as {owner}; the group's "
                                     "policy does not allow acting as root")
    sig = SIGNALS[action]
    try:
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        return "not_found", f"process {pid} ended before the signal"
    except psutil.AccessDenied:
        return "not_permitted", f"the system did not let the agent signal process {label}"
    return "ok", f"sent {sig.name} to process {label}"


class ProcessTool:
    """One open process tool: pushes the list, answers end and kill."""

    def __init__(self, tool: int, *, send: SendMessage, owner: str | None,
                 unrestricted: bool, interval: float = ts.PROCESS_SECONDS) -> None:
        self.tool = tool
        self.send = send
        self.owner = owner  # whose processes may be signalled
        self.unrestricted = unrestricted  # any process (root allowed, agent is root)
        self.interval = interval

    async def run(self) -> None:
        """Send the process list until cancelled."""
        while True:
            await self.send(await asyncio.to_thread(snapshot, self.tool))
            await asyncio.sleep(self.interval)

    async def call(self, msg: ts.ToolCall) -> ts.ToolResult:
        """Carry out a terminate or kill call."""
        assert msg.pid is not None  # checked by ts.check_call
        code, text = await asyncio.to_thread(send_signal, msg.pid, msg.action,
                                             owner=self.owner, unrestricted=self.unrestricted)
        log.info("tool %d: %s %d: %s", self.tool, msg.action, msg.pid, text)
        if code == "ok":  # the list shows it gone without waiting for the next tick
            await self.send(await asyncio.to_thread(snapshot, self.tool))
        return ts.ToolResult(tool=self.tool, call=msg.call, ok=code == "ok", code=code,  # type: ignore[arg-type]
                             message=text[:1000])
