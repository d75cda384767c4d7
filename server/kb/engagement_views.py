"""HTTP handlers for deflection, feedback, statistics, ticket links and required reading."""

from __future__ import annotations

from typing import Any

from server.api.pagination import INT, decode_cursor, encode_cursor
from server.api.routing import ANY_USER, STAFF, ApiRequest, Router, page_limit
from server.db.schema import utcnow
from server.errors import NotFound, ValidationFailed
from server.kb import engagement, search, store
from server.kb.engagement_schemas import (
    Acknowledgement,
    Assignment,
    Deflection,
    DeflectionCreate,
    Feedback,
    FeedbackCreate,
    LinkedArticles,
    RequiredReading,
    RequiredReadingCreate,
    RequiredReadingQuery,
    StatsPage,
    StatsQuery,
)
from server.kb.schemas import Article
from server.kb.views import viewer
from server.keys import BROKER, DATABASE
from server.tickets import reading as ticket_reading
from server.tickets import timeline as ticket_timeline
from server.tickets.schemas import TicketEvents

router = Router("kb")
AID = r"{article_id:\d{1,18}}"
TID = r"{ticket_id:\d{1,18}}"
GID = r"{group_id:\d{1,18}}"
FROM_TICKET_STATUSES = ("resolved", "closed")


def _ticket_row(conn: Any, ticket_id: int, me: store.Viewer) -> Any:
    """Return a ticket row the caller may see (requesters: their own; else 404)."""
    row = ticket_reading.get_row(conn, ticket_id)
    if not me.is_staff and me.user_id not in (row.requester_id, row.approver_id):
        raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
    return row


@router.route("POST", f"/api/v1/kb/articles/{AID}/deflections", roles=ANY_USER,
              summary="Record that an article solved the problem", body=DeflectionCreate,
              response=Deflection, status=201)
async def deflect(req: ApiRequest) -> Deflection:
    article_id = int(req.params["article_id"])
    body: DeflectionCreate = req.body
    me = viewer(req)

    def run(conn: Any) -> Deflection:
        store.get_row(conn, article_id, me)
        return engagement.deflect(conn, article_id, user_id=me.user_id,
                                  query=body.query.strip(), now=utcnow())

    return await req.app[DATABASE].write(run)


@router.route("PUT", f"/api/v1/kb/articles/{AID}/feedback", roles=ANY_USER,
              summary="Say whether an article helped", body=FeedbackCreate,
              response=Feedback)
async def feedback(req: ApiRequest) -> Feedback:
    article_id = int(req.params["article_id"])
    body: FeedbackCreate = req.body
    me = viewer(req)
    comment = body.comment.strip() if body.comment else None

    def run(conn: Any) -> Feedback:
        store.get_row(conn, article_id, me)
        return engagement.give_feedback(conn, article_id, user_id=me.user_id,
                                        helpful=body.helpful, comment=comment or None,
                                        now=utcnow())

    return await req.app[DATABASE].write(run)


@router.route("GET", "/api/v1/kb/stats", roles=STAFF,
              summary="Views, deflections and feedback per article", query=StatsQuery,
              response=StatsPage)
async def kb_stats(req: ApiRequest) -> StatsPage:
    q: StatsQuery = req.query
    after = None
    if q.cursor:
        (after,) = decode_cursor(q.cursor, INT)
    limit = page_limit(req.app, q.limit)
    items, last = await req.app[DATABASE].read(
        lambda c: engagement.stats(c, after=after, limit=limit))
    return StatsPage(items=items, next_cursor=encode_cursor(last) if last else None)


@router.route("GET", f"/api/v1/tickets/{TID}/kb-links", roles=ANY_USER,
              summary="List the articles linked to a ticket", response=LinkedArticles)
async def ticket_links(req: ApiRequest) -> LinkedArticles:
    ticket_id = int(req.params["ticket_id"])
    me = viewer(req)

    def run(conn: Any) -> LinkedArticles:
        _ticket_row(conn, ticket_id, me)
        rows = engagement.linked_articles(conn, ticket_id, me)
        return LinkedArticles(items=store.summaries(conn, rows))

    return await req.app[DATABASE].read(run)


@router.route("POST", f"/api/v1/tickets/{TID}/kb-links/{AID}", roles=STAFF,
              summary="Link an article to a ticket", response=LinkedArticles, status=201)
async def link_article(req: ApiRequest) -> LinkedArticles:
    ticket_id, article_id = int(req.params["ticket_id"]), int(req.params["article_id"])
    me = viewer(req)

    def run(conn: Any) -> LinkedArticles:
        ticket_reading.get_row(conn, ticket_id)
        store.get_row(conn, article_id, me)
        engagement.link_ticket(conn, ticket_id, article_id, actor_id=me.user_id,
                               now=utcnow())
        return LinkedArticles(items=store.summaries(
            conn, engagement.linked_articles(conn, ticket_id, me)))

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/tickets/{TID}/kb-links/{AID}", roles=STAFF,
              summary="Unlink an article from a ticket", status=204)
async def unlink_article(req: ApiRequest) -> None:
    ticket_id, article_id = int(req.params["ticket_id"]), int(req.params["article_id"])
    await req.app[DATABASE].write(
        lambda c: engagement.unlink_ticket(c, ticket_id, article_id))


