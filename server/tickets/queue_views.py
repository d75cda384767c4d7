"""HTTP handlers for working the queue: merge, split, related tickets, canned responses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.api.routing import STAFF, ApiRequest, Router
from server.auth.identity import Identity
from server.db.schema import canned_responses, ticket_devices, utcnow
from server.errors import NotFound, ValidationFailed
from server.keys import BROKER, DATABASE, SETTINGS
from server.tickets import creation, reading, relations, timeline
from server.tickets.priority import parse_matrix, priority_for
from server.tickets.schemas import (
    CannedResponse,
    CannedResponseCreate,
    CannedResponseList,
    CannedResponseUpdate,
    LinkRequest,
    MergeRequest,
    SplitRequest,
    Ticket,
)
from server.users.schemas import to_builtins

router = Router("tickets")
TID = r"{ticket_id:\d{1,18}}"


def _publish(req: ApiRequest, ticket: Ticket, change: str) -> None:
    req.app[BROKER].publish_ticket(ticket_id=ticket.id, number=ticket.number,
                                   requester_id=ticket.requester.id, change=change,
                                   public=True)


@router.route("POST", f"/api/v1/tickets/{TID}/merge", roles=STAFF,
              summary="Merge a ticket into another", body=MergeRequest, response=Ticket)
async def merge(req: ApiRequest) -> Ticket:
    source_id = int(req.params["ticket_id"])
    body: MergeRequest = req.body
    actor = req.user.user_id

    def run(conn: Any) -> tuple[Ticket, Ticket]:
        relations.merge(conn, source_id, body.into_id, actor_id=actor, now=utcnow())
        return reading.get_ticket(conn, source_id), reading.get_ticket(conn, body.into_id)

    source, target = await req.app[DATABASE].write(run)
    _publish(req, source, "updated")
    _publish(req, target, "updated")
    return target


@router.route("POST", f"/api/v1/tickets/{TID}/split", roles=STAFF,
              summary="Split a new ticket off this one", body=SplitRequest, response=Ticket,
              status=201)
async def split(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    body: SplitRequest = req.body
    actor = req.user.user_id
    matrix = parse_matrix(req.app[SETTINGS].priority_matrix)

    title = body.title.strip()
    if not title:
        raise ValidationFailed("{field} must not be blank", field="title")

    def run(conn: Any) -> Ticket:
        now = utcnow()
        row = reading.get_row(conn, ticket_id)
        devices = [r.device_id for r in conn.execute(
            sa.select(ticket_devices.c.device_id)
            .where(ticket_devices.c.ticket_id == ticket_id))]
        new_id = creation.create_ticket(conn, creation.NewTicket(
            kind=row.kind, title=title, description=body.description, impact=row.impact,
            urgency=row.urgency, priority=priority_for(row.impact, row.urgency, matrix),
            category_id=row.category_id, requester_id=row.requester_id, assignee_id=None,
            group_id=row.group_id, device_ids=devices, tags=[], source=row.source),
            actor_id=actor, now=now)
        timeline.add_event(conn, new_id, actor_id=actor, type="split_from", public=True, now=now,
                           body=f"Split off {row.number}.",
                           changes={"split_from": {"before": None, "after": row.number}})
        relations.link(conn, ticket_id, new_id, actor_id=actor, now=now)
        return reading.get_ticket(conn, new_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "created")
    return ticket


@router.route("POST", f"/api/v1/tickets/{TID}/links", roles=STAFF,
              summary="Relate two tickets", body=LinkRequest, response=Ticket)
async def add_link(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    other: int = req.body.ticket_id
    actor = req.user.user_id

    def run(conn: Any) -> Ticket:
        reading.get_row(conn, ticket_id)
        try:
            reading.get_row(conn, other)
        except NotFound as exc:
            exc.field = "ticket_id"  # the ticket picked, not the one of the path
            raise
        relations.link(conn, ticket_id, other, actor_id=actor, now=utcnow())
        return reading.get_ticket(conn, ticket_id)

    return await req.app[DATABASE].write(run)


@router.route("DELETE", rf"/api/v1/tickets/{TID}/links/{{related_id:\d{{1,18}}}}",
              roles=STAFF, summary="Unrelate two tickets", status=204)
async def remove_link(req: ApiRequest) -> None:
    ticket_id, other = int(req.params["ticket_id"]), int(req.params["related_id"])
    actor = req.user.user_id
    await req.app[DATABASE].write(
        lambda c: relations.unlink(c, ticket_id, other, actor_id=actor, now=utcnow()))


def _canned(row: Any) -> CannedResponse:
    return CannedResponse(id=row.id, title=row.title, body=row.body,
                          shared=row.owner_id is None, created_at=row.created_at)


@router.route("GET", "/api/v1/canned-responses", roles=STAFF,
              summary="List canned responses", response=CannedResponseList)
async def list_canned(req: ApiRequest) -> CannedResponseList:
    me = req.user.user_id
    rows = await req.app[DATABASE].read(lambda c: c.execute(
        sa.select(canned_responses).where(sa.or_(canned_responses.c.owner_id.is_(None),
                                                 canned_responses.c.owner_id == me))
        .order_by(canned_responses.c.title)).all())
    return CannedResponseList(items=[_canned(r) for r in rows])


@router.route("POST", "/api/v1/canned-responses", roles=STAFF,
              summary="Create a canned response", body=CannedResponseCreate,
              response=CannedResponse, status=201)
async def create_canned(req: ApiRequest) -> CannedResponse:
    body: CannedResponseCreate = req.body
    me = req.user
    if body.shared and me.role != "admin":
        raise ValidationFailed("only admins create shared canned responses", code="forbidden")
    for key in ("title", "body"):
        if not getattr(body, key).strip():
            raise ValidationFailed("{field} must not be blank", field=key)

    def run(conn: Any) -> Any:
        new_id = conn.execute(canned_responses.insert().values(
            title=body.title, body=body.body, owner_id=None if body.shared else me.user_id,
            created_at=utcnow())).inserted_primary_key[0]
        return conn.execute(sa.select(canned_responses)
                            .where(canned_responses.c.id == new_id)).one()

    return _canned(await req.app[DATABASE].write(run))


def _own_canned(conn: Any, canned_id: int, me: Identity) -> Any:
    """Return a canned response the caller may change: their own, or a shared one (admins).

    Raises:
        NotFound: no such canned response, or one the caller may not change.
    """
    row = conn.execute(sa.select(canned_responses)
                       .where(canned_responses.c.id == canned_id)).one_or_none()
    mine = row is not None and (row.owner_id == me.user_id or (
        row.owner_id is None and me.role == "admin"))
    if not mine:
        raise NotFound("no canned response with id {canned_id} of yours", canned_id=canned_id)
    return row


@router.route("PATCH", r"/api/v1/canned-responses/{canned_id:\d{1,18}}", roles=STAFF,
              summary="Edit a canned response (yours; shared ones: admins)",
              body=CannedResponseUpdate, response=CannedResponse)
async def update_canned(req: ApiRequest) -> CannedResponse:
    canned_id = int(req.params["canned_id"])
    changes = to_builtins(req.body)
    me = req.user
    for key in ("title", "body"):
        if key in changes and not changes[key].strip():
            raise ValidationFailed("{field} must not be blank", field=key)

    def run(conn: Any) -> Any:
        _own_canned(conn, canned_id, me)
        if changes:
            conn.execute(canned_responses.update()
                         .where(canned_responses.c.id == canned_id).values(**changes))
        return conn.execute(sa.select(canned_responses)
                            .where(canned_responses.c.id == canned_id)).one()

    return _canned(await req.app[DATABASE].write(run))


@router.route("DELETE", r"/api/v1/canned-responses/{canned_id:\d{1,18}}", roles=STAFF,
              summary="Delete a canned response", status=204)
async def delete_canned(req: ApiRequest) -> None:
    canned_id = int(req.params["canned_id"])
    me = req.user

    def run(conn: Any) -> None:
        _own_canned(conn, canned_id, me)
        conn.execute(canned_responses.delete().where(canned_responses.c.id == canned_id))

    await req.app[DATABASE].write(run)
