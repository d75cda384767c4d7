"""HTTP handlers for tickets, their timeline, categories and the live feed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server.api.pagination import decode_cursor, encode_cursor
from server.api.routing import ADMIN, ANY_USER, STAFF, ApiRequest, Router, page_limit
from server.api.uploads import FormReader
from server.auth.identity import Identity
from server.category_tree import CategoryUpdate
from server.db.schema import attachments as attachments_table
from server.db.schema import group_members, utcnow
from server.devices import bindings
from server.errors import Forbidden, NotFound, ValidationFailed
from server.keys import BROKER, DATABASE, SETTINGS
from server.live import Subscriber
from server.tickets import (
    attachments,
    categories,
    creation,
    lifecycle,
    listing,
    reading,
    timeline,
    updating,
)
from server.tickets.priority import parse_matrix, priority_for
from server.tickets.schemas import (
    Attachment,
    AttachmentList,
    Category,
    CategoryCreate,
    CategoryList,
    CommentCreate,
    ReopenRequest,
    Ticket,
    TicketCreate,
    TicketEvents,
    TicketPage,
    TicketQuery,
    TicketUpdate,
    shown_to,
)
from server.users import store as audit
from server.users.schemas import to_builtins

router = Router("tickets")
TID = r"{ticket_id:\d{1,18}}"


def _matrix(req: ApiRequest) -> tuple[tuple[int, int, int], ...]:
    return parse_matrix(req.app[SETTINGS].priority_matrix)


def _may_see(identity: Identity, ticket_row: Any) -> bool:
    return identity.is_staff or identity.user_id in (ticket_row.requester_id,
                                                     ticket_row.approver_id)


async def _visible_row(req: ApiRequest, ticket_id: int) -> Any:
    """Return the ticket row if the caller may see it; requesters get 404 for others'."""
    row = await req.app[DATABASE].read(lambda c: reading.get_row(c, ticket_id))
    if not _may_see(req.user, row):
        raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
    return row


def _publish(req: ApiRequest, ticket: Ticket, change: str, *, public: bool = True) -> None:
    req.app[BROKER].publish_ticket(ticket_id=ticket.id, number=ticket.number,
                                   requester_id=ticket.requester.id, change=change,
                                   public=public)


def _shown(identity: Identity, ticket: Ticket) -> Ticket:
    """Return the ticket as the caller may see it: SLA state is for the desk only."""
    return shown_to(ticket, staff=identity.is_staff)


def _source_for(identity: Identity, asked: lifecycle.Source | None) -> lifecycle.Source:
    if asked is not None:
        if not identity.is_staff and asked not in ("portal", "api"):
            raise Forbidden("requesters cannot file tickets as source {asked!r}", asked=asked)
        return asked
    return "portal" if identity.via == "session" else "api"


@router.route("POST", "/api/v1/tickets", roles=ANY_USER, summary="Create a ticket",
              body=TicketCreate, response=Ticket, status=201)
async def create_ticket(req: ApiRequest) -> Ticket:
    body: TicketCreate = req.body
    me = req.user
    if not me.is_staff:
        if (body.requester_id not in (None, me.user_id) or body.assignee_id is not None
                or body.group_id is not None):
            raise Forbidden("requesters file tickets for themselves; assignment and groups "
                            "are set by the desk")
        if body.device_ids and not await req.app[DATABASE].read(
                lambda c: bindings.bound_to(c, me.user_id, list(body.device_ids))):
            raise Forbidden("a requester can only name their own devices (My devices)")
        if body.kind == "problem":
            raise Forbidden("requesters cannot file problem records")
    new = creation.NewTicket(
        kind=body.kind, title=body.title.strip() or body.title, description=body.description,
        impact=body.impact, urgency=body.urgency,
        priority=priority_for(body.impact, body.urgency, _matrix(req)),
        category_id=body.category_id, requester_id=body.requester_id or me.user_id,
        assignee_id=body.assignee_id, group_id=body.group_id, device_ids=body.device_ids,
        tags=body.tags, source=_source_for(me, body.source))

    def run(conn: Any) -> Ticket:
        ticket_id = creation.create_ticket(conn, new, actor_id=me.user_id, now=utcnow())
        return reading.get_ticket(conn, ticket_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "created")
    return _shown(me, ticket)


@router.route("GET", "/api/v1/tickets", roles=ANY_USER, summary="List tickets",
              query=TicketQuery, response=TicketPage)
