"""HTTP handlers of the satisfaction survey: the portal's answer, the mail links, the figures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from server.api.routing import ANY_USER, PUBLIC, STAFF, ApiRequest, Router
from server.auth.devices import load_secret
from server.db.schema import tickets, utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.keys import BROKER, DATABASE, SETTINGS
from server.satisfaction import links, store
from server.satisfaction.answers import Answer, answers
from server.tickets import reading, scope
from server.users.schemas import Strict

router = Router("satisfaction")
TID = r"{ticket_id:\d{1,18}}"
COMMENT_MINUTES = 60  # a mail link's page takes a comment this long after the click

Score = Annotated[int, Meta(ge=1, le=5)]
Comment = Annotated[str, Meta(max_length=store.COMMENT_MAX)]
Token = Annotated[str, Meta(min_length=20, max_length=120)]


class RatingCreate(Strict):
    """The requester's score (1 very poor .. 5 excellent) and an optional comment."""

    score: Score
    comment: Comment = ""


class RatingState(Struct, kw_only=True):
    """A ticket's answer and whether (until when) its requester may still change it."""

    ticket_id: int
    number: str
    title: str
    score: int | None
    comment: str | None
    via: str | None
    at: dt.datetime | None
    changeable_until: dt.datetime | None  # None: not answered yet, or may not change
    flagged: bool = False


class SurveyAnswer(Strict):
    """A click on a survey link of the resolution mail (the token is the credential)."""

    token: Token


class SurveyComment(Strict):
    """A comment added on the page a survey link opened (within the hour)."""

    token: Token
    comment: Annotated[str, Meta(min_length=1, max_length=store.COMMENT_MAX)]


class AggregateQuery(Strict):
    """Which figures: per technician or group, over the last ``days`` days (0: all)."""

    by: Literal["technician", "group"] = "technician"
    days: Annotated[int, Meta(ge=0, le=3660)] = 90


class AggregateRow(Struct, kw_only=True):
    """One technician's or group's answers."""

    id: int | None
    name: str | None
    answers: int
    average: float
    low: int  # answers at or below the low-score setting
    scores: list[int]  # how many 1s, 2s .. 5s


class Aggregate(Struct, kw_only=True):
    """Satisfaction per technician or group, within the caller's scope."""

    by: str
    days: int
    low_score: int
    total: int
    average: float | None
    items: list[AggregateRow]


def _state(row: Any, answer: Answer | None, change_hours: int,
           now: dt.datetime) -> RatingState:
    until = None
    if answer is not None:
        end = answer.first_at + dt.timedelta(hours=change_hours)
        until = end if end > now else None
    return RatingState(ticket_id=row.id, number=row.number, title=row.title,
                       score=answer.score if answer else None,
                       comment=answer.comment if answer else None,
                       via=answer.via if answer else None, at=answer.at if answer else None,
                       changeable_until=until,
                       flagged=row.satisfaction_flagged_at is not None)


def _publish(req: ApiRequest, row: Any) -> None:
    req.app[BROKER].publish_ticket(ticket_id=row.id, number=row.number,
                                   requester_id=row.requester_id, change="rating",
                                   public=False)


@router.route("GET", f"/api/v1/tickets/{TID}/rating", roles=ANY_USER,
              summary="Read a ticket's satisfaction answer", response=RatingState)
async def get_rating(req: ApiRequest) -> RatingState:
    ticket_id = int(req.params["ticket_id"])
    me, hours = req.user, req.app[SETTINGS].satisfaction_change_hours
    row = await req.app[DATABASE].read(lambda c: reading.get_row(c, ticket_id))
    if not me.is_staff and row.requester_id != me.user_id:
        raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
    answer = (await req.app[DATABASE].read(lambda c: answers(c, [ticket_id]))).get(ticket_id)
    state = _state(row, answer, hours, utcnow())
    return state if me.is_staff else RatingState(**{**_fields(state), "flagged": False})


def _fields(state: RatingState) -> dict[str, Any]:
    return {f: getattr(state, f) for f in state.__struct_fields__}


@router.route("PUT", f"/api/v1/tickets/{TID}/rating", roles=ANY_USER,
              summary="Rate a resolved ticket (its requester; changeable for a while)",
              body=RatingCreate, response=RatingState)
async def put_rating(req: ApiRequest) -> RatingState:
    ticket_id = int(req.params["ticket_id"])
    body: RatingCreate = req.body
    me, settings, now = req.user, req.app[SETTINGS], utcnow()

    def run(conn: Any) -> tuple[Any, Answer]:
        row = reading.get_row(conn, ticket_id)
        if row.requester_id != me.user_id:
            if me.is_staff:
                raise Forbidden("only the requester of {number} can rate it",
                                number=row.number)
            raise NotFound("no ticket with id {ticket_id}", ticket_id=ticket_id)
        answer = store.record(conn, row, score=body.score, comment=body.comment,
                              via="portal", now=now,
                              change_hours=settings.satisfaction_change_hours,
                              low_score=settings.satisfaction_low_score)
        return reading.get_row(conn, ticket_id), answer

    row, answer = await req.app[DATABASE].write(run)
    _publish(req, row)
    state = _state(row, answer, settings.satisfaction_change_hours, now)
    return RatingState(**{**_fields(state), "flagged": False})


@router.route("DELETE", f"/api/v1/tickets/{TID}/rating/flag", roles=STAFF,
              summary="Take a low-score flag off a ticket (the group's manager or an admin)",
              status=204)
