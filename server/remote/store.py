"""SQL for remote sessions and consent policies (functions over a Connection).

Every step of a session is also an append-only event on its ticket's timeline (type
``remote_session``), public so that the requester sees who looked at their screen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import devices, group_members, groups, ticket_devices, tickets, users
from server.errors import NotFound
from server.remote.tables import remote_policies, remote_recordings, remote_sessions
from server.tickets import timeline as ticket_timeline

EVENT_TYPE = "remote_session"


def group_ids_of(conn: Connection, user_id: int) -> set[int]:
    """Return the groups a user belongs to."""
    return {r.group_id for r in conn.execute(
        sa.select(group_members.c.group_id).where(group_members.c.user_id == user_id))}


def linked_devices(conn: Connection, ticket_id: int) -> list[Any]:
    """Return the devices linked to a ticket (id, hostname, group_id, revoked_at)."""
    return list(conn.execute(
        sa.select(devices.c.id, devices.c.hostname, devices.c.group_id, devices.c.revoked_at)
        .join(ticket_devices, ticket_devices.c.device_id == devices.c.id)
        .where(ticket_devices.c.ticket_id == ticket_id).order_by(devices.c.id)))


def unattended_groups(conn: Connection) -> set[int]:
    """Return the groups whose devices allow unattended access."""
    return {r.group_id for r in conn.execute(
        sa.select(remote_policies.c.group_id).where(remote_policies.c.unattended.is_(True)))}


def recording_groups(conn: Connection) -> set[int]:
    """Return the groups whose devices' sessions are recorded."""
    return {r.group_id for r in conn.execute(
        sa.select(remote_policies.c.group_id).where(remote_policies.c.record.is_(True)))}


def get_policy(conn: Connection, group_id: int) -> bool:
    """Return whether a group allows unattended access.

    Raises:
        NotFound: no such group.
    """
    return get_policy_values(conn, group_id)[0]


