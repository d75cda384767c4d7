"""What a requester sees of their ticket's timeline (pure functions over events).

Staff read every event; a requester reads the conversation, status changes, the
resolution, approvals, kind changes, the remote sessions on their screen and the terminals
opened on their computer — each with
only the fields meant for them.
"""

from __future__ import annotations

from server.remote import requester_view as remote_view
from server.tickets.schemas import TicketEvent

# What a requester's timeline holds: the conversation, status changes, the resolution,
# approvals, a new kind (and number), and who looked at their screen. The desk's own
# bookkeeping (tags, assignment, priority, devices, links) stays with the desk, also for
# events recorded as public before this rule existed.
REQUESTER_EVENTS = frozenset({"created", "comment", "status_changed", "attachment", "merged",
                              "merged_from", "split_from", "approval_requested", "approved",
                              "rejected", "kind_changed", remote_view.EVENT_TYPE,
                              "tool_session",  # who opened a terminal (server/toolbox)
                              "script_run"})  # what ran on their computer (server/scripts)
REQUESTER_CHANGES = frozenset({"status", "resolution_code", "resolution_note", "approval",
                               "merged_into", "merged_from", "split_from", "kind", "number",
                               "mail"})  # mail: what the requester's own e-mail quoted


def for_requester(event: TicketEvent) -> TicketEvent | None:
    """Return the event as a requester sees it (their fields only), or None if it is not theirs."""
    if not event.public or event.type not in REQUESTER_EVENTS:
        return None
    if event.type == remote_view.EVENT_TYPE:
        changes, body = remote_view.for_requester(event.changes or {}, event.body)
    else:
        changes = {k: v for k, v in (event.changes or {}).items() if k in REQUESTER_CHANGES}
        body = event.body
    return TicketEvent(id=event.id, at=event.at, actor=event.actor, type=event.type,
                       public=True, body=body, changes=changes)
