"""SQL for tool sessions and toolbox policies (functions over a Connection).

Every step of a tool session is also an append-only public event on its ticket's
timeline (type ``tool_session``): the requester sees who opened a terminal on their
computer, as whom, and when it ended — never what was typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import devices, groups, tickets, users
from server.errors import NotFound
from server.tickets import timeline as ticket_timeline
from server.toolbox.tables import tool_sessions, toolbox_policies

EVENT_TYPE = "tool_session"
# What the timeline calls each kind of tool ("Requested <it> on <device>").
KIND_TEXT = {"terminal": "a terminal", "processes": "the process list",
             "services": "the services tool", "files": "file access"}


def policy_values(conn: Connection, group_id: int) -> tuple[bool, bool]:
    """Return whether a group allows terminals as root and records terminal transcripts.

    Raises:
        NotFound: no such group.
    """
    if conn.execute(sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise NotFound("no group with id {group_id}", group_id=group_id)
    row = conn.execute(sa.select(toolbox_policies.c.terminal_root,
                                 toolbox_policies.c.record_terminal)
                       .where(toolbox_policies.c.group_id == group_id)).first()
    return (bool(row.terminal_root), bool(row.record_terminal)) if row else (False, False)


def device_policy(conn: Connection, group_id: int | None) -> tuple[bool, bool]:
    """Return (root allowed, transcripts recorded) for a device's group (None: neither)."""
    if group_id is None:
        return False, False
    try:
        return policy_values(conn, group_id)
    except NotFound:
        return False, False


def set_policy(conn: Connection, group_id: int, *, terminal_root: bool | None,
               record_terminal: bool | None, actor_id: int,
               now: dt.datetime) -> tuple[bool, bool]:
    """Store a group's toolbox policy; a value given as None keeps what is stored.

    Raises:
        NotFound: no such group.
    """
    old_root, old_record = policy_values(conn, group_id)
    root = old_root if terminal_root is None else terminal_root
    record = old_record if record_terminal is None else record_terminal
    conn.execute(toolbox_policies.delete().where(toolbox_policies.c.group_id == group_id))
    conn.execute(toolbox_policies.insert().values(group_id=group_id, terminal_root=root,
                                                  record_terminal=record, updated_at=now,
                                                  updated_by=actor_id))
    return root, record


def create_session(conn: Connection, *, ticket_id: int, device_id: int, technician_id: int,
                   kind: str, reason: str, as_root: bool, consent: bool, record: bool,
                   device_name: str, now: dt.datetime, notify: bool = False) -> int:
    """Insert a requested tool session and put the request on the ticket's timeline."""
    session_id = int(conn.execute(tool_sessions.insert().values(
        ticket_id=ticket_id, device_id=device_id, technician_id=technician_id, kind=kind,
        reason=reason, as_root=as_root, state="requested", end_reason="", created_at=now,
        summary={}, transcript="none", transcript_bytes=0)).inserted_primary_key[0])  # type: ignore[index]
    what = KIND_TEXT.get(kind, kind) + (
        (" to the whole file system" if kind == "files" else " as root") if as_root else "")
    how = ("asking the user for consent" if consent else
           "telling the user (group policy)" if notify else "unattended access (group policy)")
    if record:
        how += "; a transcript will be kept"
    ticket_timeline.add_event(
        conn, ticket_id, actor_id=technician_id, type=EVENT_TYPE, public=True, now=now,
        body=f"Requested {what} on {device_name}: {reason} — {how}.",
        changes={"tool_session_id": session_id, "kind": kind, "step": "requested",
                 "as_root": as_root, "consent": consent, "record": record, "notify": notify,
                 "device_id": device_id})
    return session_id


def get_row(conn: Connection, session_id: int) -> Any:
    """Return a tool session's row with its ticket number and device name.

    Raises:
        NotFound: no such session.
    """
    row = conn.execute(
        sa.select(tool_sessions, tickets.c.number.label("ticket_number"),
                  devices.c.hostname.label("device_name"),
                  users.c.display_name.label("technician_name"))
        .join(tickets, tickets.c.id == tool_sessions.c.ticket_id)
        .join(devices, devices.c.id == tool_sessions.c.device_id)
        .outerjoin(users, users.c.id == tool_sessions.c.technician_id)
        .where(tool_sessions.c.id == session_id)).one_or_none()
    if row is None:
        raise NotFound("no tool session with id {session_id}", session_id=session_id)
    return row


def rows_of_ticket(conn: Connection, ticket_id: int) -> list[Any]:
    """Return a ticket's tool-session rows, newest first."""
    ids = [r.id for r in conn.execute(
        sa.select(tool_sessions.c.id).where(tool_sessions.c.ticket_id == ticket_id)
        .order_by(tool_sessions.c.id.desc()).limit(200))]
    return [get_row(conn, i) for i in ids]


def record_step(conn: Connection, session_id: int, *, actor_id: int | None, step: str,
                body: str, now: dt.datetime, values: dict[str, Any] | None = None,
                **changes: Any) -> None:
    """Update a tool session's row and add one timeline event for the step."""
    row = get_row(conn, session_id)
    if values:
        conn.execute(tool_sessions.update().where(tool_sessions.c.id == session_id)
                     .values(**values))
    ticket_timeline.add_event(conn, row.ticket_id, actor_id=actor_id, type=EVENT_TYPE,
                              public=True, now=now, body=body,
                              changes={"tool_session_id": session_id, "kind": row.kind,
                                       "step": step, **changes})


def end_unfinished(conn: Connection, now: dt.datetime) -> int:
    """Close tool sessions left open by a stopped server (at start-up); return how many."""
    open_rows = list(conn.execute(sa.select(tool_sessions.c.id, tool_sessions.c.kind)
                                  .where(tool_sessions.c.state != "ended")))
    open_ids = [r.id for r in open_rows]
    for session_id, kind in open_rows:
        what = KIND_TEXT.get(kind, kind).split(" ", 1)[-1].capitalize()
        record_step(conn, session_id, actor_id=None, step="ended", now=now,
                    body=f"{what} ended: the server stopped.",
                    values={"state": "ended", "outcome": "failed", "ended_by": "server",
                            "end_reason": "server stopped", "ended_at": now},
                    outcome="failed", by="server")
    conn.execute(tool_sessions.update().where(tool_sessions.c.transcript == "recording")
                 .values(transcript="ready"))
    return len(open_ids)