async def list_tickets(req: ApiRequest) -> TicketPage:
    q: TicketQuery = req.query
    me = req.user
    statuses = q.status.split(",") if q.status else None
    if q.sort == "due" and not me.is_staff:  # SLA state is the desk's, as in _shown
        raise ValidationFailed("sort=due is only for staff")
    if statuses and set(statuses) - set(lifecycle.STATUSES):
        raise ValidationFailed("unknown status in {status!r}", status=q.status)
    group_ids: tuple[int, ...] = ()
    if q.view == "unassigned" and me.is_staff:
        group_ids = tuple(await req.app[DATABASE].read(lambda c: [
            r.group_id for r in c.execute(sa.select(group_members.c.group_id)
                                          .where(group_members.c.user_id == me.user_id))]))
    filters = listing.ListFilters(
        statuses=statuses, kind=q.kind, priority=q.priority, assignee=q.assignee,
        group_id=q.group_id, requester_id=q.requester_id, device_id=q.device_id,
        category_id=q.category_id, tag=q.tag, q=q.q, view=q.view,
        # Approvers see the requests waiting for them, whoever raised them.
        only_requester=None if me.is_staff or q.view == "awaiting_my_approval" else me.user_id,
        viewer_id=me.user_id, public_only=not me.is_staff, viewer_group_ids=group_ids)
    after = (decode_cursor(q.cursor, *listing.cursor_kinds(q.sort, searching=bool(q.q)))
             if q.cursor else None)
    limit = page_limit(req.app, q.limit)
    items, last = await req.app[DATABASE].read(
        lambda c: listing.list_tickets(c, filters, sort=q.sort, after=after, limit=limit))
    return TicketPage(items=[_shown(me, t) for t in items],
                      next_cursor=encode_cursor(*last) if last else None)


@router.route("GET", f"/api/v1/tickets/{TID}", roles=ANY_USER, summary="Get a ticket",
              response=Ticket)
