"""Who may do what in a remote session: pure rules over plain values."""

from __future__ import annotations

from collections.abc import Collection

from server.auth.identity import Role

OPEN_STATUSES = frozenset({"new", "assigned", "in_progress", "pending"})


def may_remote(*, role: Role, user_id: int, assignee_id: int | None,
               ticket_group_id: int | None, member_of: Collection[int]) -> bool:
    """Tell whether a user has rights on a ticket for remote sessions.

    Admins always do. A technician does when the ticket is assigned to them or to a
    group they belong to; requesters never do.
    """
    if role == "admin":
        return True
    if role != "technician":
        return False
    return assignee_id == user_id or (ticket_group_id is not None
                                      and ticket_group_id in member_of)


def needs_consent(*, device_group_id: int | None, unattended_groups: Collection[int]) -> bool:
    """Tell whether the user must agree: always, unless the device's group allows otherwise."""
    return device_group_id is None or device_group_id not in unattended_groups
