"""Which tickets a member of staff's reports and suggestions cover (issue 17, item 5).

Every member of staff may open any ticket, but figures and suggestions are about a
desk's own work: an admin sees all of it, a technician the tickets of their groups and
those without a group, as the desk's "unassigned" view shows them. The dashboards
(server/reports), satisfaction figures and problem suggestions all use this one rule.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import group_members, tickets


def group_ids(conn: Connection, user_id: int, role: str) -> frozenset[int] | None:
    """Return the groups whose tickets the user's reports cover, or None for all (admins)."""
    if role == "admin":
        return None
    return frozenset(r.group_id for r in conn.execute(
        sa.select(group_members.c.group_id).where(group_members.c.user_id == user_id)))


def ticket_filter(groups: frozenset[int] | None) -> Any:
    """Return the SQL condition on ``tickets`` for what :func:`group_ids` allows."""
    if groups is None:
        return sa.true()
    return sa.or_(tickets.c.group_id.in_(sorted(groups)), tickets.c.group_id.is_(None))


def allows(groups: frozenset[int] | None, group_id: int | None) -> bool:
    """Tell whether a ticket of ``group_id`` is within the scope (the same rule as
    :func:`ticket_filter`)."""
    return groups is None or group_id is None or group_id in groups
