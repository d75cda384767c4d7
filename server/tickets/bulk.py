"""Bulk actions on tickets: one request, each ticket changed by the single-ticket rules.

Every ticket is changed inside its own savepoint of one write transaction, through the
same functions as the single-ticket endpoints (:func:`server.tickets.updating.update_ticket`,
:func:`server.tickets.relations.merge`), so the lifecycle, references and timeline events
are exactly theirs. A ticket that fails is rolled back alone and reported in words; the
others keep their change. Why not all-or-nothing: a desk selecting thirty tickets wants
the twenty-nine that can move to move, and to be told which one could not and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import UNSET, Meta, Struct, UnsetType
from sqlalchemy.engine import Connection

from server.db.schema import ticket_tags
from server.errors import ApiError, ValidationFailed
from server.tickets import relations, updating
from server.tickets.lifecycle import Status
from server.tickets.reading import get_row
from server.tickets.schemas import Tag
from server.users.schemas import Strict

MAX_IDS = 200  # tickets per request: one write transaction must stay short
TAGS_MAX = 20  # as TicketUpdate.tags

Action = Literal["assign", "status", "merge", "tag"]


class BulkRequest(Strict):
    """One action applied to several tickets."""

    ids: Annotated[list[int], Meta(min_length=1, max_length=10_000, description=(
        f"the tickets to change, at most {MAX_IDS}; repeated ids count once"))]
    action: Action
    assignee_id: Annotated[int | None, Meta(description=(
        "assign: the technician, or null to unassign"))] | UnsetType = UNSET
    group_id: Annotated[int | None, Meta(description=(
        "assign: the group (auto-assignment applies as in PATCH), or null"))] | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    resolution_code: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    resolution_note: Annotated[str, Meta(min_length=1, max_length=20_000)] | UnsetType = UNSET
    into_id: Annotated[int, Meta(description=(
        "merge: the ticket (one of ids) the others are merged into"))] | UnsetType = UNSET
    tag: Tag | UnsetType = UNSET


class BulkError(Struct, kw_only=True):
    """Why one ticket was left as it was."""

    code: str
    message: str


class BulkResult(Struct, kw_only=True):
    """What happened to one ticket: changed, unchanged (already so), or refused."""

    id: int
    number: str | None
    outcome: Literal["changed", "unchanged", "failed"]
    error: BulkError | None = None


class BulkOutcome(Struct, kw_only=True):
    """The result of a bulk action, one entry per ticket in the order given."""

    action: Action
    changed: int
    unchanged: int
    failed: int
    results: list[BulkResult]


@dataclass(frozen=True)
class Touched:
    """A ticket a bulk action changed, for the live feed after commit."""

    id: int
    public: bool


def check(body: BulkRequest) -> list[int]:
    """Return the distinct ids in their order, after checking the action's fields (pure).

    Raises:
        ValidationFailed: too many tickets, or fields that do not belong to the action.
    """
    ids = list(dict.fromkeys(body.ids))
    if len(ids) > MAX_IDS:
        raise ValidationFailed("ids: at most {most} tickets per bulk action; {given} were "
                               "given", code="too_many_tickets", most=MAX_IDS, given=len(ids))
    fields = {"assign": ("assignee_id", "group_id"),
              "status": ("status", "resolution_code", "resolution_note"),
              "merge": ("into_id",), "tag": ("tag",)}[body.action]
    for name in ("assignee_id", "group_id", "status", "resolution_code", "resolution_note",
                 "into_id", "tag"):
        if name not in fields and getattr(body, name) is not UNSET:
            raise ValidationFailed("{field}: not used by the {action!r} action", field=name,
                                   action=body.action)
    given = [name for name in fields if getattr(body, name) is not UNSET]
    if body.action == "assign" and not given:
        raise ValidationFailed("assign needs assignee_id or group_id")
    if body.action != "assign" and fields[0] not in given:
        raise ValidationFailed("{field}: required by the {action!r} action", field=fields[0],
                               action=body.action)
    if body.action == "merge" and body.into_id not in ids:
        raise ValidationFailed("into_id: must be one of the selected tickets")
    return ids


def _changes(body: BulkRequest) -> dict[str, Any]:
    names = {"assign": ("assignee_id", "group_id"),
             "status": ("status", "resolution_code", "resolution_note")}[body.action]
    return {n: getattr(body, n) for n in names if getattr(body, n) is not UNSET}


def _add_tag(conn: Connection, ticket_id: int, tag: str, *, actor_id: int,
             now: dt.datetime, matrix: tuple[tuple[int, int, int], ...]) -> dict[str, Any]:
    have = sorted(r.tag for r in conn.execute(
        sa.select(ticket_tags.c.tag).where(ticket_tags.c.ticket_id == ticket_id)))
    if len(set(have) | {tag}) > TAGS_MAX:
        raise ValidationFailed("the ticket already has {most} tags, the most it may hold",
                               most=TAGS_MAX)
    return updating.update_ticket(conn, ticket_id, {"tags": [*have, tag]}, actor_id=actor_id,
                                  now=now, matrix=matrix)


def _one(conn: Connection, body: BulkRequest, ticket_id: int, *, actor_id: int,
         now: dt.datetime, matrix: tuple[tuple[int, int, int], ...]) -> bool:
    """Apply the action to one ticket; return whether it changed."""
    if body.action == "merge":
        assert isinstance(body.into_id, int)  # check() made sure
        if ticket_id == body.into_id:
            get_row(conn, ticket_id)  # the target exists; it changes with each merge
            return False
        relations.merge(conn, ticket_id, body.into_id, actor_id=actor_id, now=now)
        return True
    if body.action == "tag":
        assert isinstance(body.tag, str)
        return bool(_add_tag(conn, ticket_id, body.tag, actor_id=actor_id, now=now,
                             matrix=matrix))
    return bool(updating.update_ticket(conn, ticket_id, _changes(body), actor_id=actor_id,
                                       now=now, matrix=matrix))


def apply(conn: Connection, body: BulkRequest, ids: list[int], *, actor_id: int,
          now: dt.datetime, matrix: tuple[tuple[int, int, int], ...],
          ) -> tuple[BulkOutcome, list[Touched]]:
    """Apply a checked bulk action ticket by ticket, each in a savepoint."""
    results: list[BulkResult] = []
    touched: list[Touched] = []
    # Tags are the desk's; an assignment may move the status (new -> assigned), which the
    # requester sees, as the single PATCH tells them.
    public = body.action != "tag"
    for ticket_id in ids:
        number: str | None = None
        try:
            with conn.begin_nested():
                number = get_row(conn, ticket_id).number
                changed = _one(conn, body, ticket_id, actor_id=actor_id, now=now,
                               matrix=matrix)
        except ApiError as exc:
            results.append(BulkResult(id=ticket_id, number=number, outcome="failed",
                                      error=BulkError(code=exc.code, message=exc.message)))
            continue
        results.append(BulkResult(id=ticket_id, number=number,
                                  outcome="changed" if changed else "unchanged"))
        if changed:
            touched.append(Touched(id=ticket_id, public=public))
    if body.action == "merge" and touched:
        # The target took every merged ticket in (its timeline says so): it changed.
        target = next(r for r in results if r.id == body.into_id)
        if target.outcome == "unchanged":
            target.outcome = "changed"
            touched.append(Touched(id=target.id, public=True))
    count = {k: sum(r.outcome == k for r in results) for k in ("changed", "unchanged",
                                                               "failed")}
    return BulkOutcome(action=body.action, results=results, **count), touched
