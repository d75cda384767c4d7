"""The agent's tool sessions: consent, the account a tool runs as, and the terminal.

The server's ``tool_*`` messages arrive through :meth:`ToolSupport.on_message` (never
blocking the reader); answers and output leave through the connection's send function.
Consent uses the screen-session dialog (naming the tool) when the agent has a desktop;
without one nobody can be asked, so only a request that needs no consent (the group
allows unattended access) is served, and any other is refused as ``unavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from endpoint_agent.toolbox.files import Jail
from endpoint_agent.toolbox.filework import FileWork
from endpoint_agent.toolbox.scripts import ScriptRunner
from endpoint_agent.toolbox.terminal import Account, AccountError, Terminal, account
from shared import protocol as p
from shared import scripts as sc
from shared import toolbox as tb
from shared import toolbox_system as ts
from shared import toolfiles as tf

if TYPE_CHECKING:
    from endpoint_agent.toolbox.services import ServiceConfig

if TYPE_CHECKING:
    from endpoint_agent.remote.controller import RemoteSupport
    from endpoint_agent.remote.lazy import LazyRemote

log = logging.getLogger("deskmate.agent.toolbox")

MAX_TOOLS = 4  # tool sessions at once on one device
Send = Callable[[str | bytes], Awaitable[None]]


class Refused(Exception):
    """A tool cannot start; ``reason`` is a tool_answer reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(eq=False)
class ToolSession:
    """The agent's state of one tool session."""

    id: int
    kind: str
    technician: str
    ticket: str
    recorded: bool = False
    terminal: Terminal | None = None
    system: Any = None  # a ProcessTool or ServiceTool (endpoint_agent.toolbox.system)
    files: FileWork | None = None
    indicator: asyncio.subprocess.Process | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    ended: bool = False
    ignored_inputs: int = 0


def logged_in_login() -> str | None:
    """Return the login of the user at this computer (a desktop or console session)."""
    import psutil

    users = psutil.users()
    for entry in users:  # a graphical session first
        if (entry.host or "").startswith(":") or (entry.terminal or "").startswith(":"):
            return str(entry.name)
    return str(users[0].name) if users else None


