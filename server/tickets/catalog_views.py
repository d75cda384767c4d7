"""HTTP handlers for the service catalog and approvals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.api.routing import ADMIN, ANY_USER, ApiRequest, Router
from server.db.schema import catalog_items, utcnow
from server.errors import Forbidden, NotFound, ValidationFailed
from server.keys import BROKER, DATABASE, SETTINGS
from server.tickets import catalog, creation, reading, timeline, updating
from server.tickets.assignment import auto_assignee
from server.tickets.priority import parse_matrix, priority_for
from server.tickets.schemas import Ticket, shown_to
from server.users import store as audit
from server.users.schemas import to_builtins

router = Router("catalog")
CID = r"{item_id:\d{1,18}}"


def _publish(req: ApiRequest, ticket: Ticket, change: str) -> None:
    req.app[BROKER].publish_ticket(ticket_id=ticket.id, number=ticket.number,
                                   requester_id=ticket.requester.id, change=change,
                                   public=True)


@router.route("GET", "/api/v1/catalog", roles=ANY_USER, summary="List request types",
              response=catalog.CatalogList)
async def list_items(req: ApiRequest) -> catalog.CatalogList:
    query = sa.select(catalog_items).order_by(catalog_items.c.name)
    if req.user.role != "admin":
        query = query.where(catalog_items.c.active.is_(True))
    rows = await req.app[DATABASE].read(lambda c: c.execute(query).all())
    return catalog.CatalogList(items=[catalog.to_item(r) for r in rows])


@router.route("POST", "/api/v1/catalog", roles=ADMIN, summary="Create a request type",
              body=catalog.CatalogItemCreate, response=catalog.CatalogItem, status=201)
async def create_item(req: ApiRequest) -> catalog.CatalogItem:
    body: catalog.CatalogItemCreate = req.body
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        item_id = catalog.create_item(conn, body, now)
        audit.record(conn, actor_id=actor, action="catalog.create", target_type="catalog_item",
                     target_id=item_id, now=now, name=body.name)
        return catalog.get_item(conn, item_id)

    return catalog.to_item(await req.app[DATABASE].write(run))


@router.route("PATCH", f"/api/v1/catalog/{CID}", roles=ADMIN,
              summary="Update a request type", body=catalog.CatalogItemUpdate,
              response=catalog.CatalogItem)
async def update_item(req: ApiRequest) -> catalog.CatalogItem:
    item_id = int(req.params["item_id"])
    changes = to_builtins(req.body)

    def run(conn: Any) -> Any:
        catalog.get_item(conn, item_id)
        if changes:
            conn.execute(catalog_items.update().where(catalog_items.c.id == item_id)
                         .values(**changes))
        return catalog.get_item(conn, item_id)

    return catalog.to_item(await req.app[DATABASE].write(run))


@router.route("POST", f"/api/v1/catalog/{CID}/requests", roles=ANY_USER,
              summary="Request something from the catalog", body=catalog.CatalogRequest,
              response=Ticket, status=201)
async def request_item(req: ApiRequest) -> Ticket:
    item_id = int(req.params["item_id"])
    body: catalog.CatalogRequest = req.body
    me = req.user
    matrix = parse_matrix(req.app[SETTINGS].priority_matrix)

    def run(conn: Any) -> Ticket:
        now = utcnow()
        item = catalog.get_item(conn, item_id)
        if not item.active:
            raise NotFound("no request type with id {item_id}", item_id=item_id)
        form = catalog.validate_form(catalog.to_item(item).fields, body.values)
        approver = catalog.approver_for(conn, item)
        lines = [f"{f['label']}: {form[f['name']]}" for f in item.fields if f["name"] in form]
        description = "\n".join([body.description, *lines]).strip()
        ticket_id = creation.create_ticket(conn, creation.NewTicket(
            kind="service_request", title=body.title or item.name, description=description,
            impact=3, urgency=3, priority=priority_for(3, 3, matrix), category_id=None,
            requester_id=me.user_id, assignee_id=None,
            # Work starts after approval: the group is set, but nobody is assigned yet.
            group_id=item.group_id if approver is None else None, device_ids=[], tags=[],
            source="portal" if me.via == "session" else "api"), actor_id=me.user_id, now=now)
        catalog.set_approval(conn, ticket_id, catalog_item_id=item.id, form=form,
                             approval="requested" if approver else "not_required",
                             approver_id=approver,
                             group_id=item.group_id)
        if approver is not None:
            timeline.add_event(conn, ticket_id, actor_id=me.user_id, type="approval_requested",
                               public=True, now=now,
                               changes={"approval": {"before": None, "after": "requested"},
                                        "approver_id": {"before": None, "after": approver}})
        return reading.get_ticket(conn, ticket_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "created")
    return shown_to(ticket, staff=me.is_staff)


@router.route("POST", r"/api/v1/tickets/{ticket_id:\d{1,18}}/approval", roles=ANY_USER,
              summary="Approve or reject a service request", body=catalog.ApprovalDecision,
              response=Ticket)
async def decide(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    body: catalog.ApprovalDecision = req.body
    me = req.user
    matrix = parse_matrix(req.app[SETTINGS].priority_matrix)

    def run(conn: Any) -> Ticket:
        now = utcnow()
        row = reading.get_row(conn, ticket_id)
        if row.approver_id != me.user_id and me.role != "admin":
            if row.requester_id == me.user_id or me.is_staff:
                raise Forbidden("only the named approver decides on this request")
            raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
        if row.approval != "requested":
            raise ValidationFailed("nothing to decide: the approval is {approval}",
                                   code="invalid_transition", approval=row.approval)
        approved = body.decision == "approve"
        catalog.set_approval(conn, ticket_id, approval="approved" if approved else "rejected")
        timeline.add_event(conn, ticket_id, actor_id=me.user_id,
                           type="approved" if approved else "rejected", public=True, now=now,
                           body=body.comment or None,
                           changes={"approval": {"before": "requested",
                                                 "after": "approved" if approved else "rejected"}})
        if approved:
            assignee = auto_assignee(conn, row.group_id) if row.group_id else None
            if assignee is not None:
                updating.update_ticket(conn, ticket_id, {"assignee_id": assignee},
                                       actor_id=None, now=now, matrix=matrix)
        else:
            updating.update_ticket(conn, ticket_id, {
                "status": "cancelled", "resolution_code": "rejected",
                "resolution_note": body.comment or "Rejected by the approver."},
                actor_id=me.user_id, now=now, matrix=matrix)
        return reading.get_ticket(conn, ticket_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "updated")
    return shown_to(ticket, staff=me.is_staff)
