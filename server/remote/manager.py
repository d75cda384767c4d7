"""Running sessions: the state machine between API, agent answers and viewers.

requested --(agent: allowed)--> active --(anyone ends it)--> ended
requested --(denied, timeout, unavailable, busy, agent gone)--> ended

Each step is stored on the session row and as a public event on the ticket's timeline,
then announced to the viewers and to the live feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.db.schema import utcnow
from server.remote import device_session, recordings, store
from server.remote.recorder import Recorder, RecordingStats
from server.remote.relay import LiveSession, Viewer
from server.remote.requester_view import duration_text
from shared import protocol as p
from shared import screen

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.db.database import Database
    from server.live import Broker

log = logging.getLogger("deskmate.remote")

ANSWER_GRACE = 10.0  # seconds past the user's time to answer before the server gives up

OUTCOME_TEXT = {
    "denied": "the user refused", "timeout": "nobody answered in time",
    "unavailable": "nobody is logged in to a desktop on the device",
    "busy": "another session is already running on the device",
    "agent_offline": "the device went offline",
}


def summary_text(live: LiveSession, *, by: str, who: str, reason: str) -> str:
    """Return the human summary put on the ticket when a session ends."""
    s = live.summary()
    watchers = ", ".join(s["watchers"]) or "nobody"
    mb = s["bytes"] / 1e6
    ended = f"ended by {who}" + (f" ({reason})" if reason else "")
    clip = s["clipboard_to_device"] + s["clipboard_from_device"]
    clipboard = (f"; {clip} clipboard texts ({s['clipboard_to_device']} to the device, "
                 f"{s['clipboard_from_device']} from it)" if clip else "")
    return (f"Remote session {ended} after {duration_text(s['duration_seconds'])}. "
            f"Watched by {watchers}; final mode {s['final_mode']}; "
            f"{s['input_events']} input events; {s['mode_changes']} mode changes"
            f"{clipboard}; {s['frames']} frames ({mb:.1f} MB).")


def recording_text(stats: RecordingStats) -> str:
    """Return what the ticket says about a session's recording when it ends."""
    if stats.error is not None and not stats.frames:
        return f"The recording failed ({stats.error})."
    text = (f"Recorded: {stats.file_bytes / 1e6:.1f} MB, "
            f"{duration_text(stats.duration_ms / 1000)}")
    if stats.dropped_frames:
        text += (f"; {stats.dropped_frames} frames left out in {stats.gaps} gaps "
                 "(the disk fell behind)")
    if stats.error is not None:
        text += f"; cut short: {stats.error}"
    return text + "."