async def clear_flag(req: ApiRequest) -> None:
    ticket_id = int(req.params["ticket_id"])
    me = req.user

    def run(conn: Any) -> Any:
        row = reading.get_row(conn, ticket_id)
        if not store.may_clear(conn, row, user_id=me.user_id, role=me.role):
            raise Forbidden("only the manager of the ticket's group or an admin can clear "
                            "its low-score flag")
        if not store.clear_flag(conn, ticket_id, actor_id=me.user_id, now=utcnow()):
            raise NotFound("ticket {number} has no low-score flag", number=row.number)
        return row

    _publish(req, await req.app[DATABASE].write(run))


async def _link_ticket(req: ApiRequest, token: str) -> tuple[Any, links.Link, bytes]:
    """Return the ticket row and the verified link, or refuse the link clearly."""
    now = utcnow()
    try:
        ticket_id = links.ticket_of(token)
    except links.LinkError as exc:
        raise ValidationFailed("this survey link is not valid", code=exc.code) from exc

    def run(conn: Any) -> tuple[Any, bytes]:
        row = conn.execute(tickets.select().where(tickets.c.id == ticket_id)).one_or_none()
        return row, load_secret(conn, links.SECRET_NAME, now)

    row, key = await req.app[DATABASE].write(run)
    if row is None:  # the same answer as a forged link: nothing to learn about ids
        raise ValidationFailed("this survey link is not valid", code="invalid_link")
    try:
        link = links.verify(key, token, requester_id=row.requester_id, now=now)
    except links.LinkError as exc:
        if exc.code == "expired_link":
            raise ValidationFailed("this survey link has expired; you can still rate the "
                                   "ticket in the portal", code=exc.code) from exc
        raise ValidationFailed("this survey link is not valid", code=exc.code) from exc
    return row, link, key


@router.route("POST", "/api/v1/survey/answer", roles=PUBLIC,
              summary="Record the score of a survey link from a resolution mail",
              body=SurveyAnswer, response=RatingState, limited=True)
async def survey_answer(req: ApiRequest) -> RatingState:
    body: SurveyAnswer = req.body
    row, link, _key = await _link_ticket(req, body.token)
    settings, now = req.app[SETTINGS], utcnow()

    def run(conn: Any) -> tuple[Any, Answer]:
        fresh = reading.get_row(conn, row.id)
        before = answers(conn, [row.id]).get(row.id)
        if before is not None and link.nonce in before.links:
            raise Conflict("this survey link was already used; you can change your answer "
                           "in the portal", code="used_link")
        answer = store.record(conn, fresh, score=link.score, comment=None, via="mail",
                              now=now, change_hours=settings.satisfaction_change_hours,
                              low_score=settings.satisfaction_low_score, link=link.nonce,
                              keep_comment=True)
        return reading.get_row(conn, row.id), answer

    fresh, answer = await req.app[DATABASE].write(run)
    _publish(req, fresh)
    state = _state(fresh, answer, settings.satisfaction_change_hours, now)
    return RatingState(**{**_fields(state), "flagged": False,
                          "changeable_until": now + dt.timedelta(minutes=COMMENT_MINUTES)})


@router.route("POST", "/api/v1/survey/comment", roles=PUBLIC,
              summary="Add a comment to the score a survey link recorded",
              body=SurveyComment, response=RatingState, limited=True)
async def survey_comment(req: ApiRequest) -> RatingState:
    body: SurveyComment = req.body
    row, link, _key = await _link_ticket(req, body.token)
    settings, now = req.app[SETTINGS], utcnow()

    def run(conn: Any) -> tuple[Any, Answer]:
        fresh = reading.get_row(conn, row.id)
        current = answers(conn, [row.id]).get(row.id)
        if current is None or link.nonce not in current.links:
            raise Conflict("this survey link has not recorded an answer yet",
                           code="not_answered")
        if now - current.at > dt.timedelta(minutes=COMMENT_MINUTES):
            raise Conflict("the comment page of this link has expired; you can add a "
                           "comment in the portal", code="used_link")
        answer = store.record(conn, fresh, score=current.score, comment=body.comment,
                              via="mail", now=now,
                              change_hours=settings.satisfaction_change_hours,
                              low_score=settings.satisfaction_low_score, link=link.nonce)
        return reading.get_row(conn, row.id), answer

    fresh, answer = await req.app[DATABASE].write(run)
    _publish(req, fresh)
    state = _state(fresh, answer, settings.satisfaction_change_hours, now)
    return RatingState(**{**_fields(state), "flagged": False})


@router.route("GET", "/api/v1/satisfaction", roles=STAFF,
              summary="Satisfaction per technician or group (within the caller's groups)",
              query=AggregateQuery, response=Aggregate)
async def aggregate(req: ApiRequest) -> Aggregate:
    q: AggregateQuery = req.query
    me, low = req.user, req.app[SETTINGS].satisfaction_low_score
    since = utcnow() - dt.timedelta(days=q.days) if q.days else None

    def run(conn: Any) -> list[store.Row]:
        groups = scope.group_ids(conn, me.user_id, me.role)
        return store.aggregate(conn, by=q.by, scope=scope.ticket_filter(groups),
                               since=since, low_score=low)

    rows = await req.app[DATABASE].read(run)
    total = sum(r.answers for r in rows)
    average = round(sum(r.average * r.answers for r in rows) / total, 2) if total else None
    return Aggregate(by=q.by, days=q.days, low_score=low, total=total, average=average,
                     items=[AggregateRow(id=r.id, name=r.name, answers=r.answers,
                                         average=r.average, low=r.low, scores=list(r.scores))
                            for r in rows])
