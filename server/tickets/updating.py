"""Change tickets under the lifecycle's rules, and close resolved ones after a while."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold_tags
from server.db.schema import ticket_devices, ticket_tags, tickets
from server.errors import ValidationFailed
from server.sla import tracking as sla_tracking
from server.tickets import kind_change, lifecycle
from server.tickets.assignment import auto_assignee
from server.tickets.creation import check_refs, next_number, set_devices, set_tags
from server.tickets.priority import priority_for
from server.tickets.reading import get_row
from server.tickets.search import index_ticket
from server.tickets.timeline import add_event

_TRACKED = ("title", "description", "status", "impact", "urgency", "priority", "category_id",
            "assignee_id", "group_id", "problem_id", "resolution_code", "resolution_note",
            "root_cause", "workaround", "known_error")
PROBLEM_FIELDS = ("root_cause", "workaround", "known_error")


def update_ticket(conn: Connection, ticket_id: int, changes: dict[str, Any], *,
                  actor_id: int | None, now: dt.datetime,
                  matrix: tuple[tuple[int, int, int], ...]) -> dict[str, Any]:
    """Apply changes with the lifecycle's rules; record one event; return what changed.

    Raises:
        NotFound: no such ticket.
        ValidationFailed: a forbidden transition, a missing resolution, a bad reference.
    """
    row = get_row(conn, ticket_id)
    values = {k: v for k, v in changes.items() if k not in ("device_ids", "tags", "kind")}
    # Keeping a category that was retired since is fine; choosing one anew is not.
    new_category = values.get("category_id")
    check_refs(conn, user_ids={"assignee_id": values.get("assignee_id")},
               group_id=values.get("group_id"),
               category_id=new_category if new_category != row.category_id else None,
               device_ids=changes.get("device_ids"), problem_id=values.get("problem_id"))
    if values.get("problem_id") == ticket_id:
        raise ValidationFailed("problem_id: a ticket cannot be its own problem")
    new_kind = changes.get("kind", row.kind)
    if new_kind != "problem" and any(k in values for k in PROBLEM_FIELDS):
        raise ValidationFailed("root_cause, workaround and known_error belong to problems "
                               "only", code="not_a_problem")
    if new_kind != row.kind:
        kind_change.check(conn, row, new_kind,
                          problem_id=values.get("problem_id", row.problem_id))
    if ("group_id" in values and values["group_id"] is not None
            and values["group_id"] != row.group_id
            and values.get("assignee_id", row.assignee_id) is None):
        chosen = auto_assignee(conn, values["group_id"])
        if chosen is not None:
            values["assignee_id"] = chosen
    if "assignee_id" in values and "status" not in values:
        implied = lifecycle.status_after_assignment(row.status, values["assignee_id"])
        if implied != row.status:
            values["status"] = implied
    new_status = values.get("status", row.status)
    if new_status != row.status:
        try:
            lifecycle.check_transition(row.status, new_status)
        except lifecycle.TransitionError as exc:
            raise ValidationFailed(exc.message, code="invalid_transition") from exc
        if new_status == "resolved":
            if not (values.get("resolution_code") and values.get("resolution_note")):
                raise ValidationFailed("resolving needs resolution_code and resolution_note")
            values["resolved_at"] = now
        if new_status == "closed":
            values["closed_at"] = now
        if row.status == "resolved" and new_status != "closed":
            values.update(resolved_at=None, resolution_code=None, resolution_note=None)
    elif row.status in lifecycle.FINAL_STATUSES and values:
        raise ValidationFailed("a {status} ticket cannot be changed",
                               code="invalid_transition", status=row.status)
    if "impact" in values or "urgency" in values:
        values["priority"] = priority_for(values.get("impact", row.impact),
                                          values.get("urgency", row.urgency), matrix)
    diff = {k: {"before": getattr(row, k), "after": values[k]}
            for k in _TRACKED if k in values and values[k] != getattr(row, k)}
    if "device_ids" in changes:
        before = sorted(r.device_id for r in conn.execute(
            sa.select(ticket_devices.c.device_id).where(ticket_devices.c.ticket_id == ticket_id)))
        after = sorted(set(changes["device_ids"]))
        if before != after:
            diff["device_ids"] = {"before": before, "after": after}
            set_devices(conn, ticket_id, after)
    if "tags" in changes:
        before_tags = sorted(r.tag for r in conn.execute(
            sa.select(ticket_tags.c.tag).where(ticket_tags.c.ticket_id == ticket_id)))
        after_tags = fold_tags(changes["tags"])
        if before_tags != after_tags:
            diff["tags"] = {"before": before_tags, "after": after_tags}
            set_tags(conn, ticket_id, after_tags)
    kind_diff: dict[str, Any] = {}
    if new_kind != row.kind:
        # Its own public event: the requester's ticket number changes.
        kind_diff = kind_change.renumber(conn, row, new_kind,
                                         number=next_number(conn, new_kind), now=now)
        add_event(conn, ticket_id, actor_id=actor_id, type=kind_change.EVENT_TYPE, public=True,
                  now=now, body=kind_change.note(kind_diff), changes=kind_diff)
        if not diff:
            sla_tracking.on_conditions_changed(conn, ticket_id, now, actor_id, kind_changed=True)
            return kind_diff
    if not diff:
        return {}
    conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                 .values(**{k: v for k, v in values.items()
                            if k in diff or k in ("resolved_at", "closed_at")},
                         updated_at=now))
    if "title" in diff or "description" in diff:
        index_ticket(conn, ticket_id, values.get("title", row.title),
                     values.get("description", row.description))
    # A status change is news for the requester; a change of fields alone is the desk's.
    type_ = "status_changed" if "status" in diff else "updated"
    note = values.get("resolution_note") if diff.get("status", {}).get("after") == "resolved" \
        else None
    add_event(conn, ticket_id, actor_id=actor_id, type=type_, public=type_ == "status_changed",
              now=now, body=note, changes=diff)
    kind_changed = new_kind != row.kind
    if "priority" in diff or "category_id" in diff or kind_changed:
        sla_tracking.on_conditions_changed(conn, ticket_id, now, actor_id,
                                           kind_changed=kind_changed)
    if "status" in diff:
        sla_tracking.on_status(conn, ticket_id, row.status, diff["status"]["after"], now)
    if kind_changed:
        diff.update(kind_diff)
    return diff


AUTO_CLOSE_CHUNK = 500  # tickets closed per write transaction


def auto_close(conn: Connection, *, now: dt.datetime, after: dt.timedelta,
               limit: int = AUTO_CLOSE_CHUNK) -> list[Any]:
    """Close up to ``limit`` tickets resolved longer than ``after`` ago.

    Returns their (id, number, requester_id) rows; fewer than ``limit`` means none is
    left. Callers loop in separate transactions so that a backlog (the first pass after
    an upgrade or a long stop: tens of thousands) never holds the writer for long.
    """
    due = conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.requester_id)
                       .where(tickets.c.status == "resolved",
                              tickets.c.resolved_at <= now - after)
                       .order_by(tickets.c.id).limit(limit)).all()
    for ticket_id in (r.id for r in due):
        conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(
            status="closed", closed_at=now, updated_at=now))
        add_event(conn, ticket_id, actor_id=None, type="status_changed", public=True,
                  now=now, body=f"Closed automatically {after.days} days after resolution.",
                  changes={"status": {"before": "resolved", "after": "closed"}})
    return list(due)