class ToolSupport:
    """Serves tool sessions (terminals) on this computer."""

    def __init__(self, remote: RemoteSupport | LazyRemote | None = None, *,
                 login: str | None = None,
                 find_login: Callable[[], str | None] = logged_in_login,
                 terminal: bool = True, processes: bool = True,
                 services: ServiceConfig | None = None, files: bool = True,
                 files_root: str | None = None, scripts: bool = True) -> None:
        self.terminal = terminal
        self.processes = processes
        self.services = services  # None: no services tool
        self.files = files
        self.power_tasks: set[asyncio.Task[None]] = set()  # reboots and shutdowns to come
        self.notices: set[asyncio.subprocess.Process] = set()  # notice windows shown
        self.remote = remote  # the desktop's consent dialog and indicator; None: headless
        self.login = login  # the account of non-root terminals; None: the user at the computer
        self.find_login = find_login
        self.files_root = files_root  # the folder of non-root files sessions; None: the home
        self.sessions: dict[int, ToolSession] = {}
        self.history: list[ToolSession] = []  # ended sessions, for tests and status
        self._send: Send | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.scripts = ScriptRunner(self) if scripts else None  # script runs (scripts.py)

    @property
    def capabilities(self) -> list[str]:
        """Return the tool kinds this agent serves."""
        return ([tb.TERMINAL_CAPABILITY] if self.terminal else []) \
            + ([tf.FILES_CAPABILITY] if self.files else []) \
            + ([ts.PROCESSES_CAPABILITY] if self.processes else []) \
            + ([ts.SERVICES_CAPABILITY] if self.services is not None else []) \
            + ([sc.SCRIPTS_CAPABILITY] if self.scripts is not None else []) \
            + ["tool_notify"]  # understands tool_request.notify

    def bind(self, send: Send) -> None:
        """Use ``send`` for answers and output (one connection at a time)."""
        self._send = send
        if self.scripts is not None:
            self.scripts.bind(send)

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    async def _out(self, message: tb.ToolMessage) -> None:
        if self._send is None:
            return
        with contextlib.suppress(Exception):  # the connection loop notices a dead socket
            await self._send(p.encode(message))

    def on_message(self, message: Any) -> None:
        """Act on one tool message from the server (called by the reader, never blocks)."""
        if isinstance(message, sc.SERVER_SCRIPT_MESSAGES):
            if self.scripts is not None:
                self.scripts.on_message(message)
            return
        if isinstance(message, tb.ToolRequest):
            self._spawn(self._request(message), f"tool-{message.tool}")
            return
        s = self.sessions.get(getattr(message, "tool", 0))
        if s is None:
            return  # for a session that is already over here: nothing to do
        if isinstance(message, tf.SERVER_FILE_MESSAGES):
            if s.files is not None:
                s.files.on_message(message)
            else:
                s.ignored_inputs += 1
        elif isinstance(message, tb.ToolEnd):
            self._spawn(self._finish(s, tell=None), f"tool-{s.id}-end")
        elif isinstance(message, tb.ToolInput):
            if s.terminal is None or not s.terminal.write(message.data):
                s.ignored_inputs += 1
        elif isinstance(message, tb.ToolResize) and s.terminal is not None:
            s.terminal.resize(message.cols, message.rows)
        elif isinstance(message, ts.ToolCall):
            from endpoint_agent.toolbox.system import answer_call

            self._spawn(answer_call(s, message, self._out), f"tool-{s.id}-call")

    def account_for(self, *, root: bool) -> Account:
        """Return the account a terminal runs as.

        Raises:
            Refused: ``not_permitted`` (root asked of an agent that is not root) or
                ``unavailable`` (nobody to run it as).
        """
        running_as_root = os.geteuid() == 0
        try:
            if root:
                if not running_as_root:
                    raise Refused("not_permitted", "the agent does not run as root, so it "
                                  "cannot open a terminal as root")
                return account("root")
            if not running_as_root:
                return account(_own_login())
            login = self.login or self.find_login()
            if login is None:
                raise Refused("unavailable", "nobody is logged in on the device; only a "
                              "terminal as root (if the group's policy allows it) can open")
            return account(login)
        except AccountError as exc:
            raise Refused("unavailable", str(exc)) from exc

    async def _request(self, msg: tb.ToolRequest) -> None:
        def refuse(reason: str, message: str) -> Awaitable[None]:
            return self._out(tb.ToolAnswer(tool=msg.tool, allowed=False, reason=reason,  # type: ignore[arg-type]
                                           message=message[:500]))

        if msg.tool in self.sessions or len(self.sessions) >= MAX_TOOLS:
            await refuse("busy", f"{MAX_TOOLS} tools are open on this device already")
            return
        if msg.kind not in self.capabilities:
            await refuse("unavailable", f"this agent does not offer {msg.kind!r}")
            return
        try:
            if msg.kind in (tb.TERMINAL_CAPABILITY, tf.FILES_CAPABILITY):
                user = await asyncio.to_thread(self.account_for, root=msg.root)
            else:
                from endpoint_agent.toolbox.system import system_account

                user = await asyncio.to_thread(system_account, self, root=msg.root)
        except Refused as exc:
            await refuse(exc.reason, exc.message)
            return
        s = ToolSession(id=msg.tool, kind=msg.kind, technician=msg.technician,
                        ticket=msg.ticket, recorded=msg.record)
        self.sessions[s.id] = s
        if msg.consent:
            if self.remote is None:
                self.sessions.pop(s.id, None)
                await refuse("unavailable", "the device has no graphical session, so "
                             "nobody can be asked; the group's policy must allow unattended "
                             "access")
                return
            answer = await self._desktop().ask(
                kind=msg.kind + ("_root" if msg.root and msg.kind in ("terminal", "files")
                                 else ""), technician=msg.technician,
                ticket=msg.ticket, title=msg.title, reason=msg.reason, mode="view",
                seconds=msg.timeout, recorded=msg.record)
        else:
            answer = "unattended"
        if s.ended:  # ended while the user was asked
            return
        log.info("tool %d (%s) requested by %s: %s", s.id, s.kind, msg.technician, answer)
        if answer not in ("allow", "unattended"):
            self.sessions.pop(s.id, None)
            reason = {"deny": "denied", "timeout": "timeout"}.get(answer, "unavailable")
            await refuse(reason, {"denied": "the user refused",
                                  "timeout": "the user did not answer in time"}.get(
                reason, "the consent dialog could not be shown"))
            return

        if msg.kind == "files":
            root = "/" if msg.root else (self.files_root or user.home)
            jail = await asyncio.to_thread(Jail, root, owner=(user.uid, user.gid))
            s.files = FileWork(s.id, jail, self._out)
            await self._out(tb.ToolAnswer(tool=s.id, allowed=True, account=user.name[:64],
                                          reason="allowed" if answer == "allow"
                                          else "unattended"))
            if self.remote is not None:
                s.tasks.append(self._spawn(self._indicator(s), f"tool-{s.id}-indicator"))
            return
        if msg.kind != tb.TERMINAL_CAPABILITY:
            from endpoint_agent.toolbox.system import start_system

            await start_system(self, s, msg, user, answer)
            return

        async def output(text: str) -> None:
            await self._out(tb.ToolOutput(tool=s.id, data=text))

        s.terminal = Terminal(user, cols=msg.cols, rows=msg.rows, send=output)
        try:
            await s.terminal.start()
        except OSError as exc:
            self.sessions.pop(s.id, None)
            log.warning("could not start a shell for tool %d: %s", s.id, exc)
            await refuse("unavailable", f"the shell could not start: {exc.strerror or exc}")
            return
        await self._out(tb.ToolAnswer(tool=s.id, allowed=True, account=user.name[:64],
                                      reason="allowed" if answer == "allow" else "unattended"))
        s.tasks.append(self._spawn(self._pump(s), f"tool-{s.id}-pump"))
        if self.remote is not None:
            s.tasks.append(self._spawn(self._indicator(s), f"tool-{s.id}-indicator"))

    async def _pump(self, s: ToolSession) -> None:
        assert s.terminal is not None
        status = await s.terminal.pump()
        await self._finish(s, tell=("agent", "the shell exited"), exit_status=status)

    def _desktop(self) -> RemoteSupport:
        """Return the controller whose dialog and indicator tools use (loading a lazy one)."""
        from endpoint_agent.remote.lazy import LazyRemote

        assert self.remote is not None
        return self.remote.load() if isinstance(self.remote, LazyRemote) else self.remote

    async def _indicator(self, s: ToolSession) -> None:
        """Keep the indicator up while the tool runs; the user's End ends it."""
        desktop = self._desktop()
        try:
            proc = await asyncio.create_subprocess_exec(
                *desktop._ui_command("indicator", technician=s.technician,
                                     ticket=s.ticket, recorded=s.recorded,
                                     mode=s.kind if s.kind in ("terminal", "files")
                                     else "system"),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env=desktop._ui_environ())
        except OSError:
            log.exception("could not show the tool indicator")
            await self._finish(s, tell=("agent", "the indicator could not be shown"))
            return
        s.indicator = proc
        assert proc.stdout is not None
        by_user = False
        async for line in proc.stdout:
            if line.strip() == b"end":
                by_user = True
                break
        if not s.ended:
            await self._finish(s, tell=("user", f"the user ended the {s.kind}") if by_user
                               else ("agent", "the indicator closed"))

    async def _finish(self, s: ToolSession, *, tell: tuple[str, str] | None,
                      exit_status: int | None = None) -> None:
        """End a tool session once: hang up, close the indicator, tell the server."""
        if s.ended:
            return
        s.ended = True
        self.sessions.pop(s.id, None)
        self.history.append(s)
        del self.history[:-50]
        if tell is not None:
            by, reason = tell
            await self._out(tb.ToolEnded(tool=s.id, by=by, reason=reason,  # type: ignore[arg-type]
                                         exit_status=None if exit_status is None
                                         else max(-255, min(255, exit_status))))
        if s.terminal is not None:
            await s.terminal.close()
        if s.files is not None:
            await s.files.close()
        proc = s.indicator
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        current = asyncio.current_task()
        for task in s.tasks:
            if task is not current:
                task.cancel()

    async def connection_lost(self) -> None:
        """The server link broke: no tool outlives it."""
        for s in list(self.sessions.values()):
            await self._finish(s, tell=None)
        if self.scripts is not None:
            await self.scripts.close()

    async def close(self) -> None:
        """End every tool session."""
        await self.connection_lost()
        for proc in self.notices:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _own_login() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("tool task %s failed", task.get_name(), exc_info=task.exception())
