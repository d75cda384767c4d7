"""Running scripts: the state machine between the API and the agents, one run per device.

requested --(agent: allowed)--> running --(script_done, cancel, agent gone, no answer)--> ended
requested --(denied, timeout, unavailable, busy, not_permitted, agent gone)--> ended

Output is kept in memory up to the cap while the run goes on (the console polls it);
when a run ends its result is stored, the output written as a ticket attachment, and one
public event put on the ticket's timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.db.schema import utcnow
from server.scripts import runstore
from server.tickets.attachments import safe_filename, store_path
from shared import protocol as p
from shared import scripts as sc

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.db.database import Database
    from server.live import Broker

log = logging.getLogger("deskmate.scripts")

ANSWER_GRACE = 10.0  # seconds past the user's time to answer before the server gives up
DONE_GRACE = 15.0  # seconds past the script's timeout before the server gives up on it

OUTCOME_TEXT = {
    "denied": "the user refused", "timeout": "nobody answered in time",
    "unavailable": "the device could not run it", "busy": "too many scripts run on the device",
    "not_permitted": "the agent is not allowed to run it",
    "offline": "the device went offline", "no_answer": "the device did not answer",
}


@dataclass(eq=False)
class LiveRun:
    """A run the server waits on."""

    id: int
    ticket_id: int
    ticket_number: str
    device_name: str
    script_name: str
    version: int
    link: AgentLink
    timeout: int
    max_output: int
    consent: bool = True  # the user must be asked
    state: str = "requested"
    account: str = ""
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    kept: int = 0  # characters of output kept
    truncated: bool = False
    timer: asyncio.TimerHandle | None = None

    def add(self, stream: str, text: str) -> None:
        """Keep output up to the cap (the agent caps too; this guards against one that does not)."""
        room = self.max_output - self.kept
        if room <= 0:
            self.truncated = True
            return
        piece = text[:room]
        self.truncated = self.truncated or len(piece) < len(text)
        self.kept += len(piece)
        (self.stdout if stream == "stdout" else self.stderr).append(piece)


def output_document(run: LiveRun, *, header: str) -> bytes:
    """Return the text attached to the ticket: a header, stdout, then stderr."""
    parts = [header, "", "== stdout ==", "".join(run.stdout)]
    if run.stderr:
        parts += ["== stderr ==", "".join(run.stderr)]
    if run.truncated:
        parts.append(f"[output cut at {run.max_output} characters]")
    return ("\n".join(parts).rstrip("\n") + "\n").encode("utf-8", "replace")


class ScriptRuns:
    """The registry of runs waiting on agents, by id."""

    def __init__(self, db: Database, broker: Broker, *, consent_seconds: float,
                 attachments_dir: Path) -> None:
        self.db = db
        self.broker = broker
        self.consent_seconds = consent_seconds
        self.attachments_dir = attachments_dir
        self.by_id: dict[int, LiveRun] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def publish(self, ticket_id: int) -> None:
        from server.remote import store as remote_store

        row = await self.db.read(lambda c: remote_store.ticket_ref(c, ticket_id))
        self.broker.publish_ticket(ticket_id=ticket_id, number=row.number,
                                   requester_id=row.requester_id, change="script_run",
                                   public=True)

    def _arm(self, run: LiveRun, seconds: float, outcome: str) -> None:
        if run.timer is not None:
            run.timer.cancel()
        run.timer = asyncio.get_running_loop().call_later(
            seconds, lambda: self._later(self.finish(run, outcome=outcome,
                                                     reason=OUTCOME_TEXT["no_answer"])))

    def start(self, run: LiveRun, message: sc.ScriptRun) -> None:
        """Register a run and send it to the agent."""
        self.by_id[run.id] = run
        run.link.send(p.encode(message))
        self._arm(run, message.consent_timeout + ANSWER_GRACE, "no_answer")

    def _live_of(self, link: AgentLink, run_id: int) -> LiveRun:
        run = self.by_id.get(run_id)
        if run is None or run.link is not link:
            raise p.ProtocolError(p.NO_SESSION, f"no script run {run_id}")
        return run

    async def answer(self, link: AgentLink, msg: sc.ScriptAnswer) -> None:
        """Act on the agent's answer: the script started, or was refused."""
        run = self._live_of(link, msg.run)
        if run.state != "requested":
            raise p.ProtocolError(p.UNEXPECTED, f"script run {msg.run} was answered already")
        if msg.allowed != (msg.reason in sc.ALLOWING_REASONS):
            await self.finish(run, outcome="failed",
                              reason="the device's answer contradicted itself")
            raise p.ProtocolError(p.INVALID_MESSAGE, f"allowed={str(msg.allowed).lower()} "
                                  f"does not go with reason {msg.reason!r}")
        if msg.allowed and run.consent and msg.reason != "allowed":
            await self.finish(run, outcome="failed", reason="the device ran it without "
                              "asking its user, who had to be asked")
            raise p.ProtocolError(p.CONSENT_REQUIRED, "the user must be asked: only the "
                                  "user's answer (reason 'allowed') allows this")
        if not msg.allowed:
            why = OUTCOME_TEXT.get(msg.reason, msg.reason)
            if msg.message and msg.reason not in ("denied", "timeout"):
                why += f": {msg.message}"
            await self.finish(run, outcome=msg.reason, reason=why)
            return
        run.state = "running"
        run.account = msg.account
        self._arm(run, run.timeout + DONE_GRACE, "no_answer")
        now = utcnow()
        await self.db.write(lambda c: runstore.set_values(
            c, run.id, state="running", account=msg.account or None, started_at=now))
        await self.publish(run.ticket_id)

    def output(self, link: AgentLink, msg: sc.ScriptOutput) -> None:
        """Keep a piece of the script's output."""
        run = self._live_of(link, msg.run)
        if run.state != "running":
            raise p.ProtocolError(p.NO_SESSION, f"script run {msg.run} is not running")
        run.add(msg.stream, msg.data)

    async def done(self, link: AgentLink, msg: sc.ScriptDone) -> None:
        """The script is over on the device."""
        run = self._live_of(link, msg.run)
        if run.state != "running":
            raise p.ProtocolError(p.UNEXPECTED, f"script run {msg.run} is not running")
        run.truncated = run.truncated or msg.truncated
        if msg.timed_out:
            outcome, reason = "timeout", f"killed after its timeout of {run.timeout} s"
        elif msg.cancelled:
            outcome, reason = "cancelled", msg.message or "cancelled"
        elif msg.exit_code == 0:
            outcome, reason = "succeeded", ""
        else:
            outcome, reason = "failed", msg.message
        await self.finish(run, outcome=outcome, reason=reason, exit_code=msg.exit_code,
                          tell_agent=False)

    def cancel(self, run: LiveRun, reason: str) -> None:
        """Ask the agent to stop a run (its script_done follows)."""
        run.link.send(p.encode(sc.ScriptCancel(run=run.id, reason=reason[:200])))
        if run.state == "requested":
            self._later(self.finish(run, outcome="cancelled", reason=reason, tell_agent=False))

    async def finish(self, run: LiveRun, *, outcome: str, reason: str,
                     exit_code: int | None = None, tell_agent: bool = True) -> None:
        """End a run once: store the result and output, put it on the ticket."""
        if run.state == "ended":
            return
        started = run.state == "running"
        run.state = "ended"
        if run.timer is not None:
            run.timer.cancel()
        self.by_id.pop(run.id, None)
        if tell_agent and outcome not in ("offline",):
            run.link.send(p.encode(sc.ScriptCancel(run=run.id, reason=reason[:200])))
        title = f"{run.script_name} (version {run.version}) on {run.device_name}"
        if not started:
            body = f"Script {title} did not run: {reason}."
        elif outcome == "succeeded":
            body = f"Script {title} finished: exit code 0."
        elif outcome == "failed" and exit_code is not None:
            body = f"Script {title} failed: exit code {exit_code}."
        else:
            body = f"Script {title} stopped: {reason}."
        output = None
        if started:
            body += " Output attached."
            header = (f"Script {run.script_name}, version {run.version}, on "
                      f"{run.device_name} as {run.account or '?'} ({run.ticket_number})\n"
                      f"Outcome: {outcome}" + (f", exit code {exit_code}"
                                               if exit_code is not None else ""))
            data = output_document(run, header=header)
            sha = hashlib.sha256(data).hexdigest()
            await asyncio.to_thread(self._write, sha, data)
            name = safe_filename(f"script-{run.script_name}-{run.device_name}-run{run.id}.txt")
            output = (name, sha, len(data))
        now = utcnow()
        values: dict[str, Any] = {
            "state": "ended", "outcome": outcome, "end_reason": reason[:500],
            "exit_code": exit_code, "truncated": run.truncated, "ended_at": now,
            "stdout": "".join(run.stdout), "stderr": "".join(run.stderr)}
        await self.db.write(lambda c: runstore.finish(c, run.id, body=body, values=values,
                                                      output=output, now=now))
        log.info("script run %d ended (%s: %s)", run.id, outcome, reason)
        await self.publish(run.ticket_id)

    def _write(self, sha: str, data: bytes) -> None:
        target = store_path(self.attachments_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # two runs with the same output may write it at once
            tmp = target.with_name(f".{sha}-{secrets.token_hex(8)}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)

    async def agent_gone(self, link: AgentLink) -> None:
        """The device's connection closed: its runs cannot report any more."""
        for run in [r for r in self.by_id.values() if r.link is link]:
            await self.finish(run, outcome="offline", reason=OUTCOME_TEXT["offline"],
                              tell_agent=False)

    async def close_all(self) -> None:
        """End every run (server shutdown)."""
        for run in list(self.by_id.values()):
            with contextlib.suppress(Exception):
                await self.finish(run, outcome="failed", reason="the server is stopping")


async def scripts_ctx(app: web.Application) -> AsyncIterator[None]:
    """Close runs a previous run of the server left open; end running ones on shutdown."""
    from server.keys import BROKER, DATABASE, SCRIPTS, SETTINGS

    db = app[DATABASE]
    now = utcnow()

    def close_left(conn: Any) -> int:
        ids = runstore.unfinished(conn)
        for run_id in ids:
            runstore.finish(conn, run_id, body="Script run ended: the server stopped.",
                            values={"state": "ended", "outcome": "failed",
                                    "end_reason": "the server stopped", "ended_at": now},
                            output=None, now=now)
        return len(ids)

    closed = await db.write(close_left)
    if closed:
        log.info("closed %d script runs left open by the previous run", closed)
    settings = app[SETTINGS]
    app[SCRIPTS] = ScriptRuns(db, app[BROKER],
                              consent_seconds=max(1, min(settings.remote_consent_seconds, 600)),
                              attachments_dir=settings.data_dir / "attachments")
    yield
    await app[SCRIPTS].close_all()