class Sessions:
    """The registry of live sessions, by id and by device."""

    def __init__(self, db: Database, broker: Broker, *, consent_seconds: float,
                 recordings_dir: Path | None = None) -> None:
        self.db = db
        self.broker = broker
        self.consent_seconds = consent_seconds
        self.recordings_dir = recordings_dir  # None: recording is not possible
        # How often a viewer's right to watch is checked again while it watches.
        self.rights_recheck_seconds = 10.0
        self.by_id: dict[int, LiveSession] = {}
        self.by_device: dict[int, LiveSession] = {}
        self._timeouts: set[asyncio.Task[None]] = set()

    def busy(self, device_id: int) -> bool:
        """Tell whether a session is requested or running on a device."""
        return device_id in self.by_device

    async def publish(self, ticket_id: int) -> None:
        await device_session.publish(self.db, self.broker, ticket_id, "remote_session")

    def open(self, live: LiveSession, *, reason: str, title: str, consent: bool) -> None:
        """Register a requested session and ask the agent."""
        self.by_id[live.id] = live
        self.by_device[live.device_id] = live
        live.consent = consent
        timeout = float(self.consent_seconds)
        live.link.send(p.encode(p.SessionRequest(
            session=live.id, technician=live.technician_name[:200], ticket=live.ticket_number,
            title=title[:200], reason=reason, mode=live.mode,  # type: ignore[arg-type]
            consent=consent, timeout=timeout, record=live.record,
            lossless=p.LOSSLESS_CAPABILITY in live.link.capabilities)))
        loop = asyncio.get_running_loop()

        def give_up() -> None:
            task = loop.create_task(self.finish(live, outcome="timeout", by="server",
                                                reason="no answer from the agent",
                                                actor_id=None))
            self._timeouts.add(task)
            task.add_done_callback(self._timeouts.discard)

        live.timer = loop.call_later(timeout + ANSWER_GRACE, give_up)

    async def answer(self, link: AgentLink, msg: p.SessionAnswer) -> None:
        """Act on the agent's answer to a session request."""
        live = self.by_id.get(msg.session)
        if live is None or live.link is not link or live.state != "requested":
            raise p.ProtocolError(p.NO_SESSION, f"no requested session {msg.session}")
        if live.timer is not None:
            live.timer.cancel()
        await self._check_answer(live, msg.allowed, msg.reason)
        if not msg.allowed:
            await self.finish(live, outcome=msg.reason if msg.reason in OUTCOME_TEXT
                              else "denied", by="user" if msg.reason in ("denied", "timeout")
                              else "agent", reason=OUTCOME_TEXT.get(msg.reason, msg.reason),
                              actor_id=None)
            return
        live.started = time.monotonic()
        live.monitors = [{"x": m.x, "y": m.y, "width": m.width, "height": m.height}
                         for m in msg.monitors]
        # What the server asked, never what the agent claims (see _check_answer).
        consent = "user" if live.consent else "unattended"
        body = ("The user allowed the remote session." if live.consent
                else "Remote session started; the user's consent was not required "
                     "(unattended access allowed for the device's group).")
        now = utcnow()
        recorded = live.record and self.recordings_dir is not None
        if recorded:
            assert self.recordings_dir is not None
            body += " It is recorded."
            # Before the first frame: the agent sends frames right after its answer.
            live.recorder = Recorder(
                self.recordings_dir / recordings.file_name(live.id),
                {"session": live.id, "ticket": live.ticket_number, "device": live.device_name,
                 "technician": live.technician_name, "monitors": live.monitors})

        def started(conn: Any) -> None:
            store.record_step(conn, live.id, actor_id=None, step="started", body=body, now=now,
                              values={"state": "active", "consent": consent, "started_at": now},
                              consent=consent, mode=live.mode, record=recorded)
            if recorded:
                recordings.start(conn, live.id, now=now)

        await self.db.write(started)
        if live.state == "ended":  # ended while the answer was being stored
            return
        live.state = "active"  # after the write: the API reads the row's consent
        live.broadcast()
        for viewer in live.viewers:
            viewer.synced = False
        await self.publish(live.ticket_id)

    async def set_mode(self, live: LiveSession, mode: str, *, consent: bool,
                       actor_id: int) -> None:
        """Change the mode now (down to view, or unattended) or ask the user (up to control)."""
        if live.state == "ended":
            return
        if mode == "control" and consent:
            live.pending_mode = "control"
            live.link.send(p.encode(p.SessionMode(session=live.id, mode="control",
                                                  consent=True)))
            now = utcnow()
            await self.db.write(lambda c: store.record_step(
                c, live.id, actor_id=actor_id, step="mode_requested", now=now,
                body="Asked the user for control of the mouse and keyboard.", mode=mode))
            live.broadcast()
            await self.publish(live.ticket_id)
            return
        live.link.send(p.encode(p.SessionMode(session=live.id, mode=mode,  # type: ignore[arg-type]
                                              consent=False)))
        await self._apply_mode(live, mode, actor_id=actor_id, how="")

    async def _apply_mode(self, live: LiveSession, mode: str, *, actor_id: int | None,
                          how: str) -> None:
        live.pending_mode = None
        if mode != live.mode:
            live.mode = mode
            live.mode_changes += 1
        now = utcnow()
        body = ("Switched to view only." if mode == "view"
                else "Switched to control of the mouse and keyboard" + how + ".")
        await self.db.write(lambda c: store.record_step(
            c, live.id, actor_id=actor_id, step="mode", body=body, now=now,
            values={"mode": mode}, mode=mode))
        live.broadcast()
        await self.publish(live.ticket_id)

    async def _check_answer(self, live: LiveSession, allowed: bool, reason: str) -> None:
        """Refuse an answer that contradicts itself or skips the consent the server asked.

        The policy (``live.consent``) decides whether the user is asked; an agent answering
        "unattended" to a question for the user speaks for them. Such an answer ends the
        session (it is not started, or no longer runs) before the error goes back.

        Raises:
            ProtocolError: ``invalid_message`` or ``consent_required``.
        """
        if allowed != (reason in p.ALLOWING_REASONS):
            await self.finish(live, outcome="failed", by="server", actor_id=None,
                              reason="the device's answer contradicted itself")
            raise p.ProtocolError(p.INVALID_MESSAGE, f"allowed={str(allowed).lower()} "
                                  f"does not go with reason {reason!r}")
        if allowed and live.consent and reason != "allowed":
            await self.finish(live, outcome="failed", by="server", actor_id=None,
                              reason="the device answered without asking its user, "
                                     "who had to be asked")
            raise p.ProtocolError(p.CONSENT_REQUIRED, "the user must be asked: only the "
                                  "user's answer (reason 'allowed') allows this")

    async def mode_answer(self, link: AgentLink, msg: p.ModeAnswer) -> None:
        """Act on the user's answer to a request for control."""
        live = self.by_id.get(msg.session)
        if live is None or live.link is not link:
            raise p.ProtocolError(p.NO_SESSION, f"no session {msg.session}")
        if live.state != "active" or live.pending_mode != msg.mode:
            raise p.ProtocolError(p.UNEXPECTED, f"no change to {msg.mode} was asked of the user")
        await self._check_answer(live, msg.allowed, msg.reason)
        if msg.allowed:
            await self._apply_mode(live, msg.mode, actor_id=None, how=" (the user agreed)")
            return
        live.pending_mode = None
        now = utcnow()
        await self.db.write(lambda c: store.record_step(
            c, live.id, actor_id=None, step="mode_refused", now=now,
            body=f"The user did not allow control ({OUTCOME_TEXT.get(msg.reason, msg.reason)}).",
            mode=msg.mode, reason=msg.reason))
        live.broadcast()
        await self.publish(live.ticket_id)

    async def ended_by_agent(self, link: AgentLink, msg: p.SessionEnded) -> None:
        """The user (or the agent) ended the session on the device."""
        live = self.by_id.get(msg.session)
        if live is None or live.link is not link:
            return  # already over on our side: nothing to do
        await self.finish(live, outcome="completed", by=msg.by, reason=msg.reason,
                          actor_id=None, tell_agent=False)

    async def finish(self, live: LiveSession, *, outcome: str, by: str, reason: str,
                     actor_id: int | None, who: str = "", tell_agent: bool = True) -> None:
        """End a session once: record it, tell the agent and the viewers, forget it."""
        if live.state == "ended":
            return
        was_active = live.state == "active"
        live.state = "ended"
        if live.timer is not None:
            live.timer.cancel()
        self.by_id.pop(live.id, None)
        if self.by_device.get(live.device_id) is live:
            del self.by_device[live.device_id]
        if tell_agent:
            live.link.send(p.encode(p.SessionEnd(session=live.id, reason=reason[:200])))
        stats = await live.recorder.close() if live.recorder is not None else None
        who = who or {"user": "the user", "agent": "the agent", "server": "the server",
                      "technician": "the technician"}.get(by, by)
        if was_active:
            step_outcome = "completed" if outcome in ("completed", "timeout") else outcome
            body = summary_text(live, by=by, who=who, reason=reason)
            if stats is not None:
                body += " " + recording_text(stats)
        else:
            step_outcome = outcome
            if outcome == "completed":  # ended before the user answered
                step_outcome, reason = "withdrawn", reason or f"withdrawn by {who}"
            body = f"Remote session not started: {reason}."
        summary = live.summary()
        now = utcnow()
        extra = {"recording": stats.as_dict()} if stats is not None else {}

        def ended(conn: Any) -> None:
            store.record_step(
                conn, live.id, actor_id=actor_id, step="ended", body=body, now=now,
                values={"state": "ended", "outcome": step_outcome, "ended_by": by,
                        "end_reason": reason[:200], "ended_at": now, "summary": summary},
                outcome=step_outcome, by=by, who=who, reason=reason[:200], started=was_active,
                summary=summary, **extra)
            if stats is not None:
                recordings.finish(conn, live.id, stats, now=now)

        try:
            await self.db.write(ended)
        finally:
            for viewer in list(live.viewers):
                viewer.send_text({"type": "ended", "session": live.id, "outcome": step_outcome,
                                  "by": by, "reason": reason})
                viewer.close(1000, "session ended")
        log.info("remote session %d ended (%s by %s: %s)", live.id, step_outcome, by, reason)
        await self.publish(live.ticket_id)

    async def agent_gone(self, link: AgentLink) -> None:
        """The device's connection closed: its session cannot go on."""
        live = self.by_device.get(link.device_id)
        if live is not None and live.link is link:
            await self.finish(live, outcome="agent_offline", by="agent",
                              reason="the device went offline", actor_id=None,
                              tell_agent=False)

    def frame(self, link: AgentLink, data: bytes) -> None:
        """Relay a binary frame from the agent.

        Raises:
            ProtocolError: no active session on this device, or a malformed frame.
        """
        live = self.by_device.get(link.device_id)
        if live is None or live.link is not link or live.state != "active":
            raise p.ProtocolError(p.BINARY_NOT_ALLOWED,
                                  "binary frames are only for an active screen session")
        try:
            live.relay(data)
        except screen.FrameError as exc:
            raise p.ProtocolError(screen.BAD_FRAME, str(exc)) from exc

    def join(self, live: LiveSession, viewer: Viewer) -> None:
        """Add a viewer; it gets the status now and a key frame soon."""
        live.viewers.add(viewer)
        live.watchers.add(viewer.name)
        live.broadcast()
        live.request_key_frame()

    def leave(self, live: LiveSession, viewer: Viewer) -> None:
        """Remove a viewer."""
        live.viewers.discard(viewer)
        if live.state != "ended":
            live.broadcast()

    async def close_all(self) -> None:
        """End every session (server shutdown)."""
        for live in list(self.by_id.values()):
            with contextlib.suppress(Exception):
                await self.finish(live, outcome="failed", by="server",
                                  reason="the server is stopping", actor_id=None)


