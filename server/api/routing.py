"""Declared API endpoints: one record drives routing, validation, roles and OpenAPI.

Each domain module builds a :class:`Router` and declares its endpoints with
:meth:`Router.route`. The same msgspec types that decode a request body or query are the
ones :mod:`server.api.openapi` publishes, so the document cannot drift from the checks.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from server.api.rules import check_plain, check_values
from server.auth.identity import SAFE_METHODS, Identity, Role, check_csrf
from server.errors import (
    BadRequest,
    Forbidden,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from server.i18n.validation import explain
from server.keys import IDENTITY, SETTINGS

ADMIN: frozenset[Role] = frozenset({"admin"})
STAFF: frozenset[Role] = frozenset({"admin", "technician"})
ANY_USER: frozenset[Role] = frozenset({"admin", "technician", "requester"})
PUBLIC: frozenset[Role] = frozenset()

# {name} or {name:regex}; the regex may hold a {m,n} quantifier.
_PARAM = re.compile(r"\{(\w+)(?::((?:[^{}]|\{\d+(?:,\d*)?\})+))?\}")

_decoders: dict[type, msgspec.json.Decoder[Any]] = {}
_encoder = msgspec.json.Encoder()


@dataclass
class ApiRequest:
    """What a handler receives: the decoded input and who is asking."""

    request: web.Request
    identity: Identity | None
    body: Any = None
    query: Any = None
    params: dict[str, int | str] = field(default_factory=dict)

    @property
    def user(self) -> Identity:
        """Return the authenticated caller (handlers of non-public routes only)."""
        if self.identity is None:  # pragma: no cover - the wrapper guarantees it
            raise Unauthorized("authentication required")
        return self.identity

    @property
    def app(self) -> web.Application:
        """Return the application."""
        return self.request.app


Handler = Callable[[ApiRequest], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    """One declared route."""

    method: str
    path: str  # aiohttp form, e.g. /api/v1/users/{user_id:\d{1,18}}
    handler: Handler
    roles: frozenset[Role]
    summary: str
    tag: str
    body: type | None = None
    query: type | None = None
    response: Any = None
    status: int = 200
    csrf_exempt: bool = False
    produces: str = "application/json"  # several: "image/png, text/plain"
    upload: bool = False  # the handler reads a multipart/form-data body itself
    raw_body: bool = False  # the handler streams an application/octet-stream body itself
    limited: bool = False  # may answer 429 rate_limited with Retry-After
    # open to an admin who must set up a second factor first (totp_required_for_admins)
    before_second_factor: bool = False

    @property
    def openapi_path(self) -> str:
        """Return the path with regexes stripped, as OpenAPI writes it."""
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)

    @property
    def int_params(self) -> set[str]:
        """Return names of path parameters constrained to digits."""
        return {m.group(1) for m in _PARAM.finditer(self.path)
                if m.group(2) is not None and m.group(2).startswith(r"\d")}

    @property
    def path_params(self) -> list[str]:
        """Return the names of all path parameters in order."""
        return [m.group(1) for m in _PARAM.finditer(self.path)]


def json_response(data: Any, *, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    """Encode ``data`` (msgspec structs, dicts, lists) as a JSON response."""
    return web.Response(body=_encoder.encode(data), status=status,
                        content_type="application/json", headers=headers)


def _decoder(kind: type) -> msgspec.json.Decoder[Any]:
    if kind not in _decoders:
        _decoders[kind] = msgspec.json.Decoder(kind)
    return _decoders[kind]


async def _read_body(request: web.Request, kind: type) -> Any:
    """Read and validate a JSON body against ``kind``."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("request body must be application/json")
    raw = await request.read()  # aiohttp enforces client_max_size here (413)
    if not raw:
        raise BadRequest("request body is empty; expected a JSON object", code="invalid_json")
    try:
        body = _decoder(kind).decode(raw)
    except msgspec.ValidationError as exc:
        # msgspec validates while parsing, so a truncated body can fail on a field
        # first; report malformed JSON as such (checked on this error path only).
        _check_well_formed(raw)
        message, field = explain(str(exc))
        raise ValidationFailed(message, field=field) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest("malformed JSON: {exc}", code="invalid_json", exc=exc) from exc
    except RecursionError as exc:  # msgspec recurses per nesting level
        raise _too_deep() from exc
    check_values(body, kind)
    return body