@router.route("POST", f"/api/v1/kb/articles/from-ticket/{TID}", roles=STAFF,
              summary="Draft an article from a resolved ticket", response=Article,
              status=201)
async def from_ticket(req: ApiRequest) -> Article:
    ticket_id = int(req.params["ticket_id"])
    me = viewer(req)

    def run(conn: Any) -> Article:
        row = ticket_reading.get_row(conn, ticket_id)
        if row.status not in FROM_TICKET_STATUSES:
            raise ValidationFailed("only a resolved ticket can become an article; "
                                   "{number} is {status}", code="invalid_transition",
                                   number=row.number, status=row.status)
        parts = [row.description.strip()]
        if row.resolution_note:
            parts.append(f"## Resolution\n\n{row.resolution_note.strip()}")
        now = utcnow()
        article_id = store.create_article(conn, {
            "title": row.title, "summary": "", "body": "\n\n".join(p for p in parts if p),
            "category_id": None, "visibility": "internal", "status": "draft", "tags": [],
        }, editor_id=me.user_id, now=now)
        engagement.link_ticket(conn, ticket_id, article_id, actor_id=me.user_id, now=now)
        return store.get_article(conn, article_id, me)

    article = await req.app[DATABASE].write(run)
    await search.sync(req.app, [article.id])
    return article


@router.route("POST", f"/api/v1/kb/articles/{AID}/send-to-ticket/{TID}", roles=STAFF,
              summary="Reply to a ticket with an article", response=TicketEvents,
              status=201)
async def send_to_ticket(req: ApiRequest) -> TicketEvents:
    article_id, ticket_id = int(req.params["article_id"]), int(req.params["ticket_id"])
    me = viewer(req)

    def run(conn: Any) -> tuple[Any, TicketEvents]:
        article = store.get_row(conn, article_id, me)
        if (article.status, article.visibility) != ("published", "public"):
            raise ValidationFailed("only a public, published article can be sent to a "
                                   "requester", code="not_public")
        lines = [f"**{article.title}**"]
        if article.summary:
            lines.append(article.summary)
        lines.append(f"/kb/articles/{article_id}")
        now = utcnow()
        event_id = ticket_timeline.add_comment(conn, ticket_id, actor_id=me.user_id,
                                               body="\n\n".join(lines), public=True, now=now)
        engagement.link_ticket(conn, ticket_id, article_id, actor_id=me.user_id, now=now)
        events = ticket_timeline.events_of(conn, ticket_id, public_only=False)
        return ticket_reading.get_ticket(conn, ticket_id), TicketEvents(
            items=[e for e in events if e.id == event_id])

    ticket, created = await req.app[DATABASE].write(run)
    req.app[BROKER].publish_ticket(ticket_id=ticket.id, number=ticket.number,
                                   requester_id=ticket.requester.id, change="commented",
                                   public=True)
    return created


@router.route("POST", f"/api/v1/kb/articles/{AID}/required-reading", roles=STAFF,
              summary="Make an article required reading for a group",
              body=RequiredReadingCreate, response=Assignment, status=201)
async def assign_reading(req: ApiRequest) -> Assignment:
    article_id = int(req.params["article_id"])
    body: RequiredReadingCreate = req.body
    me = viewer(req)

    def run(conn: Any) -> Assignment:
        store.get_row(conn, article_id, me)
        return engagement.assign_reading(conn, article_id, body.group_id,
                                         actor_id=me.user_id, now=utcnow())

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/kb/articles/{AID}/required-reading/{GID}", roles=STAFF,
              summary="Stop requiring an article for a group", status=204)
async def unassign_reading(req: ApiRequest) -> None:
    article_id, group_id = int(req.params["article_id"]), int(req.params["group_id"])
    await req.app[DATABASE].write(
        lambda c: engagement.unassign_reading(c, article_id, group_id))


@router.route("POST", f"/api/v1/kb/articles/{AID}/acknowledge", roles=ANY_USER,
              summary="Confirm having read a required article", response=Acknowledgement)
async def acknowledge(req: ApiRequest) -> Acknowledgement:
    article_id = int(req.params["article_id"])
    me = viewer(req)

    def run(conn: Any) -> Acknowledgement:
        row = store.get_row(conn, article_id, me)
        return engagement.acknowledge(conn, article_id, user_id=me.user_id,
                                      version=row.version, now=utcnow())

    return await req.app[DATABASE].write(run)


@router.route("GET", "/api/v1/kb/required-reading", roles=ANY_USER,
              summary="Show required reading: one's own and, for staff, who has not read",
              query=RequiredReadingQuery, response=RequiredReading)
async def required_reading(req: ApiRequest) -> RequiredReading:
    q: RequiredReadingQuery = req.query
    me = viewer(req)
    if q.group_id is not None and not me.is_staff:
        raise NotFound("the overview by group is for staff")

    def run(conn: Any) -> RequiredReading:
        return RequiredReading(
            mine=engagement.pending_for(conn, me),
            overview=engagement.overview(conn, group_id=q.group_id) if me.is_staff else None)

    return await req.app[DATABASE].read(run)