async def sessions_ctx(app: web.Application) -> AsyncIterator[None]:
    """Close sessions a previous run left open; end running ones on shutdown."""
    from server.keys import BROKER, DATABASE, REMOTE, SETTINGS

    db = app[DATABASE]
    now = utcnow()
    closed = await db.write(lambda c: store.end_unfinished(c, now))
    if closed:
        log.info("closed %d remote sessions left open by the previous run", closed)
    root = app[SETTINGS].data_dir / recordings.DIRECTORY
    await close_cut_recordings(db, root)
    seconds = max(1, min(app[SETTINGS].remote_consent_seconds, 600))
    app[REMOTE] = Sessions(db, app[BROKER], consent_seconds=seconds, recordings_dir=root)
    yield


async def close_cut_recordings(db: Database, root: Path) -> None:
    """Store what recordings cut short by a stopped server hold (their files are kept)."""
    rows = await db.read(recordings.unfinished)
    for row in rows:
        size, frames, duration = await asyncio.to_thread(recordings.scan_file,
                                                         root / row.file)
        now = utcnow()

        def close(conn: Any, sid: int = row.session_id, size: int = size,
                  frames: int = frames, duration: int = duration,
                  now: dt.datetime = now) -> None:
            recordings.mark_cut_short(conn, sid, file_bytes=size, frames=frames,
                                      duration_ms=duration, now=now)

        await db.write(close)
    if rows:
        log.info("closed %d recordings cut short by the previous run", len(rows))


async def sessions_shutdown(app: web.Application) -> None:
    """End running sessions before agents are disconnected."""
    from server.keys import REMOTE

    if REMOTE in app:
        await app[REMOTE].close_all()

