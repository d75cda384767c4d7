"""Request and response types for tickets and their timeline (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field, structs

from server.sla.schemas import TicketSla
from server.tickets.lifecycle import Kind, Source, Status
from server.users.schemas import Cursor, Limit, Strict

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=20_000)]
Level = Annotated[int, Meta(ge=1, le=3, description="1 high .. 3 low")]
Tag = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[\w.-]+$(?!\n)")]
Tags = Annotated[list[Tag], Meta(max_length=20)]
Ids = Annotated[list[int], Meta(max_length=50)]


class UserRef(Struct, kw_only=True):
    """A user as a ticket names them."""

    id: int
    display_name: str


class DeviceRef(Struct, kw_only=True):
    """A linked device as a ticket names it."""

    id: int
    hostname: str


class ReportedBy(Struct, kw_only=True):
    """What the device a ticket was raised on reported: itself and the OS login, as is.

    The login is the device's word, not an identity: the requester is whoever the login
    is bound to on that device, or the device's unknown user (docs/tickets.md).
    """

    device: DeviceRef | None  # None: the device record is gone
    login: str


class Satisfaction(Struct, kw_only=True):
    """The requester's answer to the satisfaction survey (server/satisfaction)."""

    score: int  # 1 (very poor) .. 5 (excellent)
    comment: str | None
    via: str  # tray, portal or mail
    at: dt.datetime  # of the latest change
    first_at: dt.datetime  # of the first answer; changes are allowed for a while after


class Ticket(Struct, kw_only=True):
    """A ticket as the API shows it."""

    id: int
    number: str
    kind: Kind
    title: str
    description: str
    status: Status
    impact: int
    urgency: int
    priority: int
    category_id: int | None
    requester: UserRef
    assignee: UserRef | None
    group_id: int | None
    problem_id: int | None
    merged_into_id: int | None
    related_ids: list[int]
    catalog_item_id: int | None
    form: dict[str, Any] | None
    approval: str
    approver: UserRef | None
    source: Source
    tags: list[str]
    device_ids: list[int]
    devices: list[DeviceRef]
    resolution_code: str | None
    resolution_note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla: TicketSla | None = None
    reported: ReportedBy | None = None  # raised on a device (tray, deskmate-agent ticket)
    # Numbers the ticket had before its kind changed, oldest first (q= finds them).
    former_numbers: list[str] = field(default_factory=list)
    satisfaction: Satisfaction | None = None
    # A low score waiting for the group's manager: when it was flagged (staff only).
    satisfaction_flagged_at: dt.datetime | None = None
    # A problem record's analysis (kind "problem"; None/False on other kinds).
    root_cause: str | None = None
    workaround: str | None = None
    known_error: bool = False
    workaround_article_id: int | None = None


def shown_to(ticket: Ticket, *, staff: bool) -> Ticket:
    """Return the ticket as its viewer may see it: SLA state is for the desk only.

    Every answer that carries a :class:`Ticket` to a user who may be a requester goes
    through this (ticket create, get, list, reopen, confirm; catalog request, approval).
    """
    if staff or (ticket.sla is None and ticket.satisfaction_flagged_at is None):
        return ticket
    return structs.replace(ticket, sla=None, satisfaction_flagged_at=None)


class TicketCreate(Strict):
    """A new ticket. Requesters always create for themselves."""

    title: Title
    description: Text = ""
    kind: Kind = "incident"
    impact: Level = 3
    urgency: Level = 3
    category_id: int | None = None
    requester_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    device_ids: Ids = []
    tags: Tags = []
    source: Source | None = None


