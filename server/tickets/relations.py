"""Relations between tickets: related links and merges."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import ticket_devices, ticket_links, tickets
from server.errors import NotFound, ValidationFailed
from server.sla import tracking as sla_tracking
from server.tickets import lifecycle
from server.tickets.reading import get_row
from server.tickets.timeline import add_event


def link(conn: Connection, a: int, b: int, *, actor_id: int | None, now: dt.datetime) -> bool:
    """Relate two tickets both ways; return False if they already were.

    Raises:
        NotFound: either ticket does not exist.
        ValidationFailed: a ticket cannot relate to itself.
    """
    if a == b:
        raise ValidationFailed("a ticket cannot be related to itself", field="ticket_id")
    row_a, row_b = get_row(conn, a), get_row(conn, b)
    exists = conn.execute(sa.select(ticket_links.c.ticket_id).where(
        ticket_links.c.ticket_id == a, ticket_links.c.related_id == b)).first()
    if exists is not None:
        return False
    conn.execute(ticket_links.insert(), [{"ticket_id": a, "related_id": b},
                                         {"ticket_id": b, "related_id": a}])
    add_event(conn, a, actor_id=actor_id, type="linked", public=False, now=now,
              changes={"related": {"before": None, "after": row_b.number}})
    add_event(conn, b, actor_id=actor_id, type="linked", public=False, now=now,
              changes={"related": {"before": None, "after": row_a.number}})
    return True


def unlink(conn: Connection, a: int, b: int, *, actor_id: int | None,
           now: dt.datetime) -> None:
    """Remove the relation between two tickets.

    Raises:
        NotFound: they were not related.
    """
    removed = conn.execute(ticket_links.delete().where(sa.or_(
        sa.and_(ticket_links.c.ticket_id == a, ticket_links.c.related_id == b),
        sa.and_(ticket_links.c.ticket_id == b, ticket_links.c.related_id == a)))).rowcount
    if not removed:
        raise NotFound("tickets {a} and {b} are not related", a=a, b=b)
    add_event(conn, a, actor_id=actor_id, type="unlinked", public=False, now=now,
              changes={"related": {"before": get_row(conn, b).number, "after": None}})


def merge(conn: Connection, source_id: int, target_id: int, *, actor_id: int | None,
          now: dt.datetime) -> None:
    """Merge ``source`` into ``target``: the source closes as a reference to the target.

    Raises:
        ValidationFailed: same ticket, a closed or cancelled one, or different kinds (the
            errors about the target name the field ``into_id``).
    """
    source = get_row(conn, source_id)
    try:
        target = get_row(conn, target_id)
    except NotFound as exc:
        exc.field = "into_id"
        raise
    if source_id == target_id:
        raise ValidationFailed("a ticket cannot be merged into itself", field="into_id")
    for row, field in ((source, None), (target, "into_id")):
        if row.status in lifecycle.FINAL_STATUSES:
            raise ValidationFailed("{number} is {status} and cannot be merged",
                                   code="invalid_transition", number=row.number, status=row.status,
                                   field=field)
    if source.kind != target.kind:
        raise ValidationFailed("cannot merge a {kind} into a {kind2}", kind=source.kind,
                               kind2=target.kind, field="into_id")
    note = f"Merged into {target.number}."
    conn.execute(tickets.update().where(tickets.c.id == source_id).values(
        status="closed", merged_into_id=target_id, resolution_code="merged",
        resolution_note=note, resolved_at=now, closed_at=now, updated_at=now))
    add_event(conn, source_id, actor_id=actor_id, type="merged", public=True, now=now,
              body=note, changes={"status": {"before": source.status, "after": "closed"},
                                  "merged_into": {"before": None, "after": target.number}})
    sla_tracking.on_status(conn, source_id, source.status, "closed", now)
    devices_of_source = [r.device_id for r in conn.execute(
        sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == source_id))]
    have = {r.device_id for r in conn.execute(
        sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == target_id))}
    extra = [d for d in devices_of_source if d not in have]
    if extra:
        conn.execute(ticket_devices.insert(),
                     [{"ticket_id": target_id, "device_id": d} for d in extra])
    add_event(conn, target_id, actor_id=actor_id, type="merged_from", public=True, now=now,
              body=f"{source.number} ({source.title}) was merged into this ticket.",
              changes={"merged_from": {"before": None, "after": source.number}})
    conn.execute(tickets.update().where(tickets.c.id == target_id).values(updated_at=now))
    link(conn, source_id, target_id, actor_id=actor_id, now=now)
