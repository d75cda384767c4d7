"""Changing a ticket's kind: the next number of the new kind, the old one kept findable.

A number's prefix always names the ticket's kind (INC, REQ, PRB), so a ticket that
becomes a service request takes the next REQ number, as an issue moved to another
project does in Jira; its former numbers stay attached to it (``ticket_former_numbers``)
and a search for one of them (``q=INC-000042``) still finds it. Links by id, the
timeline, attachments and remote sessions are unchanged. See docs/tickets.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import tickets
from server.errors import ValidationFailed
from server.i18n.messages import N_, Message
from server.tickets import lifecycle
from server.tickets.tables import ticket_former_numbers

EVENT_TYPE = "kind_changed"
KIND_NAMES: dict[str, str] = {"incident": "incident", "service_request": "service request",
                              "problem": "problem"}


def refusal(row: Any, new_kind: str, *, problem_id: int | None,
            linked_incidents: int) -> Message | None:
    """Return why ``row`` may not become ``new_kind`` (None when it may)."""
    if row.status in lifecycle.FINAL_STATUSES:
        return N_("a {status} ticket cannot be changed", status=row.status)
    if row.approval == "requested":
        return N_("the request waits for its approval: approve or reject it first")
    if row.kind == "problem" and linked_incidents:
        return N_("{n} ticket(s) are linked to this problem: unlink them before changing "
                  "its kind", n=linked_incidents)
    if new_kind == "problem" and problem_id is not None:
        return N_("a problem cannot be linked to a problem: unlink problem_id first")
    return None


def check(conn: Connection, row: Any, new_kind: str, *, problem_id: int | None) -> None:
    """Refuse a kind change the rules do not allow (422, before anything is written).

    Raises:
        ValidationFailed: see :func:`refusal`.
    """
    linked = 0
    if row.kind == "problem":
        linked = conn.execute(sa.select(sa.func.count()).select_from(tickets)
                              .where(tickets.c.problem_id == row.id)).scalar_one()
    why = refusal(row, new_kind, problem_id=problem_id, linked_incidents=linked)
    if why is not None:
        code = ("invalid_transition" if row.status in lifecycle.FINAL_STATUSES
                else "kind_change_refused")
        raise ValidationFailed(why, code=code)


def renumber(conn: Connection, row: Any, new_kind: lifecycle.Kind, *, number: str,
             now: dt.datetime) -> dict[str, Any]:
    """Give the ticket ``new_kind`` and ``number``, keep its old number; return the diff."""
    conn.execute(ticket_former_numbers.insert().values(number=row.number, ticket_id=row.id,
                                                       until=now))
    conn.execute(tickets.update().where(tickets.c.id == row.id)
                 .values(kind=new_kind, number=number, updated_at=now))
    return {"kind": {"before": row.kind, "after": new_kind},
            "number": {"before": row.number, "after": number}}


def note(diff: dict[str, Any]) -> str:
    """Return the timeline's words for a kind change."""
    kind, number = diff["kind"], diff["number"]
    return (f"Changed from {KIND_NAMES[kind['before']]} to {KIND_NAMES[kind['after']]}: "
            f"{number['before']} is now {number['after']}.")


_FORMER = (sa.select(ticket_former_numbers.c.ticket_id, ticket_former_numbers.c.number)
           .where(ticket_former_numbers.c.ticket_id.in_(sa.bindparam("ids", expanding=True)))
           .order_by(ticket_former_numbers.c.until))  # built once: see tickets/reading.py


def former_numbers(conn: Connection, ticket_ids: list[int]) -> dict[int, list[str]]:
    """Return each ticket's former numbers, oldest first."""
    found: dict[int, list[str]] = defaultdict(list)
    if ticket_ids:
        for r in conn.execute(_FORMER, {"ids": ticket_ids}):
            found[r.ticket_id].append(r.number)
    return found


def has_number(number: str) -> Any:
    """Return the SQL condition "the ticket has, or had, this number"."""
    return sa.or_(tickets.c.number == number, tickets.c.id.in_(
        sa.select(ticket_former_numbers.c.ticket_id)
        .where(ticket_former_numbers.c.number == number)))
