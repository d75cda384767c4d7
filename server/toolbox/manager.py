"""Running tool sessions: the state machine between the API, the agent and the viewers.

requested --(agent: allowed)--> active --(anyone ends it, the shell exits)--> ended
requested --(denied, timeout, unavailable, busy, not_permitted, agent gone)--> ended

As for screen sessions, each step is stored on the row and as a public event on the
ticket's timeline, then announced to the viewers and the live feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.db.schema import utcnow
from server.remote import device_session
from server.remote.requester_view import duration_text
from server.toolbox import store
from server.toolbox.files import FileRelay
from server.toolbox.relay import DIRECTORY, LiveTool, ToolViewer, Transcript, transcript_name
from shared import protocol as p
from shared import toolbox as tb
from shared import toolfiles as tf

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.db.database import Database
    from server.live import Broker

log = logging.getLogger("deskmate.toolbox")

ANSWER_GRACE = 10.0  # seconds past the user's time to answer before the server gives up
MAX_PER_DEVICE = 4  # tool sessions requested or running on one device

OUTCOME_TEXT = {
    "denied": "the user refused", "timeout": "nobody answered in time",
    "unavailable": "the device could not open it",
    "busy": "too many tools are open on the device",
    "not_permitted": "the agent is not allowed to run it",
    "agent_offline": "the device went offline",
}
NOUNS = {"terminal": "Terminal", "files": "File access", "processes": "Process list",
         "services": "Services tool"}  # on the ticket's timeline
BY_TEXT = {"user": "the user", "agent": "the device", "server": "the server",
           "technician": "the technician"}


class ToolSessions:
    """The registry of live tool sessions, by id."""

    def __init__(self, db: Database, broker: Broker, *, consent_seconds: float,
                 transcripts_dir: Path) -> None:
        self.db = db
        self.broker = broker
        self.consent_seconds = consent_seconds
        self.transcripts_dir = transcripts_dir
        self.rights_recheck_seconds = 10.0
        self.by_id: dict[int, LiveTool] = {}
        self.files = FileRelay()  # the Files tool's waiting requests
        self._tasks: set[asyncio.Task[Any]] = set()

    def count(self, device_id: int) -> int:
        """Return how many tool sessions are requested or running on a device."""
        return sum(1 for t in self.by_id.values() if t.device_id == device_id)

    async def publish(self, ticket_id: int) -> None:
        await device_session.publish(self.db, self.broker, ticket_id, "tool_session")

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def open(self, live: LiveTool, *, reason: str, title: str) -> None:
        """Register a requested tool session and ask the agent."""
        self.by_id[live.id] = live
        timeout = float(self.consent_seconds)
        live.link.send(p.encode(tb.ToolRequest(
            tool=live.id, kind=live.kind, technician=live.technician_name[:200],  # type: ignore[arg-type]
            ticket=live.ticket_number, title=title[:200], reason=reason, consent=live.consent,
            timeout=timeout, root=live.as_root, record=live.record, notify=live.notify,
            cols=live.cols, rows=live.rows)))
        live.timer = asyncio.get_running_loop().call_later(
            timeout + ANSWER_GRACE, lambda: self._later(self.finish(
                live, outcome="timeout", by="server", reason="no answer from the agent",
                actor_id=None)))

    def _live_of(self, link: AgentLink, tool: int) -> LiveTool:
        live = self.by_id.get(tool)
        if live is None or live.link is not link:
            raise p.ProtocolError(p.NO_SESSION, f"no tool session {tool}")
        return live

    async def answer(self, link: AgentLink, msg: tb.ToolAnswer) -> None:
        """Act on the agent's answer to a tool request."""
        live = self._live_of(link, msg.tool)
        if live.state != "requested":
            raise p.ProtocolError(p.UNEXPECTED, f"tool session {msg.tool} was answered already")
        if live.timer is not None:
            live.timer.cancel()
        if msg.allowed != (msg.reason in tb.ALLOWING_REASONS):
            await self.finish(live, outcome="failed", by="server", actor_id=None,
                              reason="the device's answer contradicted itself")
            raise p.ProtocolError(p.INVALID_MESSAGE, f"allowed={str(msg.allowed).lower()} "
                                  f"does not go with reason {msg.reason!r}")
        if msg.allowed and live.consent and msg.reason != "allowed":
            await self.finish(live, outcome="failed", by="server", actor_id=None,
                              reason="the device answered without asking its user, "
                                     "who had to be asked")
            raise p.ProtocolError(p.CONSENT_REQUIRED, "the user must be asked: only the "
                                  "user's answer (reason 'allowed') allows this")
        if not msg.allowed:
            why = OUTCOME_TEXT.get(msg.reason, msg.reason)
            if msg.message and msg.reason not in ("denied", "timeout"):  # the device's why
                why += f": {msg.message}"
            await self.finish(live, outcome=msg.reason, actor_id=None, reason=why[:200],
                              by="user" if msg.reason in ("denied", "timeout") else "agent")
            return
        live.started = time.monotonic()
        live.account = msg.account
        consent = "user" if live.consent else "unattended"
        who = f" as {msg.account}" if msg.account else ""
        noun = NOUNS.get(live.kind, live.kind)
        body = (f"The user allowed the {noun.lower()}; it runs{who}." if live.consent
                else f"{noun} opened{who}; the user was told, not asked "
                     "(the group's toolbox policy)." if live.notify
                else f"{noun} opened{who}; the user's consent was not required "
                     "(unattended access allowed for the device's group).")
        values: dict[str, Any] = {"state": "active", "consent": consent, "account": msg.account,
                                  "started_at": utcnow()}
        if live.record:
            live.transcript = Transcript(self.transcripts_dir / transcript_name(live.id),
                                         cols=live.cols, rows=live.rows,
                                         title=f"{live.ticket_number} {live.device_name}")
            values["transcript"] = "recording"
            body += " A transcript is kept."
        now = values["started_at"]
        await self.db.write(lambda c: store.record_step(
            c, live.id, actor_id=None, step="started", body=body, now=now, values=values,
            consent=consent, account=msg.account, record=live.record))
        if live.state == "ended":
            return
        live.state = "active"
        # The viewer may have sized its terminal while the user was asked.
        if live.kind == "terminal":
            live.link.send(p.encode(tb.ToolResize(tool=live.id, cols=live.cols,
                                                  rows=live.rows)))
        live.broadcast()
        await self.publish(live.ticket_id)

    def output(self, link: AgentLink, msg: tb.ToolOutput) -> None:
        """Relay the terminal's output."""
        live = self._live_of(link, msg.tool)
        if live.state != "active":
            raise p.ProtocolError(p.NO_SESSION, f"tool session {msg.tool} is not active")
        live.output(msg.data)

    def file_answer(self, link: AgentLink, msg: tf.FileReply | tf.FileData) -> None:
        """Hand a Files tool's answer to the request waiting for it."""
        live = self._live_of(link, msg.tool)
        if live.kind != "files" or live.state != "active":
            raise p.ProtocolError(p.NO_SESSION, f"tool session {msg.tool} is not an open "
                                  "files session")
        self.files.deliver(live, msg)

    def send_input(self, live: LiveTool, data: str) -> None:
        """Pass a controller's keystrokes to the agent."""
        live.inputs += 1
        live.chars_in += len(data)
        live.link.send(p.encode(tb.ToolInput(tool=live.id, data=data)))

    def resize(self, live: LiveTool, cols: int, rows: int) -> None:
        """Pass the controller's terminal size to the agent."""
        if (cols, rows) == (live.cols, live.rows):
            return
        live.cols, live.rows = cols, rows
        live.resizes += 1
        if live.transcript is not None:
            live.transcript.resize(cols, rows)
        if live.state == "active":
            live.link.send(p.encode(tb.ToolResize(tool=live.id, cols=cols, rows=rows)))
        live.broadcast()

    async def ended_by_agent(self, link: AgentLink, msg: tb.ToolEnded) -> None:
        """The shell exited, or the user ended the tool on the device."""
        live = self.by_id.get(msg.tool)
        if live is None or live.link is not link:
            return  # already over on our side
        reason = msg.reason
        if msg.exit_status is not None:
            reason += f", status {msg.exit_status}"
        await self.finish(live, outcome="completed", by=msg.by, reason=reason[:200],
                          actor_id=None, tell_agent=False)

    async def finish(self, live: LiveTool, *, outcome: str, by: str, reason: str,
                     actor_id: int | None, who: str = "", tell_agent: bool = True) -> None:
        """End a tool session once: record it, tell the agent and the viewers, forget it."""
        if live.state == "ended":
            return
        was_active = live.state == "active"
        live.state = "ended"
        if live.timer is not None:
            live.timer.cancel()
        self.by_id.pop(live.id, None)
        for call in live.calls.values():  # actions still waiting for the agent
            if not call.done():
                call.cancel()
        self.files.end(live.id)
        if tell_agent:
            live.link.send(p.encode(tb.ToolEnd(tool=live.id, reason=reason[:200])))
        size = await live.transcript.close() if live.transcript is not None else None
        who = who or BY_TEXT.get(by, by)
        summary = live.summary()
        if was_active:
            step_outcome = "completed" if outcome in ("completed", "timeout") else outcome
            watchers = ", ".join(summary["watchers"]) or "nobody"
            noun = NOUNS.get(live.kind, live.kind)
            body = (f"{noun} ended by {who}" + (f" ({reason})" if reason else "")
                    + f" after {duration_text(summary['duration_seconds'])}. "
                    f"Watched by {watchers}.")
            if size is not None:
                body += " Transcript kept."
        else:
            step_outcome = outcome
            if outcome == "completed":  # ended before the user answered
                step_outcome, reason = "withdrawn", reason or f"withdrawn by {who}"
            body = f"{NOUNS.get(live.kind, live.kind)} not opened: {reason}."
        now = utcnow()
        values: dict[str, Any] = {"state": "ended", "outcome": step_outcome, "ended_by": by,
                                  "end_reason": reason[:200], "ended_at": now,
                                  "summary": summary}
        if size is not None:
            values.update(transcript="ready", transcript_bytes=size)
        try:
            await self.db.write(lambda c: store.record_step(
                c, live.id, actor_id=actor_id, step="ended", body=body, now=now,
                values=values, outcome=step_outcome, by=by, who=who, reason=reason[:200],
                started=was_active, summary=summary, transcript=size is not None))
        finally:
            for viewer in list(live.viewers):
                viewer.send({"type": "ended", "session": live.id, "outcome": step_outcome,
                             "by": by, "reason": reason})
                viewer.close(1000, "session ended")
        log.info("tool session %d ended (%s by %s: %s)", live.id, step_outcome, by, reason)
        await self.publish(live.ticket_id)

    async def agent_gone(self, link: AgentLink) -> None:
        """The device's connection closed: its tool sessions cannot go on."""
        for live in [t for t in self.by_id.values() if t.link is link]:
            await self.finish(live, outcome="agent_offline", by="agent",
                              reason="the device went offline", actor_id=None,
                              tell_agent=False)

    def join(self, live: LiveTool, viewer: ToolViewer) -> None:
        """Add a viewer; it gets the status now."""
        live.viewers.add(viewer)
        live.watchers.add(viewer.name)
        live.broadcast()

    def leave(self, live: LiveTool, viewer: ToolViewer) -> None:
        """Remove a viewer."""
        live.viewers.discard(viewer)
        if live.state != "ended":
            live.broadcast()

    async def close_all(self) -> None:
        """End every tool session (server shutdown)."""
        for live in list(self.by_id.values()):
            with contextlib.suppress(Exception):
                await self.finish(live, outcome="failed", by="server",
                                  reason="the server is stopping", actor_id=None)


async def tools_ctx(app: web.Application) -> AsyncIterator[None]:
    """Close tool sessions a previous run left open; end running ones on shutdown."""
    from server.keys import BROKER, DATABASE, SETTINGS, TOOLS

    db = app[DATABASE]
    closed = await db.write(lambda c: store.end_unfinished(c, utcnow()))
    if closed:
        log.info("closed %d tool sessions left open by the previous run", closed)
    seconds = max(1, min(app[SETTINGS].remote_consent_seconds, 600))
    app[TOOLS] = ToolSessions(db, app[BROKER], consent_seconds=seconds,
                              transcripts_dir=app[SETTINGS].data_dir / DIRECTORY)
    yield


async def tools_shutdown(app: web.Application) -> None:
    """End running tool sessions before agents are disconnected."""
    from server.keys import TOOLS

    if TOOLS in app:
        await app[TOOLS].close_all()
