"""HTTP handlers for the service catalog and approvals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.api.routing import ADMIN, ANY_USER, ApiRequest, Router
from server.db.schema import catalog_items, categories, utcnow
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


def _usable_category(conn: Any, category_id: int | None) -> int | None:
    if category_id is None:
        return None
    active = conn.execute(sa.select(categories.c.active)
                          .where(categories.c.id == category_id)).scalar()
    return category_id if active else None


def _publish(req: ApiRequest, ticket: Ticket, change: str) -> None:
    req.app[BROKER].publish_ticket(ticket_id=ticket.id, number=ticket.number,
                                   requester_id=ticket.requester.id, change=change,
                                   public=True)


def _visible(item: Any, req: ApiRequest) -> bool:
    """Tell whether the caller is offered this request type (admins see them all)."""
    if req.user.role == "admin":
        return True
    return bool(item.active) and (item.visibility == "everyone" or req.user.is_staff)


@router.route("GET", "/api/v1/catalog", roles=ANY_USER,
              summary="List request types (admins also see retired and staff-only ones)",
              response=catalog.CatalogList)
async def list_items(req: ApiRequest) -> catalog.CatalogList:
    query = sa.select(catalog_items).order_by(catalog_items.c.position, catalog_items.c.name)
    rows = await req.app[DATABASE].read(lambda c: c.execute(query).all())
    return catalog.CatalogList(items=[catalog.to_item(r) for r in rows if _visible(r, req)])


@router.route("GET", f"/api/v1/catalog/{CID}", roles=ANY_USER,
              summary="Show a request type (retired ones too: their tickets show the form)",
              response=catalog.CatalogItem)
async def get_item(req: ApiRequest) -> catalog.CatalogItem:
    item_id = int(req.params["item_id"])
    row = await req.app[DATABASE].read(lambda c: catalog.get_item(c, item_id))
    if row.visibility == "staff" and not req.user.is_staff:
        raise NotFound("no request type with id {item_id}", item_id=item_id)
    return catalog.to_item(row)


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
              summary="Update or retire a request type", body=catalog.CatalogItemUpdate,
              response=catalog.CatalogItem)
async def update_item(req: ApiRequest) -> catalog.CatalogItem:
    item_id = int(req.params["item_id"])
    changes = to_builtins(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        changed = catalog.update_item(conn, item_id, changes)
        if changed:
            audit.record(conn, actor_id=actor, action="catalog.update",
                         target_type="catalog_item", target_id=item_id, now=utcnow(),
                         changed=sorted(changed))
        return catalog.get_item(conn, item_id)

    return catalog.to_item(await req.app[DATABASE].write(run))


@router.route("DELETE", f"/api/v1/catalog/{CID}", roles=ADMIN,
              summary="Delete a request type nobody has requested (else retire it)",
              status=204)
async def delete_item(req: ApiRequest) -> None:
    item_id = int(req.params["item_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        name = catalog.get_item(conn, item_id).name
        catalog.delete_item(conn, item_id)
        audit.record(conn, actor_id=actor, action="catalog.delete", target_type="catalog_item",
                     target_id=item_id, now=utcnow(), name=name)

    await req.app[DATABASE].write(run)


@router.route("PUT", "/api/v1/catalog/order", roles=ADMIN,
              summary="Set the order of request types in the portal",
              body=catalog.CatalogOrder, response=catalog.CatalogList)
async def reorder(req: ApiRequest) -> catalog.CatalogList:
    body: catalog.CatalogOrder = req.body
    actor = req.user.user_id

    def run(conn: Any) -> list[Any]:
        catalog.reorder(conn, body.item_ids)
        audit.record(conn, actor_id=actor, action="catalog.reorder",
                     target_type="catalog_item", target_id=None, now=utcnow(),
                     item_ids=body.item_ids)
        return list(conn.execute(sa.select(catalog_items).order_by(
            catalog_items.c.position, catalog_items.c.name)).all())

    return catalog.CatalogList(items=[catalog.to_item(r)
                                      for r in await req.app[DATABASE].write(run)])


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
        if not item.active or (item.visibility == "staff" and not me.is_staff):
            raise NotFound("no request type with id {item_id}", item_id=item_id)
        form = catalog.validate_form(catalog.to_item(item).fields, body.values)
        approver = catalog.approver_for(conn, item)
        lines = [f"{f['label']}: {form[f['name']]}" for f in item.fields if f["name"] in form]
        description = "\n".join([body.description, *lines]).strip()
        ticket_id = creation.create_ticket(conn, creation.NewTicket(
            kind="service_request", title=body.title or item.name, description=description,
            impact=3, urgency=3, priority=priority_for(3, 3, matrix),
            # A category retired since the request type was set up is left off.
            category_id=_usable_category(conn, item.category_id),
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
