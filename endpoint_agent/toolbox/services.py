"""The services tool: systemd units (list, start, stop, restart, journal) and power.

It drives ``systemctl`` and ``journalctl`` (the commands every admin knows, and the same
D-Bus calls underneath). The scope is the system manager when the agent runs as root,
else the user's own manager (``--user``); ``deskmate-agent run --systemd-scope`` and
``--journal-directory`` choose otherwise. Starting, stopping and restarting system units
needs the group's policy to allow acting as root, as do reboot and shutdown; the units of
a user manager are the user's own. Arguments are passed as a list after ``--``, never
through a shell; unit names are checked by the protocol's pattern.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from shared import toolbox_system as ts

log = logging.getLogger("deskmate.agent.toolbox")

SendMessage = Callable[[ts.ToolSnapshot | ts.ToolResult], Awaitable[None]]
# Shows the notice of a coming reboot or shutdown: (text, action, delay, the note).
Notify = Callable[[str, str, int, str], Awaitable[None]]
REFRESH_SECONDS = 5.0  # the unit list is sent this often while the tool is open
COMMAND_TIMEOUT = 60.0  # seconds a systemctl call may take (a slow stop)


@dataclass
class ServiceConfig:
    """How the agent reaches systemd, and what it runs to reboot or shut down."""

    scope: str = "system"  # system | user
    journal_directory: str | None = None  # read the journal files there instead
    environ: dict[str, str] | None = None  # for the commands (a user manager's runtime dir)
    power_command: Sequence[str] | None = None  # run with "reboot" or "shutdown" appended
    notices: list[str] = field(default_factory=list)  # notices shown, for status and tests

    @classmethod
    def default(cls) -> ServiceConfig:
        """Return the system manager for a root agent, else the user's."""
        return cls(scope="system" if os.geteuid() == 0 else "user")

    def systemctl(self, *args: str) -> list[str]:
        """Return a systemctl command line in this scope."""
        return ["systemctl", *(["--user"] if self.scope == "user" else []), "--no-pager",
                *args]

    def journalctl(self, *args: str) -> list[str]:
        """Return a journalctl command line for this scope's journal."""
        where = (["--directory", self.journal_directory] if self.journal_directory
                 else ["--user"] if self.scope == "user" else [])
        return ["journalctl", *where, "--no-pager", *args]


