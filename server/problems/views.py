"""HTTP handlers of problem management and of the recurring-problem suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from server.api.routing import STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.kb.search import sync
from server.keys import BROKER, DATABASE, SETTINGS
from server.problems import suggestions, work
from server.tickets import reading, scope
from server.tickets.priority import parse_matrix
from server.users.schemas import Strict

router = Router("problems")
PID = r"{problem_id:\d{1,18}}"
SID = r"{suggestion_id:\d{1,18}}"


class IncidentRef(Struct, kw_only=True):
    """An incident as a problem or a suggestion lists it."""

    id: int
    number: str
    title: str
    status: str


class IncidentList(Struct, kw_only=True):
    """A problem's incidents (open ones only when asked)."""

    items: list[IncidentRef]


class IncidentQuery(Strict):
    """open=1: only the incidents still open (those resolving the problem can resolve)."""

    open: Literal[0, 1] = 0


class LinkIncidents(Strict):
    """Incidents to link to the problem."""

    incident_ids: Annotated[list[int], Meta(min_length=1, max_length=500)]


class PublishedWorkaround(Struct, kw_only=True):
    """The KB article a problem's workaround was published as."""

    article_id: int


class ResolveProblem(Strict):
    """Resolve a problem and, with the same message, the open incidents chosen."""

    message: Annotated[str, Meta(min_length=1, max_length=20_000)]
    resolution_code: Annotated[str, Meta(min_length=1, max_length=64)] = "fixed"
    incident_ids: Annotated[list[int], Meta(max_length=500)] = []


class ResolvedProblem(Struct, kw_only=True):
    """What resolving a problem resolved."""

    problem_id: int
    incident_ids: list[int]


class Suggestion(Struct, kw_only=True):
    """A recurring problem found in the history: why, and its incidents."""

    id: int
    source: str  # health, text, category or software
    title: str
    detail: dict[str, Any]
    status: str
    problem_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    incidents: list[IncidentRef]


class SuggestionList(Struct, kw_only=True):
    """Suggestions the caller's groups may see."""

    items: list[Suggestion]


class SuggestionQuery(Strict):
    """Which suggestions: open (default), accepted or dismissed."""

    status: Literal["open", "accepted", "dismissed"] = "open"


class AcceptSuggestion(Strict):
    """Accept a suggestion as a new problem (title and group optional)."""

    title: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    group_id: int | None = None


class AcceptedSuggestion(Struct, kw_only=True):
    """The problem an accepted suggestion became."""

    problem_id: int


class Refreshed(Struct, kw_only=True):
    """How many suggestions are open after a fresh look at the history."""

    open: int


def _ref(r: Any) -> IncidentRef:
    return IncidentRef(id=r.id, number=r.number, title=r.title, status=r.status)


@router.route("GET", f"/api/v1/problems/{PID}/incidents", roles=STAFF,
              summary="List the incidents linked to a problem", query=IncidentQuery,
              response=IncidentList)
async def list_incidents(req: ApiRequest) -> IncidentList:
    problem_id = int(req.params["problem_id"])
    open_only = bool(req.query.open)

    def run(conn: Any) -> list[Any]:
        work.problem_row(conn, problem_id)
        return work.incidents_of(conn, problem_id, open_only=open_only)

    return IncidentList(items=[_ref(r) for r in await req.app[DATABASE].read(run)])


@router.route("POST", f"/api/v1/problems/{PID}/incidents", roles=STAFF,
              summary="Link incidents to a problem", body=LinkIncidents, response=IncidentList)
async def link_incidents(req: ApiRequest) -> IncidentList:
    problem_id = int(req.params["problem_id"])
    body: LinkIncidents = req.body
    me = req.user

    def run(conn: Any) -> list[Any]:
        work.link_incidents(conn, problem_id, body.incident_ids, actor_id=me.user_id,
                            now=utcnow())
        return work.incidents_of(conn, problem_id, open_only=False)

    return IncidentList(items=[_ref(r) for r in await req.app[DATABASE].write(run)])


@router.route("POST", f"/api/v1/problems/{PID}/workaround/publish", roles=STAFF,
              summary="Publish a problem's workaround as a KB article linked to it",
              response=PublishedWorkaround)
