"""Ticket statuses and the transitions allowed between them (pure)."""

from __future__ import annotations

import re
from typing import Literal

from server.i18n.messages import N_, Message

Status = Literal["new", "assigned", "in_progress", "pending", "resolved", "closed",
                 "cancelled"]
Kind = Literal["incident", "service_request", "problem"]
Source = Literal["portal", "tray", "email", "monitoring", "api"]

STATUSES: tuple[Status, ...] = ("new", "assigned", "in_progress", "pending", "resolved",
                                "closed", "cancelled")
OPEN_STATUSES: frozenset[Status] = frozenset({"new", "assigned", "in_progress", "pending"})
FINAL_STATUSES: frozenset[Status] = frozenset({"closed", "cancelled"})

# Which status may follow which. Closed and cancelled are final; a resolved ticket is
# either closed (confirmed, or automatically after some days) or reopened.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    "new": frozenset({"assigned", "in_progress", "pending", "resolved", "cancelled"}),
    "assigned": frozenset({"new", "in_progress", "pending", "resolved", "cancelled"}),
    "in_progress": frozenset({"assigned", "pending", "resolved", "cancelled"}),
    "pending": frozenset({"assigned", "in_progress", "resolved", "cancelled"}),
    "resolved": frozenset({"in_progress", "closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}

PREFIXES: dict[Kind, str] = {"incident": "INC", "service_request": "REQ", "problem": "PRB"}


class TransitionError(ValueError):
    """A status change that the lifecycle does not allow."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def check_transition(old: Status, new: Status) -> None:
    """Raise :class:`TransitionError` unless ``old`` may become ``new``."""
    if new not in TRANSITIONS[old]:
        allowed: str | Message = ", ".join(sorted(TRANSITIONS[old])) or N_("nothing (final)")
        raise TransitionError(N_("a {old} ticket cannot become {new}; allowed: {allowed}",
                                 old=old, new=new, allowed=allowed))


def number(kind: Kind, sequence: int) -> str:
    """Return the human number of a ticket, e.g. INC-000042."""
    return f"{PREFIXES[kind]}-{sequence:06d}"


_NUMBER = re.compile(r"\s*#?([A-Za-z]{3})-0*([0-9]{1,12})\s*")


def parse_number(text: str) -> str | None:
    """Return the ticket number ``text`` spells ("inc-42", "INC-000042"), or None."""
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    kinds = {prefix: kind for kind, prefix in PREFIXES.items()}
    kind = kinds.get(m.group(1).upper())
    return None if kind is None else number(kind, int(m.group(2)))


def status_after_assignment(status: Status, assignee: int | None) -> Status:
    """Return the status implied by (un)assigning: new <-> assigned, others unchanged."""
    if status == "new" and assignee is not None:
        return "assigned"
    if status == "assigned" and assignee is None:
        return "new"
    return status