def _too_deep() -> BadRequest:
    return BadRequest("malformed JSON: nested too deeply", code="invalid_json")


def _check_well_formed(raw: bytes) -> None:
    try:
        msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest("malformed JSON: {exc}", code="invalid_json", exc=exc) from exc
    except RecursionError as exc:
        raise _too_deep() from exc


def _read_query(request: web.Request, kind: type | None) -> Any:
    """Validate the query string against ``kind`` (no parameters allowed if None)."""
    if kind is None:
        if request.query:
            raise ValidationFailed("unknown query parameter {name!r}",
                                   name=next(iter(request.query)))
        return None
    raw: dict[str, str] = {}
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            raise ValidationFailed("query parameter {key!r} given more than once", key=key)
        raw[key] = values[0]
    try:
        query: Any = msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        message, field = explain(str(exc), where="query")
        raise ValidationFailed(message, field=field) from exc
    check_values(query, kind, where="query")
    return query


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        identity = request.get(IDENTITY)
        if endpoint.roles:
            if identity is None:
                raise Unauthorized("authentication required")
            if identity.role not in endpoint.roles:
                raise Forbidden("role {role!r} may not {summary}", role=identity.role,
                                summary=endpoint.summary.lower())
            if (identity.role == "admin" and not identity.second_factor
                    and not endpoint.before_second_factor
                    and request.app[SETTINGS].totp_required_for_admins):
                raise Forbidden("admins must set up a second factor first (Account page)",
                                code="second_factor_enrolment_required")
            if (identity.via == "session" and request.method not in SAFE_METHODS
                    and not endpoint.csrf_exempt):
                check_csrf(request, identity)
        params: dict[str, int | str] = {}
        for name, value in request.match_info.items():
            check_plain(value, where=f"path parameter {name!r}")
            params[name] = int(value) if name in endpoint.int_params else value
        query = _read_query(request, endpoint.query)
        body = await _read_body(request, endpoint.body) if endpoint.body else None
        if (endpoint.body is None and not endpoint.upload and not endpoint.raw_body
                and request.method in ("POST", "PUT", "PATCH", "DELETE")):
            if (await request.read()):
                raise ValidationFailed("this endpoint takes no request body")
        result = await endpoint.handler(
            ApiRequest(request=request, identity=identity, body=body, query=query,
                       params=params)
        )
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204)
        return json_response(result, status=endpoint.status)

    view.__name__ = endpoint.handler.__name__
    return view


class Router:
    """Collects endpoint declarations for one domain."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: frozenset[Role],
        summary: str,
        body: type | None = None,
        query: type | None = None,
        response: Any = None,
        status: int = 200,
        csrf_exempt: bool = False,
        produces: str = "application/json",
        upload: bool = False,
        raw_body: bool = False,
        limited: bool = False,
        before_second_factor: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Declare the decorated coroutine as the handler of ``method path``."""

        def decorate(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(
                method=method, path=path, handler=handler, roles=roles, summary=summary,
                tag=self.tag, body=body, query=query, response=response, status=status,
                csrf_exempt=csrf_exempt, produces=produces, upload=upload, raw_body=raw_body,
                limited=limited, before_second_factor=before_second_factor,
            ))
            return handler

        return decorate


def install(app: web.Application, routers: Iterable[Router]) -> list[Endpoint]:
    """Add every endpoint of ``routers`` to ``app`` and return them."""
    endpoints = [e for r in routers for e in r.endpoints]
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint))
    return endpoints


def page_limit(app: web.Application, requested: int | None, default: int = 50) -> int:
    """Clamp a requested page size to the configured maximum."""
    limit = default if requested is None else requested
    return max(1, min(limit, app[SETTINGS].page_size_max))