async def publish_workaround(req: ApiRequest) -> PublishedWorkaround:
    problem_id = int(req.params["problem_id"])
    me = req.user
    article_id = await req.app[DATABASE].write(lambda c: work.publish_workaround(
        c, problem_id, actor_id=me.user_id, now=utcnow()))
    await sync(req.app, [article_id])
    return PublishedWorkaround(article_id=article_id)


@router.route("POST", f"/api/v1/problems/{PID}/resolve", roles=STAFF,
              summary="Resolve a problem and the open incidents chosen, telling their requesters",
              body=ResolveProblem, response=ResolvedProblem)
async def resolve(req: ApiRequest) -> ResolvedProblem:
    problem_id = int(req.params["problem_id"])
    body: ResolveProblem = req.body
    me, matrix = req.user, parse_matrix(req.app[SETTINGS].priority_matrix)

    def run(conn: Any) -> tuple[list[int], list[Any]]:
        done = work.resolve(conn, problem_id, incident_ids=body.incident_ids,
                            message=body.message, resolution_code=body.resolution_code,
                            actor_id=me.user_id, now=utcnow(), matrix=matrix)
        return done, [reading.get_row(conn, t) for t in [problem_id, *done]]

    done, rows = await req.app[DATABASE].write(run)
    for row in rows:
        req.app[BROKER].publish_ticket(ticket_id=row.id, number=row.number,
                                       requester_id=row.requester_id, change="updated",
                                       public=True)
    return ResolvedProblem(problem_id=problem_id, incident_ids=done)


def _suggestion(item: dict[str, Any]) -> Suggestion:
    r = item["row"]
    return Suggestion(id=r.id, source=r.source, title=r.title, detail=r.detail or {},
                      status=r.status, problem_id=r.problem_id, created_at=r.created_at,
                      updated_at=r.updated_at, incidents=[_ref(t) for t in item["incidents"]])


@router.route("GET", "/api/v1/problem-suggestions", roles=STAFF,
              summary="List suggested recurring problems (within the caller's groups)",
              query=SuggestionQuery, response=SuggestionList)
async def list_suggestions(req: ApiRequest) -> SuggestionList:
    q: SuggestionQuery = req.query
    me = req.user

    def run(conn: Any) -> list[dict[str, Any]]:
        groups = scope.group_ids(conn, me.user_id, me.role)
        return suggestions.list_open(conn, groups, status=q.status)

    return SuggestionList(items=[_suggestion(i) for i in await req.app[DATABASE].read(run)])


@router.route("POST", "/api/v1/problem-suggestions/refresh", roles=STAFF,
              summary="Look for recurring problems in the history now", response=Refreshed)
async def refresh(req: ApiRequest) -> Refreshed:
    return Refreshed(open=await refresh_suggestions(req.app))


async def refresh_suggestions(app: Any) -> int:
    """Look for recurring problems now (the page's button, and every housekeeping pass)."""
    now = utcnow()
    found = await app[DATABASE].read(lambda c: suggestions.find(c, now))
    return int(await app[DATABASE].write(lambda c: suggestions.keep(c, found, now)))


@router.route("POST", f"/api/v1/problem-suggestions/{SID}/accept", roles=STAFF,
              summary="Accept a suggestion as a new problem linking its incidents",
              body=AcceptSuggestion, response=AcceptedSuggestion, status=201)
async def accept(req: ApiRequest) -> AcceptedSuggestion:
    suggestion_id = int(req.params["suggestion_id"])
    body: AcceptSuggestion = req.body
    me, matrix = req.user, parse_matrix(req.app[SETTINGS].priority_matrix)

    def run(conn: Any) -> int:
        groups = scope.group_ids(conn, me.user_id, me.role)
        return suggestions.accept(conn, suggestion_id, groups, actor_id=me.user_id,
                                  now=utcnow(), title=body.title, group_id=body.group_id,
                                  matrix=matrix)

    return AcceptedSuggestion(problem_id=await req.app[DATABASE].write(run))


@router.route("POST", f"/api/v1/problem-suggestions/{SID}/dismiss", roles=STAFF,
              summary="Dismiss a suggestion (the same finding is not suggested again)",
              status=204)
async def dismiss(req: ApiRequest) -> None:
    suggestion_id = int(req.params["suggestion_id"])
    me = req.user

    def run(conn: Any) -> None:
        groups = scope.group_ids(conn, me.user_id, me.role)
        suggestions.dismiss(conn, suggestion_id, groups, actor_id=me.user_id, now=utcnow())

    await req.app[DATABASE].write(run)
