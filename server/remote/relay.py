"""The frame relay: one live session, its viewers, and their bounded queues.

Frames from the agent go to every viewer without being decoded. Each viewer has its own
writer task and a queue of at most :data:`FRAME_QUEUE` frames. A frame is a delta over
the previous one, so a viewer whose queue overflows cannot simply lose frames: its
queue is emptied, it is marked out of step, and the agent is asked for a key frame,
which only the viewers out of step receive. Nothing a viewer does can make the agent or
another viewer wait (latency first, see docs/protocol.md section 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from shared import protocol as p
from shared import screen

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.remote.recorder import Recorder

log = logging.getLogger("deskmate.remote")

FRAME_QUEUE = 3  # frames waiting for one viewer; more means it is behind: resync it
TEXT_QUEUE = 64  # status messages waiting for one viewer; more and it is dropped
KEY_RETRY = 1.0  # seconds before a key-frame request not yet answered is sent again


@dataclass(eq=False)
class Viewer:
    """One technician's viewer connection."""

    user_id: int
    name: str
    ws: web.WebSocketResponse
    conn_id: str
    controller: bool = False
    synced: bool = False  # has every frame since its last key frame
    frames: deque[bytes] = field(default_factory=deque)
    texts: deque[str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False
    close_code: int = 1000
    close_reason: str = ""
    frames_sent: int = 0
    frames_dropped: int = 0

    def offer_frame(self, data: bytes) -> bool:
        """Queue a frame; on overflow drop the backlog and return False (resync needed)."""
        if self.closing:
            return True
        if len(self.frames) >= FRAME_QUEUE:
            self.frames_dropped += len(self.frames) + 1
            self.frames.clear()
            self.synced = False
            return False
        self.frames.append(data)
        self.wake.set()
        return True

    def send_text(self, payload: dict[str, Any]) -> None:
        """Queue a status message; a viewer that cannot take even those is closed."""
        if self.closing:
            return
        if len(self.texts) >= TEXT_QUEUE:
            log.warning("%s: viewer too slow for status messages; closing", self.conn_id)
            self.close(1008, "too slow")
            return
        self.texts.append(json.dumps(payload))
        self.wake.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the writer to send what is queued as text, then close."""
        if self.closing:
            return
        self.closing = True
        self.close_code, self.close_reason = code, reason
        self.frames.clear()
        self.wake.set()

    async def writer(self) -> None:
        """Send queued status messages first, then frames, until closed."""
        ws = self.ws
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while self.texts:
                    await ws.send_str(self.texts.popleft())
                while self.frames and not self.closing:
                    await ws.send_bytes(self.frames.popleft())
                    self.frames_sent += 1
                    if self.texts:
                        break  # status first
                if self.texts or self.frames:
                    self.wake.set()
                if self.closing and not self.texts:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            ws.close(code=self.close_code,
                                     message=self.close_reason.encode()), 2)
                    return
        except (ConnectionResetError, RuntimeError):
            return


@dataclass(eq=False)
class LiveSession:
    """A session the server is running: its agent link, viewers and counters."""

    id: int
    ticket_id: int
    ticket_number: str
    device_id: int
    technician_id: int
    technician_name: str
    mode: str
    link: AgentLink
    state: str = "requested"
    consent: bool = True  # the server asks the user (group policy); never the agent's word
    pending_mode: str | None = None
    monitors: list[dict[str, int]] = field(default_factory=list)
    viewers: set[Viewer] = field(default_factory=set)
    watchers: set[str] = field(default_factory=set)  # names of everyone who watched
    started: float = 0.0  # time.monotonic() when active
    frames: int = 0
    key_frames: int = 0
    bytes_relayed: int = 0
    input_events: int = 0
    mode_changes: int = 0
    bad_frames: int = 0
    best_ack: int = -1
    last_seq: int = -1
    key_pending_since: float | None = None
    quality: int = 0
    monitor: int = 0
    timer: asyncio.TimerHandle | None = None
    device_name: str = ""
    record: bool = False  # the session is to be recorded (group policy, agent can say so)
    recorder: Recorder | None = None  # while it is recorded
    clipboard: bool = False  # the agent offers clipboard text (capability "clipboard")
    clipboard_transfers: int = 0  # both directions, refused-after-recording included
    clipboard_to_device: int = 0
    clipboard_from_device: int = 0
    clipboard_bytes: int = 0

    def status(self) -> dict[str, Any]:
        """Return the status message viewers receive on every change."""
        return {"type": "status", "session": self.id, "state": self.state, "mode": self.mode,
                "pending_mode": self.pending_mode, "monitors": self.monitors,
                "monitor": self.monitor, "quality": self.quality,
                "viewers": sorted(v.name for v in self.viewers), "clipboard": self.clipboard}

    def broadcast(self, payload: dict[str, Any] | None = None) -> None:
        """Send a status message (the current status by default) to every viewer."""
        message = payload if payload is not None else self.status()
        for viewer in list(self.viewers):
            viewer.send_text(message)

    def request_key_frame(self, *, now: float | None = None) -> None:
        """Ask the agent for a key frame unless one was asked for very recently."""
        if self.state != "active":
            return
        now = time.monotonic() if now is None else now
        if self.key_pending_since is not None and now - self.key_pending_since < KEY_RETRY:
            return
        self.key_pending_since = now
        self.link.send(p.encode(p.SessionKeyFrame(session=self.id)))

    def relay(self, data: bytes) -> screen.FrameHeader:
        """Forward one frame from the agent to the viewers that can use it.

        Raises:
            FrameError: the frame is malformed (it is not forwarded).
        """
        try:
            header = screen.read_header(data)
        except screen.FrameError:
            self.bad_frames += 1
            raise
        self.frames += 1
        self.bytes_relayed += len(data)
        self.last_seq = header.seq
        if header.key:
            self.key_frames += 1
            self.key_pending_since = None
        behind = False
        for viewer in self.viewers:
            if header.key:
                # A key frame sent beside a delta of the same seq (REFRESH) is only for
                # viewers out of step; a plain key frame (first frame, new monitor) for all.
                if viewer.synced and header.flags & screen.FLAG_REFRESH:
                    continue
                viewer.frames.clear()
                viewer.synced = viewer.offer_frame(data)
            elif viewer.synced:
                if not viewer.offer_frame(data):
                    behind = True
            else:
                behind = True
        # The recording takes the same bytes; it too needs a key frame after a gap.
        if self.recorder is not None and not self.recorder.offer(data, header):
            behind = True
        if behind:
            self.request_key_frame()
        return header

    def ack(self, seq: int) -> None:
        """A viewer drew frame ``seq``: pass the newest such ack on to the agent."""
        if seq > self.best_ack and seq <= self.last_seq:
            self.best_ack = seq
            self.link.send(p.encode(p.FrameAcked(session=self.id, seq=seq)))

    def summary(self) -> dict[str, Any]:
        """Return the counters that go into the session record."""
        duration = time.monotonic() - self.started if self.started else 0.0
        return {"duration_seconds": round(duration, 1), "watchers": sorted(self.watchers),
                "frames": self.frames, "key_frames": self.key_frames, "bytes": self.bytes_relayed,
                "input_events": self.input_events, "mode_changes": self.mode_changes,
                "final_mode": self.mode, "bad_frames": self.bad_frames,
                "clipboard_to_device": self.clipboard_to_device,
                "clipboard_from_device": self.clipboard_from_device,
                "clipboard_bytes": self.clipboard_bytes}
