"""A live tool session's relay: its viewers (bounded queues) and its transcript file.

Terminal output cannot be skipped like a screen frame (a terminal that missed bytes
draws garbage), so a viewer that falls more than :data:`MAX_BACKLOG` characters behind
is closed with a logged reason; the agent and the other viewers never wait for it.
The transcript is an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/)
of what the terminal printed — never what was typed, so passwords typed without echo
stay out of it — written on a thread, in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from server.agents.hub import AgentLink

log = logging.getLogger("deskmate.toolbox")

MAX_BACKLOG = 1024 * 1024  # characters queued for one viewer before it is dropped
MAX_TRANSCRIPT = 32 * 1024 * 1024  # bytes of one transcript; beyond, it is cut
FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 1.0
DIRECTORY = "transcripts"


def transcript_name(session_id: int) -> str:
    """Return the file name of a session's transcript."""
    return f"{session_id}.cast"


@dataclass(eq=False)
class ToolViewer:
    """One person's socket on a tool session."""

    user_id: int
    name: str
    ws: web.WebSocketResponse
    conn_id: str
    controller: bool = False  # may type and resize (the technician who opened it)
    texts: deque[str] = field(default_factory=deque)
    queued: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False
    close_code: int = 1000
    close_reason: str = ""

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a message; a viewer too far behind is closed instead."""
        if self.closing:
            return
        text = json.dumps(payload, ensure_ascii=False)
        if self.queued + len(text) > MAX_BACKLOG:
            log.warning("%s: viewer %d characters behind; closing", self.conn_id, self.queued)
            self.close(1008, "too slow")
            return
        self.texts.append(text)
        self.queued += len(text)
        self.wake.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the writer to send what is queued, then close."""
        if self.closing:
            return
        self.closing = True
        self.close_code, self.close_reason = code, reason
        self.wake.set()

    async def writer(self) -> None:
        """Send queued messages in order until closed."""
        ws = self.ws
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while self.texts:
                    text = self.texts.popleft()
                    self.queued -= len(text)
                    await ws.send_str(text)
                if self.closing:
                    break
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await ws.close(code=self.close_code, message=self.close_reason.encode())


class Transcript:
    """An asciicast v2 file of a terminal's output, written in batches on a thread."""

    def __init__(self, path: Path, *, cols: int, rows: int, title: str) -> None:
        self.path = path
        self.started = time.monotonic()
        self.bytes = 0
        self.cut = False
        self.error: str | None = None
        self._lines: list[str] = [json.dumps({
            "version": 2, "width": cols, "height": rows,
            "timestamp": int(dt.datetime.now(dt.UTC).timestamp()), "title": title,
            "env": {"TERM": "xterm-256color"}}, ensure_ascii=False) + "\n"]
        self._pending = len(self._lines[0])
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def _event(self, code: str, data: str) -> None:
        if self.cut or self.error is not None:
            return
        line = json.dumps([round(time.monotonic() - self.started, 4), code, data],
                          ensure_ascii=False) + "\n"
        if self.bytes + self._pending + len(line) > MAX_TRANSCRIPT:
            self.cut = True
            line = json.dumps([round(time.monotonic() - self.started, 4), "o",
                               "\r\n[transcript cut: size limit reached]\r\n"]) + "\n"
        self._lines.append(line)
        self._pending += len(line)
        if self._pending >= FLUSH_BYTES:
            self._schedule(0)
        elif self._task is None:
            self._schedule(FLUSH_SECONDS)

    def output(self, data: str) -> None:
        """Record what the terminal printed."""
        self._event("o", data)

    def resize(self, cols: int, rows: int) -> None:
        """Record a new terminal size."""
        self._event("r", f"{cols}x{rows}")

    def _schedule(self, delay: float) -> None:
        if self._task is not None and not self._task.done():
            if delay:
                return
        self._task = asyncio.get_running_loop().create_task(self._flush_later(delay))

    async def _flush_later(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.flush()

    async def flush(self) -> None:
        """Write what is pending."""
        async with self._lock:
            lines, self._lines, self._pending = self._lines, [], 0
            if not lines or self.error is not None:
                return
            data = "".join(lines).encode()
            try:
                await asyncio.to_thread(_append, self.path, data)
                self.bytes += len(data)
            except OSError as exc:
                self.error = exc.strerror or str(exc)
                log.warning("transcript %s failed: %s", self.path.name, self.error)

    async def close(self) -> int:
        """Write the rest; return the file's size."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()
        return self.bytes


def _append(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@dataclass(eq=False)
class LiveTool:
    """A tool session the server is relaying."""

    id: int
    ticket_id: int
    ticket_number: str
    device_id: int
    device_name: str
    technician_id: int
    technician_name: str
    link: AgentLink
    kind: str = "terminal"
    as_root: bool = False
    record: bool = False
    consent: bool = True
    notify: bool = False  # the user is told, not asked (the group's toolbox policy)
    state: str = "requested"  # requested | active | ended
    account: str = ""
    cols: int = 80
    rows: int = 24
    started: float = 0.0
    created: float = field(default_factory=time.monotonic)
    viewers: set[ToolViewer] = field(default_factory=set)
    watchers: set[str] = field(default_factory=set)
    chars_out: int = 0
    chars_in: int = 0
    inputs: int = 0
    resizes: int = 0
    transcript: Transcript | None = None
    timer: asyncio.TimerHandle | None = None
    # The process and services tools (server/toolbox/system.py): the agent's latest list,
    # and the calls waiting for the agent's result, by call number.
    snapshot: Any = None
    calls: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    actions: int = 0

    def status(self) -> dict[str, Any]:
        """Return the status message viewers get on every change."""
        return {"type": "status", "session": self.id, "state": self.state, "kind": self.kind,
                "account": self.account, "as_root": self.as_root,
                "recorded": self.transcript is not None, "cols": self.cols, "rows": self.rows,
                "viewers": sorted(v.name for v in self.viewers)}

    def broadcast(self) -> None:
        """Send the status to every viewer."""
        status = self.status()
        for viewer in list(self.viewers):
            viewer.send(status)

    def output(self, data: str) -> None:
        """Pass the terminal's output to every viewer and the transcript."""
        self.chars_out += len(data)
        message = {"type": "output", "data": data}
        for viewer in list(self.viewers):
            viewer.send(message)
        if self.transcript is not None:
            self.transcript.output(data)

    def summary(self) -> dict[str, Any]:
        """Return the totals kept on the session row when it ends."""
        seconds = time.monotonic() - self.started if self.started else 0.0
        return {"duration_seconds": round(seconds, 1), "watchers": sorted(self.watchers),
                "account": self.account, "as_root": self.as_root, "inputs": self.inputs,
                "chars_in": self.chars_in, "chars_out": self.chars_out,
                "resizes": self.resizes}
