"""SQL of script runs: one row per device, and their steps on the ticket's timeline.

The request (one public event for the whole batch) and each run's end (one public event
per device, with the output attached) are on the ticket's timeline as type
``script_run``, so the requester sees what was run on their computer and what it printed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import attachments, devices, users
from server.errors import NotFound
from server.scripts.tables import script_runs, script_versions, scripts
from server.tickets import timeline as ticket_timeline

EVENT_TYPE = "script_run"


def create_batch(conn: Connection, *, batch: str, version_row: Any, ticket_id: int,
                 devices_: list[tuple[int, str]], technician_id: int,
                 parameters: dict[str, str], reason: str, as_root: bool,
                 now: dt.datetime) -> list[int]:
    """Insert one requested run per device and put the request on the timeline."""
    ids = []
    for device_id, _name in devices_:
        ids.append(int(conn.execute(script_runs.insert().values(
            batch=batch, version_id=version_row.id, ticket_id=ticket_id, device_id=device_id,
            technician_id=technician_id, parameters=parameters, reason=reason,
            as_root=as_root, state="requested", end_reason="", truncated=False, stdout="",
            stderr="", created_at=now)).inserted_primary_key[0]))  # type: ignore[index]
    hosts = ", ".join(name for _id, name in devices_)
    root = " as root" if as_root else ""
    ticket_timeline.add_event(
        conn, ticket_id, actor_id=technician_id, type=EVENT_TYPE, public=True, now=now,
        body=f"Running script {version_row.name} (version {version_row.version}){root} "
             f"on {hosts}: {reason}",
        changes={"step": "requested", "batch": batch, "run_ids": ids,
                 "script_id": version_row.script_id, "version": version_row.version,
                 "as_root": as_root, "parameters": parameters})
    return ids


def get_row(conn: Connection, run_id: int) -> Any:
    """Return a run's row with its script, version, device and technician names.

    Raises:
        NotFound: no such run.
    """
    row = conn.execute(
        sa.select(script_runs, script_versions.c.script_id, script_versions.c.version,
                  scripts.c.name.label("script_name"), devices.c.hostname.label("device_name"),
                  users.c.display_name.label("technician_name"),
                  attachments.c.filename.label("attachment_filename"),
                  attachments.c.size.label("attachment_size"))
        .join(script_versions, script_versions.c.id == script_runs.c.version_id)
        .join(scripts, scripts.c.id == script_versions.c.script_id)
        .join(devices, devices.c.id == script_runs.c.device_id)
        .outerjoin(users, users.c.id == script_runs.c.technician_id)
        .outerjoin(attachments, attachments.c.id == script_runs.c.attachment_id)
        .where(script_runs.c.id == run_id)).one_or_none()
    if row is None:
        raise NotFound("no script run with id {run_id}", run_id=run_id)
    return row


def rows_of_ticket(conn: Connection, ticket_id: int) -> list[Any]:
    """Return a ticket's runs, newest first (at most 200)."""
    ids = [r.id for r in conn.execute(
        sa.select(script_runs.c.id).where(script_runs.c.ticket_id == ticket_id)
        .order_by(script_runs.c.id.desc()).limit(200))]
    return [get_row(conn, i) for i in ids]


def set_values(conn: Connection, run_id: int, **values: Any) -> None:
    """Update a run's row."""
    conn.execute(script_runs.update().where(script_runs.c.id == run_id).values(**values))


def finish(conn: Connection, run_id: int, *, body: str, values: dict[str, Any],
           output: tuple[str, str, int] | None, now: dt.datetime) -> None:
    """End a run: store its result, one timeline event, and the output as an attachment.

    ``output`` is (filename, sha256, size) of the stored output file, or None.
    """
    row = get_row(conn, run_id)
    event_id = ticket_timeline.add_event(
        conn, row.ticket_id, actor_id=None, type=EVENT_TYPE, public=True, now=now, body=body,
        changes={"step": "ended", "run_id": run_id, "batch": row.batch,
                 "script_id": row.script_id, "version": row.version,
                 "device_id": row.device_id, "outcome": values.get("outcome"),
                 "exit_code": values.get("exit_code")})
    if output is not None:
        filename, sha256, size = output
        values["attachment_id"] = int(conn.execute(attachments.insert().values(
            ticket_id=row.ticket_id, event_id=event_id, filename=filename,
            content_type="text/plain", size=size, sha256=sha256, public=True,
            uploader_id=None, created_at=now)).inserted_primary_key[0])  # type: ignore[index]
    set_values(conn, run_id, **values)


def unfinished(conn: Connection) -> list[int]:
    """Return the runs a stopped server left open."""
    return [r.id for r in conn.execute(
        sa.select(script_runs.c.id).where(script_runs.c.state != "ended"))]