class TicketUpdate(Strict):
    """Changes a technician makes; fields left out stay as they are."""

    title: Title | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    # A new kind takes the next number of that kind; the old number stays findable.
    kind: Kind | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    impact: Level | UnsetType = UNSET
    urgency: Level | UnsetType = UNSET
    category_id: int | UnsetType | None = UNSET
    assignee_id: int | UnsetType | None = UNSET
    group_id: int | UnsetType | None = UNSET
    problem_id: int | UnsetType | None = UNSET
    device_ids: Ids | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    resolution_code: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    resolution_note: Annotated[str, Meta(min_length=1, max_length=20_000)] | UnsetType = UNSET
    # Problems only: the analysis (null clears a text).
    root_cause: Annotated[str, Meta(max_length=20_000)] | UnsetType | None = UNSET
    workaround: Annotated[str, Meta(max_length=20_000)] | UnsetType | None = UNSET
    known_error: bool | UnsetType = UNSET


class CommentCreate(Strict):
    """A public reply or, for technicians, an internal note."""

    body: Annotated[str, Meta(min_length=1, max_length=20_000)]
    internal: bool = False


class ReopenRequest(Strict):
    """Why the requester reopens a resolved ticket."""

    reason: Annotated[str, Meta(min_length=1, max_length=20_000)]


class TicketEvent(Struct, kw_only=True):
    """One entry of a ticket's timeline."""

    id: int
    at: dt.datetime
    actor: UserRef | None
    type: str
    public: bool
    body: str | None
    changes: dict[str, Any]


class TicketEvents(Struct, kw_only=True):
    """A ticket's timeline, oldest first."""

    items: list[TicketEvent]


class TicketPage(Struct, kw_only=True):
    """One page of tickets."""

    items: list[Ticket]
    next_cursor: str | None


Sort = Literal["-id", "id", "priority", "-updated", "due"]


class TicketQuery(Strict):
    """Filters, sort and page of the ticket list."""

    status: Annotated[str, Meta(max_length=200, pattern=r"^[a-z_]+(,[a-z_]+)*$(?!\n)",
                                description="comma-separated statuses")] | None = None
    kind: Kind | None = None
    priority: Annotated[int, Meta(ge=1, le=5)] | None = None
    assignee: Annotated[str, Meta(pattern=r"^(me|none|\d+)$(?!\n)")] | None = None
    group_id: int | None = None
    requester_id: int | None = None
    device_id: int | None = None
    category_id: int | None = None
    tag: Tag | None = None
    q: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    view: Literal["my_open", "unassigned", "open", "awaiting_my_approval"] | None = None
    sort: Sort = "-id"
    limit: Limit | None = None
    cursor: Cursor | None = None


class Attachment(Struct, kw_only=True):
    """A file attached to a ticket."""

    id: int
    ticket_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    public: bool
    event_id: int | None  # the timeline event that added it
    created_at: dt.datetime
    url: str


class AttachmentList(Struct, kw_only=True):
    """A ticket's attachments."""

    items: list[Attachment]


class Category(Struct, kw_only=True):
    """A node of the category tree."""

    id: int
    parent_id: int | None
    name: str
    active: bool = True


class CategoryCreate(Strict):
    """A new category."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    parent_id: int | None = None


class CategoryList(Struct, kw_only=True):
    """All categories."""

    items: list[Category]


class MergeRequest(Strict):
    """Merge this ticket into another, which carries on."""

    into_id: int


class SplitRequest(Strict):
    """Split part of this ticket off into a new one."""

    title: Title
    description: Text = ""


class LinkRequest(Strict):
    """Relate this ticket to another."""

    ticket_id: int


class CannedResponse(Struct, kw_only=True):
    """A reusable reply text."""

    id: int
    title: str
    body: str
    shared: bool
    created_at: dt.datetime


class CannedResponseCreate(Strict):
    """A new canned response; shared ones are visible to the whole desk."""

    title: Annotated[str, Meta(min_length=1, max_length=100)]
    body: Annotated[str, Meta(min_length=1, max_length=20_000)]
    shared: bool = False


class CannedResponseUpdate(Strict):
    """Changes to a canned response (its owner's, or a shared one by an admin)."""

    title: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    body: Annotated[str, Meta(min_length=1, max_length=20_000)] | UnsetType = UNSET


class CannedResponseList(Struct, kw_only=True):
    """The caller's and the shared canned responses."""

    items: list[CannedResponse]
