"""SQL and files of session recordings: start, finish, delete, and retention.

A recording's row stays when its file goes (deleted by an admin or by retention), so the
session keeps its totals and says when and why the file went. Every deletion is written
to the audit log and, publicly, to the ticket's timeline (the requester sees it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.errors import Conflict, NotFound
from server.remote import recfile, store
from server.remote.recorder import RecordingStats
from server.remote.tables import remote_recordings

if TYPE_CHECKING:
    from server.db.database import Database

log = logging.getLogger("deskmate.remote")

DIRECTORY = "recordings"  # under the data directory
RETENTION_CHUNK = 200  # recordings deleted per transaction


def file_name(session_id: int) -> str:
    """Return the file name of a session's recording."""
    return f"{session_id}{recfile.SUFFIX}"


def start(conn: Connection, session_id: int, *, now: dt.datetime) -> None:
    """Insert the row of a recording that starts now."""
    conn.execute(remote_recordings.insert().values(
        session_id=session_id, file=file_name(session_id), state="recording", started_at=now,
        bytes=0, duration_ms=0, frames=0, dropped_frames=0, gaps=0, complete=False))


def finish(conn: Connection, session_id: int, stats: RecordingStats, *,
           now: dt.datetime) -> None:
    """Store a closed recording's totals."""
    state = "failed" if stats.error is not None and stats.frames == 0 else "ready"
    conn.execute(remote_recordings.update().where(
        remote_recordings.c.session_id == session_id).values(
        state=state, ended_at=now, bytes=stats.file_bytes, duration_ms=stats.duration_ms,
        frames=stats.frames, dropped_frames=stats.dropped_frames, gaps=stats.gaps,
        complete=stats.complete, error=stats.error))


def get(conn: Connection, session_id: int) -> Any:
    """Return a session's recording row, or None."""
    return conn.execute(sa.select(remote_recordings).where(
        remote_recordings.c.session_id == session_id)).one_or_none()


def unfinished(conn: Connection) -> list[Any]:
    """Return recordings a stopped server left in the ``recording`` state."""
    return list(conn.execute(sa.select(remote_recordings).where(
        remote_recordings.c.state == "recording")))


def scan_file(path: Path) -> tuple[int, int, int]:
    """Return (bytes, frames, duration_ms) of what a recording file holds (thread)."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0, 0, 0
    try:
        recording = recfile.parse(data)
    except recfile.RecordingError:
        return len(data), 0, 0
    last = recording.records[-1].offset_ms if recording.records else 0
    return len(data), len(recording.records), last


def mark_cut_short(conn: Connection, session_id: int, *, file_bytes: int, frames: int,
                   duration_ms: int, now: dt.datetime) -> None:
    """Close the row of a recording cut short by a stopped server."""
    conn.execute(remote_recordings.update().where(
        remote_recordings.c.session_id == session_id).values(
        state="ready" if frames else "failed", ended_at=now, bytes=file_bytes,
        duration_ms=duration_ms, frames=frames, complete=False,
        error="the server stopped while recording"))


def for_deletion(conn: Connection, session_id: int) -> Any:
    """Return the row of a recording that can be deleted now.

    Raises:
        NotFound: the session has no recording, or it is already deleted.
        Conflict: the session is still being recorded.
    """
    row = get(conn, session_id)
    if row is None or row.state == "deleted":
        raise NotFound("remote session {session_id} has no recording", session_id=session_id)
    if row.state == "recording":
        raise Conflict("the session is still being recorded; end it first",
                       code="recording_in_progress")
    return row


def mark_deleted(conn: Connection, session_id: int, *, actor_id: int | None, reason: str,
                 now: dt.datetime, actor_name: str = "") -> None:
    """Mark a recording deleted; audit it and say so on the ticket's timeline."""
    from server.users import store as audit

    row = get(conn, session_id)
    if row is None or row.state == "deleted":
        return
    conn.execute(remote_recordings.update().where(
        remote_recordings.c.session_id == session_id).values(
        state="deleted", deleted_at=now, deleted_by=actor_id, delete_reason=reason))
    audit.record(conn, actor_id=actor_id, action="remote_recording.delete",
                 target_type="remote_session", target_id=session_id, now=now, reason=reason,
                 bytes=row.bytes, recorded_at=row.started_at.isoformat())
    why = (f"deleted by {actor_name}" if reason == "admin"
           else "deleted: its retention period ended")
    store.record_step(conn, session_id, actor_id=actor_id, step="recording_deleted", now=now,
                      body=f"The recording of the remote session was {why}.", reason=reason)


def expired(conn: Connection, *, before: dt.datetime, limit: int) -> list[Any]:
    """Return recordings that ended before ``before`` and still have a file."""
    return list(conn.execute(
        sa.select(remote_recordings.c.session_id, remote_recordings.c.file)
        .where(remote_recordings.c.state.in_(("ready", "failed")),
               remote_recordings.c.ended_at < before)
        .order_by(remote_recordings.c.ended_at).limit(limit)))


def delete_file(root: Path, name: str) -> None:
    """Remove a recording's file (thread); a file already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        (root / Path(name).name).unlink()


async def expire(db: Database, root: Path, *, days: int, now: dt.datetime) -> int:
    """Delete recordings that ended more than ``days`` ago (0: keep them); return how many."""
    if days <= 0:
        return 0
    before = now - dt.timedelta(days=days)
    total = 0
    while True:  # in chunks: other writes go in between
        rows = await db.read(lambda c: expired(c, before=before, limit=RETENTION_CHUNK))
        for row in rows:
            await asyncio.to_thread(delete_file, root, row.file)

        def mark(conn: Connection, rows: list[Any] = rows) -> None:
            for row in rows:
                mark_deleted(conn, row.session_id, actor_id=None, reason="retention", now=now)

        await db.write(mark)
        total += len(rows)
        if len(rows) < RETENTION_CHUNK:
            break
    if total:
        log.info("deleted %d session recordings older than %d days", total, days)
    return total
