"""Running the server's scripts on this computer: one process group per run, with a timeout.

A script runs as the account a terminal would (the logged-in user; root only when the
server asks and the agent runs as root). Its text is one argument of ``bash -c`` or
``python3 -c`` and its parameters are environment variables, so no value is ever parsed
as code. stdout and stderr are read as they come and sent on up to ``max_output`` bytes;
past that they are read and dropped, so the script never blocks on a full pipe. At the
timeout (or on cancel) the whole process group gets SIGTERM, then SIGKILL two seconds
later; whatever the script left behind in its group is ended when it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from endpoint_agent.toolbox.terminal import Account
from shared import protocol as p
from shared import scripts as sc
from shared import toolbox as tb

if TYPE_CHECKING:
    from endpoint_agent.toolbox.support import ToolSupport

log = logging.getLogger("deskmate.agent.scripts")

MAX_RUNS = 4  # scripts at once on one device
READ_SIZE = 4096
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL of the group
Send = Callable[[str | bytes], Awaitable[None]]


@dataclass(eq=False)
class Run:
    """The agent's state of one script run."""

    id: int
    process: asyncio.subprocess.Process | None = None
    sent: int = 0  # bytes of output sent
    truncated: bool = False
    timed_out: bool = False
    cancelled: str = ""  # why, once cancelled
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def command(language: str, body: str) -> list[str]:
    """Return the argv that runs ``body`` (the text is one argument, never parsed by a shell).

    Raises:
        FileNotFoundError: no interpreter for the language on this computer.
    """
    name = "bash" if language == "bash" else "python3"
    path = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
    if path is None:
        raise FileNotFoundError(f"{name} is not installed")
    return [path, "-c", body, "deskmate-script"] if name == "bash" else [path, "-c", body]


def environment(user: Account, params: dict[str, str], *, ticket: str, run: int
                ) -> dict[str, str]:
    """Return the script's environment: the account's basics and one variable per parameter."""
    env = {"HOME": user.home, "USER": user.name, "LOGNAME": user.name,
           "LANG": os.environ.get("LANG") or "C.UTF-8",
           "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
           if user.uid == 0 else "/usr/local/bin:/usr/bin:/bin",
           "DESKMATE_TICKET": ticket, "DESKMATE_RUN": str(run)}
    env.update(sc.environment(params))
    return env


