"""Tickets raised on a device: the reported login kept, the device linked, files attached.

The requester is whoever the reported login is bound to on the device (by staff or by the
group's rule), never simply the user of that name (:mod:`server.devices.bindings`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import agent_tickets, attachments
from server.devices import bindings, logins
from server.tickets import creation, reading, timeline
from server.tickets.attachments import safe_filename, sniff, store_path
from server.tickets.priority import priority_for
from shared import protocol as p


@dataclass(frozen=True)
class AgentFile:
    """A decoded, checked file from a ticket message."""

    filename: str
    content_type: str
    sha256: str
    data: bytes


def decode_files(message: p.TicketRequest, *, limit: int) -> list[AgentFile]:
    """Decode and check the files of a ticket message.

    Raises:
        ProtocolError: bad base64, an empty or oversized file, or an unaccepted type.
    """
    files = []
    for item in message.files:
        try:
            data = base64.b64decode(item.data, validate=True)
        except binascii.Error as exc:
            raise p.ProtocolError(p.INVALID_MESSAGE, f"file {item.filename!r} is not base64",
                                  msg_id=message.id) from exc
        if not data or len(data) > limit:
            raise p.ProtocolError(p.INVALID_MESSAGE, f"file {item.filename!r} must have 1 to "
                                  f"{limit} bytes", msg_id=message.id)
        kind = sniff(data[:512])
        if kind is None:
            raise p.ProtocolError(p.INVALID_MESSAGE, f"file {item.filename!r} is not an "
                                  "accepted type", msg_id=message.id)
        files.append(AgentFile(filename=safe_filename(item.filename), content_type=kind,
                               sha256=hashlib.sha256(data).hexdigest(), data=data))
    return files


def write_files(root: Path, files: list[AgentFile]) -> None:
    """Store file contents by digest (blocking: run in a thread)."""
    for f in files:
        target = store_path(root, f.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(f.data)
            tmp.replace(target)


def create_from_agent(conn: Connection, *, device_id: int, message: p.TicketRequest,
                      files: list[AgentFile], matrix: Any, now: dt.datetime) -> tuple[int, str]:
    """Create the ticket once per message id; return (ticket id, number)."""
    seen = conn.execute(sa.select(agent_tickets.c.ticket_id).where(
        agent_tickets.c.device_id == device_id,
        agent_tickets.c.report_id == message.id)).first()
    if seen is not None:
        row = reading.get_row(conn, seen.ticket_id)
        return int(row.id), str(row.number)
    logins.seen(conn, device_id, [message.requester_login], now)  # may bind by rule
    requester_id = bindings.requester_for(conn, device_id, message.requester_login, now)
    impact, urgency = 3, (2 if message.help_now else 3)
    ticket_id = creation.create_ticket(conn, creation.NewTicket(
        kind="incident", title=message.title, description=message.description, impact=impact,
        urgency=urgency, priority=priority_for(impact, urgency, matrix), category_id=None,
        requester_id=requester_id, assignee_id=None, group_id=None, device_ids=[device_id],
        tags=["help-now"] if message.help_now else [], source="tray",
        reported_device_id=device_id, reported_login=message.requester_login),
        actor_id=requester_id, now=now)
    for f in files:
        event_id = timeline.add_event(conn, ticket_id, actor_id=requester_id, type="attachment",
                                      public=True, now=now,
                                      changes={"attachment": {"filename": f.filename,
                                                              "size": len(f.data)}})
        conn.execute(attachments.insert().values(
            ticket_id=ticket_id, event_id=event_id, filename=f.filename,
            content_type=f.content_type, size=len(f.data), sha256=f.sha256, public=True,
            uploader_id=requester_id, created_at=now))
    conn.execute(agent_tickets.insert().values(device_id=device_id, report_id=message.id,
                                               ticket_id=ticket_id))
    row = reading.get_row(conn, ticket_id)
    return ticket_id, str(row.number)
