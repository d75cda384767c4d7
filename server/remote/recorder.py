"""Writing one session's recording: the relay queues frames, a thread writes them.

The relay calls :meth:`Recorder.offer` on the event loop for every frame it forwards:
a queue put, nothing else, so recording never slows the agent or the viewers. A thread
of the recording's own opens the file (mode 0600 under ``<data>/recordings``) and writes
the records (format in :mod:`server.remote.recfile`). The queue is bounded by bytes: if
the disk falls behind by more than :data:`BACKLOG_BYTES`, frames are left out rather
than waited for, the gap is counted in the totals, and the recording resumes at the next
key frame (a delta after a gap could not be drawn), for which the relay asks the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.remote import recfile
from shared import screen

log = logging.getLogger("deskmate.remote")

BACKLOG_BYTES = 32 * 1024 * 1024  # frames waiting for the disk before they are left out
FILE_BUFFER = 256 * 1024


@dataclass(frozen=True)
class RecordingStats:
    """What a closed recording holds, for the session record and the timeline."""

    file_bytes: int
    duration_ms: int
    frames: int
    dropped_frames: int
    gaps: int
    max_backlog_bytes: int
    complete: bool
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the totals as plain values."""
        return {"bytes": self.file_bytes, "duration_ms": self.duration_ms,
                "frames": self.frames, "dropped_frames": self.dropped_frames,
                "gaps": self.gaps, "max_backlog_bytes": self.max_backlog_bytes,
                "complete": self.complete, "error": self.error}


class Recorder:
    """The recording of one session: :meth:`offer` frames, then :meth:`close` once."""

    def __init__(self, path: Path, meta: dict[str, Any], *,
                 backlog_limit: int = BACKLOG_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.backlog_limit = backlog_limit
        self._clock = clock
        self.started = clock()
        self.started_at = dt.datetime.now(dt.UTC)
        self._queue: queue.SimpleQueue[tuple[int, bytes] | None] = queue.SimpleQueue()
        # Each counter has one writer: the loop (offer, close) or the thread (_run).
        self.queued_bytes = 0
        self.frames = 0
        self.dropped = 0
        self.gaps = 0
        self.max_backlog = 0
        self.need_key = True  # a recording starts with a key frame, and resumes with one
        self.closed = False
        self.duration_ms = 0
        self.written_bytes = 0  # thread
        self.file_bytes = 0  # thread
        self.error: str | None = None  # thread
        self.complete = False  # thread
        head = recfile.header_line({**meta, "started_at": self.started_at.isoformat()})
        self._thread = threading.Thread(target=self._run, args=(head,), daemon=True,
                                        name=f"recording-{path.stem}")
        self._thread.start()

    def _ms(self) -> int:
        return int((self._clock() - self.started) * 1000)

    @property
    def backlog(self) -> int:
        """Return the bytes of frames queued and not yet written."""
        return self.queued_bytes - self.written_bytes

    def offer(self, data: bytes, header: screen.FrameHeader) -> bool:
        """Queue a frame the relay forwards; return False if a key frame is needed."""
        if self.closed or self.error is not None:
            return True
        if self.need_key and not header.key:
            self.dropped += 1  # a delta cannot be drawn without what came before it
            return False
        backlog = self.backlog + len(data)
        if backlog > self.backlog_limit:
            self.dropped += 1
            if not self.need_key:
                self.gaps += 1
                log.warning("recording %s: the disk is %d bytes behind; leaving frames out "
                            "until the next key frame", self.path.name, self.backlog)
            self.need_key = True
            return False
        self.need_key = False
        self.queued_bytes += len(data)
        self.max_backlog = max(self.max_backlog, backlog)
        self.frames += 1
        self._queue.put((self._ms(), data))
        return True

    def live_stats(self) -> RecordingStats:
        """Return the totals so far (while recording)."""
        return RecordingStats(file_bytes=self.file_bytes, duration_ms=self._ms(),
                              frames=self.frames, dropped_frames=self.dropped, gaps=self.gaps,
                              max_backlog_bytes=self.max_backlog, complete=False,
                              error=self.error)

    async def close(self) -> RecordingStats:
        """Stop recording, wait for the thread to write what is queued, and return totals."""
        if not self.closed:
            self.closed = True
            self.duration_ms = self._ms()
            self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        return RecordingStats(file_bytes=self.file_bytes, duration_ms=self.duration_ms,
                              frames=self.frames, dropped_frames=self.dropped, gaps=self.gaps,
                              max_backlog_bytes=self.max_backlog, complete=self.complete,
                              error=self.error)

    # --- the writer thread ----------------------------------------------------------

    def _fail(self, exc: OSError) -> None:
        self.error = (exc.strerror or str(exc))[:200]
        log.error("recording %s failed: %s", self.path.name, exc)

    def _run(self, head: bytes) -> None:
        fh = None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            fh = open(fd, "wb", buffering=FILE_BUFFER)  # closed below
            fh.write(head)
            self.file_bytes = len(head)
        except OSError as exc:
            self._fail(exc)
        while True:
            item = self._queue.get()
            if item is None:
                break
            offset_ms, data = item
            if fh is not None:
                try:
                    fh.write(recfile.record_head(offset_ms, len(data)))
                    fh.write(data)
                    self.file_bytes += recfile.RECORD.size + len(data)
                    if self._queue.empty():
                        fh.flush()  # idle: let the file on disk catch up with the stream
                except OSError as exc:
                    self._fail(exc)
                    with contextlib.suppress(OSError):
                        fh.close()
                    fh = None
            self.written_bytes += len(data)
        if fh is None:
            return
        try:
            totals = {"frames": self.frames, "dropped_frames": self.dropped,
                      "gaps": self.gaps, "max_backlog_bytes": self.max_backlog}
            tail = recfile.end_record(self.duration_ms, totals)
            fh.write(tail)
            fh.flush()
            os.fsync(fh.fileno())
            self.file_bytes += len(tail)
            self.complete = True
        except OSError as exc:
            self._fail(exc)
        finally:
            with contextlib.suppress(OSError):
                fh.close()