async def _run(argv: list[str], env: dict[str, str] | None) -> tuple[int, str]:
    """Run a command; return its status and output (stdout and stderr, cut)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=None if env is None else {**os.environ, **env})
    except OSError as exc:
        return 127, f"{argv[0]} could not run: {exc.strerror or exc}"
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"{argv[0]} took longer than {COMMAND_TIMEOUT:.0f} s"
    return proc.returncode or 0, out.decode(errors="replace")[-200_000:]


def parse_units(listed: str, files: str) -> list[ts.UnitInfo]:
    """Return the units of ``list-units --plain`` and ``list-unit-files``, by name."""
    units: dict[str, ts.UnitInfo] = {}
    for line in listed.splitlines():
        parts = line.split(None, 4)
        if len(parts) < 4 or not parts[0].endswith(".service"):
            continue
        name = parts[0]
        units[name] = ts.UnitInfo(name=name[:256], load=parts[1][:32], active=parts[2][:32],
                                  sub=parts[3][:32],
                                  description=(parts[4] if len(parts) > 4 else "")[:256])
    for line in files.splitlines():  # installed but not loaded: inactive
        parts = line.split()
        if parts and parts[0].endswith(".service") and parts[0] not in units \
                and "@." not in parts[0]:
            units[parts[0]] = ts.UnitInfo(name=parts[0][:256], load="not-loaded",
                                          active="inactive", sub="dead", description="")
    return sorted(units.values(), key=lambda u: u.name)[:ts.MAX_UNITS]


def _refusal(status: int, output: str) -> str:
    text = output.lower()
    if status == 5 or "not found" in text or "not loaded" in text:
        return "not_found"
    if "access denied" in text or "authentication required" in text or "permission" in text:
        return "not_permitted"
    return "unavailable" if status == 127 else "failed"


class ServiceTool:
    """One open services tool: pushes the unit list, answers unit and power calls."""

    def __init__(self, tool: int, *, send: SendMessage, config: ServiceConfig,
                 unrestricted: bool, notify: Notify | None = None,
                 power_tasks: set[asyncio.Task[None]] | None = None) -> None:
        self.tool = tool
        self.send = send
        self.config = config
        self.unrestricted = unrestricted  # root allowed by the policy and the agent is root
        self.notify = notify
        self.power_tasks = power_tasks if power_tasks is not None else set()

    async def units(self) -> ts.ToolSnapshot:
        """Return the services the manager knows."""
        env = self.config.environ
        status, listed = await _run(self.config.systemctl(
            "list-units", "--type=service", "--all", "--plain", "--no-legend"), env)
        if status != 0:
            log.warning("systemctl list-units failed (%d): %s", status, listed[-300:])
            listed = ""
        _status, files = await _run(self.config.systemctl(
            "list-unit-files", "--type=service", "--plain", "--no-legend"), env)
        items = parse_units(listed, files)
        return ts.ToolSnapshot(tool=self.tool, units=items, total=len(items),
                               scope="user" if self.config.scope == "user" else "system")

    async def run(self) -> None:
        """Send the unit list until cancelled."""
        while True:
            await self.send(await self.units())
            await asyncio.sleep(REFRESH_SECONDS)

    async def call(self, msg: ts.ToolCall) -> ts.ToolResult:
        """Carry out a unit or power call."""
        def result(code: str, text: str, lines: list[str] | None = None) -> ts.ToolResult:
            log.info("tool %d: %s %s: %s", self.tool, msg.action, msg.unit or "", text)
            return ts.ToolResult(tool=self.tool, call=msg.call, ok=code == "ok", code=code,  # type: ignore[arg-type]
                                 message=text[:1000], lines=lines or [])

        if msg.action in ts.POWER_ACTIONS:
            return result(*await self._power(msg))
        assert msg.unit is not None  # checked by ts.check_call
        env = self.config.environ
        if msg.action == "journal":
            status, out = await _run(self.config.journalctl(
                "--unit", msg.unit, "--lines", str(msg.lines), "--output", "short-iso"), env)
            if status != 0:
                return result(_refusal(status, out), out.strip()[-500:] or
                              f"journalctl exited with status {status}")
            lines = [line[:ts.MAX_LINE] for line in out.splitlines()][-msg.lines:]
            return result("ok", f"{len(lines)} lines of {msg.unit}'s journal", lines)
        if self.config.scope == "system" and not self.unrestricted:
            return result("not_permitted", f"{msg.action} of the system unit {msg.unit} needs "
                          "the group's policy to allow acting as root (and an agent running "
                          "as root)")
        status, out = await _run(self.config.systemctl(msg.action, "--", msg.unit), env)
        if status != 0:
            return result(_refusal(status, out), out.strip()[-500:] or
                          f"systemctl {msg.action} exited with status {status}")
        _s, state = await _run(self.config.systemctl(
            "show", "--property=ActiveState,SubState", "--", msg.unit), env)
        values = dict(line.split("=", 1) for line in state.splitlines() if "=" in line)
        await self.send(await self.units())
        return result("ok", f"{msg.action} of {msg.unit} done; it is now "
                      f"{values.get('ActiveState', '?')} ({values.get('SubState', '?')})")

    async def _power(self, msg: ts.ToolCall) -> tuple[str, str]:
        if not self.unrestricted:
            return "not_permitted", (f"{msg.action} needs the group's policy to allow acting "
                                     "as root (and an agent running as root)")
        command = list(self.config.power_command or ["systemctl",
                                                      "reboot" if msg.action == "reboot"
                                                      else "poweroff"])
        if self.config.power_command:
            command.append(msg.action)
        if await asyncio.to_thread(shutil.which, command[0]) is None:
            return "unavailable", f"{command[0]} is not on this computer"
        minutes = max(1, round(msg.delay / 60)) if msg.delay >= 60 else 0
        what = "restart" if msg.action == "reboot" else "shut down"
        notice = (f"This computer will {what} in "
                  + (f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes
                     else f"{msg.delay} seconds")
                  + ". Save your work." + (f" {msg.notice}" if msg.notice else ""))
        self.config.notices.append(notice)
        del self.config.notices[:-20]
        if self.notify is not None:
            try:
                await self.notify(notice, msg.action, msg.delay, msg.notice)
            except Exception:  # a notice that cannot show does not stop the action
                log.exception("could not show the power notice")
        task = asyncio.get_running_loop().create_task(self._power_later(command, msg.delay))
        self.power_tasks.add(task)
        task.add_done_callback(self.power_tasks.discard)
        return "ok", f"{msg.action} in {msg.delay} s; the user was told: {notice}"

    async def _power_later(self, command: list[str], delay: float) -> None:
        await asyncio.sleep(delay)
        status, out = await _run(command, self.config.environ)
        log.warning("power command %s exited %d: %s", command, status, out[-300:])


async def wall(text: str) -> None:
    """Write a notice on every terminal of the computer (util-linux ``wall``)."""
    if await asyncio.to_thread(shutil.which, "wall") is None:
        return
    proc = await asyncio.create_subprocess_exec(
        "wall", "--nobanner", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await asyncio.wait_for(proc.communicate(text.encode()), 10)