async def get_ticket(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    await _visible_row(req, ticket_id)
    return _shown(req.user, await req.app[DATABASE].read(
        lambda c: reading.get_ticket(c, ticket_id)))


@router.route("PATCH", f"/api/v1/tickets/{TID}", roles=STAFF, summary="Update a ticket",
              body=TicketUpdate, response=Ticket)
async def update_ticket(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    changes = to_builtins(req.body)
    if not changes:
        raise ValidationFailed("nothing to change")
    me = req.user
    matrix = _matrix(req)

    def run(conn: Any) -> tuple[Ticket, dict[str, Any]]:
        diff = updating.update_ticket(conn, ticket_id, changes, actor_id=me.user_id,
                                      now=utcnow(), matrix=matrix)
        return reading.get_ticket(conn, ticket_id), diff

    ticket, diff = await req.app[DATABASE].write(run)
    if diff:
        # Field changes alone are the desk's; the requester hears of status changes and
        # of a new kind (their ticket's number changed).
        _publish(req, ticket, "updated", public="status" in diff or "kind" in diff)
    return ticket


@router.route("POST", f"/api/v1/tickets/{TID}/comments", roles=ANY_USER,
              summary="Reply to a ticket or add an internal note", body=CommentCreate,
              response=TicketEvents, status=201)
async def comment(req: ApiRequest) -> TicketEvents:
    ticket_id = int(req.params["ticket_id"])
    body: CommentCreate = req.body
    me = req.user
    await _visible_row(req, ticket_id)
    if body.internal and not me.is_staff:
        raise Forbidden("requesters cannot write internal notes")

    def run(conn: Any) -> tuple[Ticket, TicketEvents]:
        event_id = timeline.add_comment(conn, ticket_id, actor_id=me.user_id, body=body.body,
                                        public=not body.internal, now=utcnow())
        events = timeline.events_of(conn, ticket_id, public_only=False)
        return reading.get_ticket(conn, ticket_id), TicketEvents(
            items=[e for e in events if e.id == event_id])

    ticket, created = await req.app[DATABASE].write(run)
    _publish(req, ticket, "commented", public=not body.internal)
    return created


@router.route("GET", f"/api/v1/tickets/{TID}/events", roles=ANY_USER,
              summary="Get a ticket's timeline", response=TicketEvents)
async def events(req: ApiRequest) -> TicketEvents:
    ticket_id = int(req.params["ticket_id"])
    await _visible_row(req, ticket_id)
    public_only = not req.user.is_staff
    return TicketEvents(items=await req.app[DATABASE].read(
        lambda c: timeline.events_of(c, ticket_id, public_only=public_only)))


@router.route("POST", f"/api/v1/tickets/{TID}/reopen", roles=ANY_USER,
              summary="Reopen a resolved ticket", body=ReopenRequest, response=Ticket)
async def reopen(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    body: ReopenRequest = req.body
    me = req.user
    row = await _visible_row(req, ticket_id)
    window = dt.timedelta(days=req.app[SETTINGS].reopen_window_days)
    if row.status != "resolved":
        raise ValidationFailed("only a resolved ticket can be reopened; this one is "
                               "{status}", code="invalid_transition", status=row.status)
    if not me.is_staff and row.resolved_at is not None and utcnow() - row.resolved_at > window:
        raise ValidationFailed("the {days}-day window to reopen has passed; "
                               "please raise a new ticket", code="invalid_transition",
                               days=window.days)
    matrix = _matrix(req)

    def run(conn: Any) -> Ticket:
        now = utcnow()
        updating.update_ticket(conn, ticket_id, {"status": "in_progress"}, actor_id=me.user_id,
                               now=now, matrix=matrix)
        timeline.add_comment(conn, ticket_id, actor_id=me.user_id, body=body.reason,
                             public=True, now=now)
        return reading.get_ticket(conn, ticket_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "reopened")
    return _shown(me, ticket)


@router.route("POST", f"/api/v1/tickets/{TID}/close", roles=ANY_USER,
              summary="Confirm a resolved ticket and close it", response=Ticket)
async def close(req: ApiRequest) -> Ticket:
    ticket_id = int(req.params["ticket_id"])
    me = req.user
    row = await _visible_row(req, ticket_id)
    if row.status != "resolved":
        raise ValidationFailed("only a resolved ticket can be closed; this one is "
                               "{status}", code="invalid_transition", status=row.status)
    matrix = _matrix(req)

    def run(conn: Any) -> Ticket:
        updating.update_ticket(conn, ticket_id, {"status": "closed"}, actor_id=me.user_id,
                               now=utcnow(), matrix=matrix)
        return reading.get_ticket(conn, ticket_id)

    ticket = await req.app[DATABASE].write(run)
    _publish(req, ticket, "closed")
    return _shown(me, ticket)


@router.route("GET", "/api/v1/categories", roles=ANY_USER, summary="List categories",
              response=CategoryList)
async def list_categories(req: ApiRequest) -> CategoryList:
    rows = await req.app[DATABASE].read(categories.list_categories)
    return CategoryList(items=[Category(id=r.id, parent_id=r.parent_id, name=r.name,
                                        active=r.active) for r in rows])


@router.route("POST", "/api/v1/categories", roles=ADMIN,
              summary="Create a category", body=CategoryCreate, response=Category, status=201)
async def create_category(req: ApiRequest) -> Category:
    body: CategoryCreate = req.body
    name = body.name.strip()
    if not name:
        raise ValidationFailed("name must not be blank")
    actor = req.user.user_id

    def run(conn: Any) -> int:
        category_id = categories.create_category(conn, name, body.parent_id)
        audit.record(conn, actor_id=actor, action="category.create", target_type="category",
                     target_id=category_id, now=utcnow(), name=name)
        return category_id

    category_id = await req.app[DATABASE].write(run)
    return Category(id=category_id, parent_id=body.parent_id, name=name)


@router.route("PATCH", r"/api/v1/categories/{category_id:\d{1,18}}", roles=ADMIN,
              summary="Rename, move or retire a category", body=CategoryUpdate,
              response=Category)
async def update_category(req: ApiRequest) -> Category:
    category_id = int(req.params["category_id"])
    changes = to_builtins(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        row, changed = categories.update_category(conn, category_id, changes)
        if changed:
            audit.record(conn, actor_id=actor, action="category.update",
                         target_type="category", target_id=category_id, now=utcnow(),
                         **changed)
        return row

    row = await req.app[DATABASE].write(run)
    return Category(id=row.id, parent_id=row.parent_id, name=row.name, active=row.active)


@router.route("GET", "/api/v1/stream", roles=ANY_USER,
              summary="Follow changes live (Server-Sent Events)", produces="text/event-stream")
async def stream(req: ApiRequest) -> web.StreamResponse:
    me = req.user
    return await req.app[BROKER].stream(req.request,
                                        Subscriber(user_id=me.user_id, is_staff=me.is_staff))



def _attachment(row: Any) -> Attachment:
    return Attachment(id=row.id, ticket_id=row.ticket_id, filename=row.filename,
                      content_type=row.content_type, size=row.size, sha256=row.sha256,
                      public=row.public, event_id=row.event_id, created_at=row.created_at,
                      url=f"/api/v1/attachments/{row.id}")


@router.route("POST", f"/api/v1/tickets/{TID}/attachments", roles=ANY_USER,
              summary="Attach a file to a ticket", response=Attachment, status=201,
              upload=True)
async def upload_attachment(req: ApiRequest) -> Attachment:
    ticket_id = int(req.params["ticket_id"])
    me = req.user
    row = await _visible_row(req, ticket_id)
    if row.status in lifecycle.FINAL_STATUSES:
        raise ValidationFailed("a {status} ticket takes no more attachments",
                               code="invalid_transition", status=row.status)
    settings = req.app[SETTINGS]
    root = settings.data_dir / "attachments"
    internal = False
    received: tuple[str, int, str, Any] | None = None
    filename = "attachment"
    try:
        async for part in await FormReader.open(req.request):
            if part.name == "internal":
                value = (await part.text(limit=16)).strip().lower()
                if value not in ("true", "false"):
                    raise ValidationFailed("form field 'internal' must be true or false")
                internal = value == "true"
            elif part.name == "file" and received is None:
                filename = attachments.safe_filename(part.filename)
                received = await attachments.receive(part, root,
                                                     limit=settings.attachment_max_bytes)
            else:
                raise ValidationFailed("unexpected form field {name!r}; send one "
                                       "'file' and optionally 'internal'", name=part.name)
        if received is None:
            raise ValidationFailed("no 'file' field in the upload")
        if internal and not me.is_staff:
            raise Forbidden("requesters cannot attach internal files")
        sha256, size, kind, tmp = received
        target = attachments.store_path(root, sha256)
        await asyncio.to_thread(_place, tmp, target)
        received = None
    finally:
        if received is not None:
            await asyncio.to_thread(received[3].unlink, missing_ok=True)

    def run(conn: Any) -> tuple[Ticket, Any]:
        now = utcnow()
        event_id = timeline.add_event(conn, ticket_id, actor_id=me.user_id, type="attachment",
                                      public=not internal, now=now,
                                      changes={"attachment": {"filename": filename,
                                                              "size": size}})
        attachment_id = conn.execute(attachments_table.insert().values(
            ticket_id=ticket_id, event_id=event_id, filename=filename, content_type=kind,
            size=size, sha256=sha256, public=not internal, uploader_id=me.user_id,
            created_at=now)).inserted_primary_key[0]
        row = conn.execute(sa.select(attachments_table)
                           .where(attachments_table.c.id == attachment_id)).one()
        return reading.get_ticket(conn, ticket_id), row

    ticket, stored = await req.app[DATABASE].write(run)
    _publish(req, ticket, "attachment", public=not internal)
    return _attachment(stored)


def _place(tmp: Any, target: Any) -> None:
    """Move an upload into its content-addressed place (identical content is kept once)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        tmp.unlink()
    else:
        tmp.replace(target)


@router.route("GET", f"/api/v1/tickets/{TID}/attachments", roles=ANY_USER,
              summary="List a ticket's attachments", response=AttachmentList)
async def list_attachments(req: ApiRequest) -> AttachmentList:
    ticket_id = int(req.params["ticket_id"])
    await _visible_row(req, ticket_id)
    query = (sa.select(attachments_table).where(attachments_table.c.ticket_id == ticket_id)
             .order_by(attachments_table.c.id))
    if not req.user.is_staff:
        query = query.where(attachments_table.c.public.is_(True))
    rows = await req.app[DATABASE].read(lambda c: c.execute(query).all())
    return AttachmentList(items=[_attachment(r) for r in rows])


@router.route("GET", r"/api/v1/attachments/{attachment_id:\d{1,18}}", roles=ANY_USER,
              summary="Download an attachment", produces=attachments.SERVED_TYPES)
async def download_attachment(req: ApiRequest) -> web.StreamResponse:
    attachment_id = int(req.params["attachment_id"])
    me = req.user

    def run(conn: Any) -> tuple[Any, Any]:
        row = conn.execute(sa.select(attachments_table)
                           .where(attachments_table.c.id == attachment_id)).one_or_none()
        if row is None:
            raise NotFound("no attachment with id {attachment_id}", attachment_id=attachment_id)
        return row, reading.get_row(conn, row.ticket_id)

    row, ticket_row = await req.app[DATABASE].read(run)
    if not me.is_staff and (ticket_row.requester_id != me.user_id or not row.public):
        raise NotFound("no attachment with id {attachment_id}", attachment_id=attachment_id)
    path = attachments.store_path(req.app[SETTINGS].data_dir / "attachments", row.sha256)
    response = web.FileResponse(path, headers=attachments.download_headers(
        row.content_type, row.filename))
    return response