class ScriptRunner:
    """Serves script runs; consent and accounts come from the tool support it belongs to."""

    def __init__(self, tools: ToolSupport) -> None:
        self.tools = tools
        self.runs: dict[int, Run] = {}
        self.finished: list[int] = []  # ids of runs done, for tests
        self._send: Send | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def bind(self, send: Send) -> None:
        """Use ``send`` for answers, output and results."""
        self._send = send

    async def _out(self, message: sc.ScriptMessage) -> None:
        if self._send is None:
            return
        with contextlib.suppress(Exception):
            await self._send(p.encode(message))

    def on_message(self, message: Any) -> None:
        """Act on one script message from the server (called by the reader, never blocks)."""
        if isinstance(message, sc.ScriptRun):
            task = asyncio.ensure_future(self._run(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(_log_failure)
        elif isinstance(message, sc.ScriptCancel):
            run = self.runs.get(message.run)
            if run is not None and not run.cancelled:
                run.cancelled = message.reason or "cancelled"
                self._kill(run)

    async def _run(self, msg: sc.ScriptRun) -> None:
        def refuse(reason: str, message: str) -> Awaitable[None]:
            return self._out(sc.ScriptAnswer(run=msg.run, allowed=False, reason=reason,  # type: ignore[arg-type]
                                             message=message[:500]))

        if msg.run in self.runs or len(self.runs) >= MAX_RUNS:
            await refuse("busy", f"{MAX_RUNS} scripts run on this device already")
            return
        from endpoint_agent.toolbox.support import Refused

        def prepare() -> tuple[Account, list[str], dict[str, Any]]:  # blocking: a thread
            user = self.tools.account_for(root=msg.root)
            change = os.getuid() != user.uid
            spawn = {"env": environment(user, msg.params, ticket=msg.ticket, run=msg.run),
                     "cwd": user.home if os.path.isdir(user.home) else "/",
                     "user": user.uid if change else None,
                     "group": user.gid if change else None,
                     "extra_groups": _groups(user) if change else None}
            return user, command(msg.language, msg.body), spawn

        try:
            user, argv, spawn = await asyncio.to_thread(prepare)
        except Refused as exc:
            await refuse(exc.reason, exc.message)
            return
        except (FileNotFoundError, ValueError) as exc:
            await refuse("unavailable", str(exc))
            return
        run = Run(id=msg.run)
        self.runs[run.id] = run
        try:
            answer = await self._consent(msg)
            if run.cancelled:
                return
            if answer not in ("allow", "unattended"):
                reason = {"deny": "denied", "timeout": "timeout"}.get(answer, "unavailable")
                await refuse(reason, {"denied": "the user refused",
                                      "timeout": "the user did not answer in time"}.get(
                    reason, "nobody can be asked: the device has no graphical session"))
                return
            await self._execute(run, msg, argv, spawn, user,
                                "allowed" if answer == "allow" else "unattended")
        finally:
            self.runs.pop(run.id, None)
            self.finished.append(run.id)
            del self.finished[:-50]

    async def _consent(self, msg: sc.ScriptRun) -> str:
        if not msg.consent:
            return "unattended"
        if self.tools.remote is None:
            return "headless"
        return await self.tools._desktop().ask(
            kind="script_root" if msg.root else "script", technician=msg.technician,
            ticket=msg.ticket, title=msg.title,
            reason=f"{msg.script} (v{msg.version}): {msg.reason}"[:500], mode="view",
            seconds=msg.consent_timeout)

    async def _execute(self, run: Run, msg: sc.ScriptRun, argv: list[str],
                       spawn: dict[str, Any], user: Account, reason: str) -> None:
        try:
            run.process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group, killed as one
                **spawn)
        except OSError as exc:
            await self._out(sc.ScriptAnswer(run=run.id, allowed=False, reason="unavailable",
                                            message=f"the script could not start: "
                                                    f"{exc.strerror or exc}"[:500]))
            return
        await self._out(sc.ScriptAnswer(run=run.id, allowed=True, reason=reason,  # type: ignore[arg-type]
                                        account=user.name[:64]))
        proc = run.process
        assert proc.stdout is not None and proc.stderr is not None
        readers = [asyncio.ensure_future(self._read(run, proc.stdout, "stdout", msg.max_output)),
                   asyncio.ensure_future(self._read(run, proc.stderr, "stderr", msg.max_output))]
        try:
            await asyncio.wait_for(proc.wait(), msg.timeout)
        except TimeoutError:
            run.timed_out = True
            self._kill(run)
            await proc.wait()
        self._signal_group(run, signal.SIGKILL)  # what it left behind in its group
        _done, pending = await asyncio.wait(readers, timeout=KILL_GRACE)
        for task in pending:  # a child that left the group still holds the pipe
            task.cancel()
        status = proc.returncode
        await self._out(sc.ScriptDone(
            run=run.id, exit_code=None if status is None else max(-255, min(255, status)),
            timed_out=run.timed_out, cancelled=bool(run.cancelled) and not run.timed_out,
            truncated=run.truncated, message=run.cancelled[:500]))
        log.info("script run %d ended (status %s%s)", run.id, status,
                 ", timed out" if run.timed_out else "")

    async def _read(self, run: Run, stream: asyncio.StreamReader, name: str,
                    limit: int) -> None:
        decoder = tb.Utf8Stream()
        while True:
            data = await stream.read(READ_SIZE)
            if not data:
                break
            room = limit - run.sent
            if room <= 0:
                run.truncated = True
                continue  # keep reading: a full pipe would block the script
            if len(data) > room:
                data, run.truncated = data[:room], True
            run.sent += len(data)
            await self._send_text(run, name, decoder.feed(data))
        await self._send_text(run, name, decoder.flush())

    async def _send_text(self, run: Run, name: str, text: str) -> None:
        for piece in tb.chunks(text, sc.MAX_OUTPUT_CHARS):
            await self._out(sc.ScriptOutput(run=run.id, stream=name, data=piece))  # type: ignore[arg-type]

    def _signal_group(self, run: Run, sig: signal.Signals) -> None:
        if run.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.process.pid, sig)

    def _kill(self, run: Run) -> None:
        """SIGTERM the run's process group, SIGKILL it after the grace time."""
        if run.process is None or run.process.returncode is not None:
            return
        self._signal_group(run, signal.SIGTERM)
        asyncio.get_running_loop().call_later(KILL_GRACE, self._signal_group, run,
                                              signal.SIGKILL)

    async def close(self) -> None:
        """Stop every run (the link broke or the agent stops)."""
        for run in list(self.runs.values()):
            run.cancelled = run.cancelled or "the agent stopped"
            self._signal_group(run, signal.SIGKILL)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _groups(user: Account) -> list[int]:
    try:
        return os.getgrouplist(user.name, user.gid)
    except OSError:
        return [user.gid]


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("script task failed", exc_info=task.exception())