def get_policy_values(conn: Connection, group_id: int) -> tuple[bool, bool]:
    """Return whether a group allows unattended access and whether it records sessions.

    Raises:
        NotFound: no such group.
    """
    if conn.execute(sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise NotFound("no group with id {group_id}", group_id=group_id)
    row = conn.execute(sa.select(remote_policies.c.unattended, remote_policies.c.record)
                       .where(remote_policies.c.group_id == group_id)).first()
    return (bool(row.unattended), bool(row.record)) if row is not None else (False, False)


def set_policy(conn: Connection, group_id: int, unattended: bool | None, *, actor_id: int,
               now: dt.datetime, record: bool | None = None) -> tuple[bool, bool]:
    """Store a group's policy; a value given as None keeps what is stored. Return both.

    Raises:
        NotFound: no such group.
    """
    old_unattended, old_record = get_policy_values(conn, group_id)
    unattended = old_unattended if unattended is None else unattended
    record = old_record if record is None else record
    conn.execute(remote_policies.delete().where(remote_policies.c.group_id == group_id))
    conn.execute(remote_policies.insert().values(group_id=group_id, unattended=unattended,
                                                 record=record, updated_at=now,
                                                 updated_by=actor_id))
    return unattended, record


def create_session(conn: Connection, *, ticket_id: int, device_id: int, technician_id: int,
                   mode: str, reason: str, consent: bool, device_name: str,
                   now: dt.datetime, record: bool = False, record_note: str = "") -> int:
    """Insert a requested session and put the request on the ticket's timeline."""
    session_id = int(conn.execute(remote_sessions.insert().values(
        ticket_id=ticket_id, device_id=device_id, technician_id=technician_id, mode=mode,
        reason=reason, state="requested", end_reason="", created_at=now,
        summary={})).inserted_primary_key[0])  # type: ignore[index]
    how = "asking the user for consent" if consent else "unattended access (group policy)"
    if record:
        how += "; the session will be recorded"
    elif record_note:
        how += f"; {record_note}"
    ticket_timeline.add_event(
        conn, ticket_id, actor_id=technician_id, type=EVENT_TYPE, public=True, now=now,
        body=f"Requested a remote session ({mode}) on {device_name}: {reason} — {how}.",
        # The body in words for old readers; the console says it in the reader's language
        # from these values.
        changes={"session_id": session_id, "step": "requested", "mode": mode,
                 "device_id": device_id, "consent": consent, "record": record,
                 "device_name": device_name, "reason": reason,
                 "not_recorded": bool(record_note) and not record})
    return session_id


def display_name(conn: Connection, user_id: int) -> str:
    """Return a user's display name."""
    row = conn.execute(sa.select(users.c.display_name).where(users.c.id == user_id)).first()
    return str(row.display_name) if row is not None else f"user {user_id}"


def ticket_ref(conn: Connection, ticket_id: int) -> Any:
    """Return a ticket's number and requester id (for the live feed)."""
    return conn.execute(sa.select(tickets.c.number, tickets.c.requester_id)
                        .where(tickets.c.id == ticket_id)).one()


def get_row(conn: Connection, session_id: int) -> Any:
    """Return a session row joined with its ticket number and device name.

    Raises:
        NotFound: no such session.
    """
    row = conn.execute(
        sa.select(remote_sessions, tickets.c.number.label("ticket_number"),
                  tickets.c.assignee_id, tickets.c.group_id.label("ticket_group_id"),
                  tickets.c.status.label("ticket_status"),
                  devices.c.hostname.label("device_name"),
                  users.c.display_name.label("technician_name"),
                  remote_recordings.c.state.label("rec_state"),
                  remote_recordings.c.bytes.label("rec_bytes"),
                  remote_recordings.c.duration_ms.label("rec_duration_ms"),
                  remote_recordings.c.frames.label("rec_frames"),
                  remote_recordings.c.dropped_frames.label("rec_dropped_frames"),
                  remote_recordings.c.gaps.label("rec_gaps"),
                  remote_recordings.c.complete.label("rec_complete"),
                  remote_recordings.c.error.label("rec_error"),
                  remote_recordings.c.deleted_at.label("rec_deleted_at"),
                  remote_recordings.c.delete_reason.label("rec_delete_reason"))
        .join(tickets, tickets.c.id == remote_sessions.c.ticket_id)
        .join(devices, devices.c.id == remote_sessions.c.device_id)
        .outerjoin(users, users.c.id == remote_sessions.c.technician_id)
        .outerjoin(remote_recordings, remote_recordings.c.session_id == remote_sessions.c.id)
        .where(remote_sessions.c.id == session_id)).one_or_none()
    if row is None:
        raise NotFound("no remote session with id {session_id}", session_id=session_id)
    return row


def rows_of_ticket(conn: Connection, ticket_id: int) -> list[Any]:
    """Return a ticket's session rows, newest first."""
    ids = [r.id for r in conn.execute(
        sa.select(remote_sessions.c.id).where(remote_sessions.c.ticket_id == ticket_id)
        .order_by(remote_sessions.c.id.desc()).limit(200))]
    return [get_row(conn, i) for i in ids]


def record_step(conn: Connection, session_id: int, *, actor_id: int | None, step: str,
                body: str, now: dt.datetime, values: dict[str, Any] | None = None,
                **changes: Any) -> None:
    """Update a session's row and add one timeline event for the step."""
    row = get_row(conn, session_id)
    if values:
        conn.execute(remote_sessions.update().where(remote_sessions.c.id == session_id)
                     .values(**values))
    ticket_timeline.add_event(conn, row.ticket_id, actor_id=actor_id, type=EVENT_TYPE, public=True,
                              now=now, body=body,
                              changes={"session_id": session_id, "step": step, **changes})


def end_unfinished(conn: Connection, now: dt.datetime) -> int:
    """Close sessions left open by a stopped server (at start-up); return how many."""
    open_ids = [r.id for r in conn.execute(
        sa.select(remote_sessions.c.id).where(remote_sessions.c.state != "ended"))]
    for session_id in open_ids:
        record_step(conn, session_id, actor_id=None, step="ended", now=now,
                    body="Remote session ended: the server stopped.",
                    values={"state": "ended", "outcome": "failed", "ended_by": "server",
                            "end_reason": "server stopped", "ended_at": now},
                    outcome="failed", by="server")
    return len(open_ids)
