"""Automatic assignment inside a group: round robin or least open load."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import group_members, groups, tickets, users
from server.tickets.lifecycle import OPEN_STATUSES

Strategy = Literal["none", "round_robin", "least_loaded"]
STRATEGIES: tuple[Strategy, ...] = ("none", "round_robin", "least_loaded")


def pick_round_robin(members: list[int], last: int | None) -> int | None:
    """Return the member after ``last`` in id order, wrapping around (None if no members)."""
    ordered = sorted(members)
    if not ordered:
        return None
    if last is None:
        return ordered[0]
    return next((m for m in ordered if m > last), ordered[0])


def pick_least_loaded(loads: dict[int, int]) -> int | None:
    """Return the member with the fewest open tickets; the lowest id breaks ties."""
    if not loads:
        return None
    return min(loads, key=lambda member: (loads[member], member))


def auto_assignee(conn: Connection, group_id: int) -> int | None:
    """Choose the assignee for a ticket given to a group, by the group's strategy."""
    group = conn.execute(sa.select(groups.c.auto_assign, groups.c.last_assigned_id)
                         .where(groups.c.id == group_id)).first()
    if group is None or group.auto_assign == "none":
        return None
    members = [r.id for r in conn.execute(
        sa.select(users.c.id).join(group_members, group_members.c.user_id == users.c.id)
        .where(group_members.c.group_id == group_id, users.c.active.is_(True),
               users.c.role.in_(("technician", "admin"))))]
    if group.auto_assign == "round_robin":
        chosen = pick_round_robin(members, group.last_assigned_id)
    else:
        loads = dict.fromkeys(members, 0)
        if members:
            for assignee, count in conn.execute(
                    sa.select(tickets.c.assignee_id, sa.func.count())
                    .where(tickets.c.assignee_id.in_(members),
                           tickets.c.status.in_(sorted(OPEN_STATUSES)))
                    .group_by(tickets.c.assignee_id)):
                loads[assignee] = count
        chosen = pick_least_loaded(loads)
    if chosen is not None:
        conn.execute(groups.update().where(groups.c.id == group_id)
                     .values(last_assigned_id=chosen))
    return chosen
