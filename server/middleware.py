"""Request middleware: the one error shape, security headers, client address, identity."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from server.api.routing import json_response
from server.auth import credentials
from server.auth.identity import Identity
from server.auth.identity_cache import Entry
from server.db.database import is_unique_violation
from server.db.schema import utcnow
from server.errors import HTTP_STATUS_CODES, ApiError, Unauthorized
from server.i18n.catalogues import Translator, languages, translator
from server.i18n.messages import N_, Message
from server.i18n.negotiate import best_language
from server.keys import CLIENT_IP, DATABASE, IDENTITY, IDENTITY_CACHE, METRICS, SETTINGS

log = logging.getLogger("deskmate.http")

SESSION_COOKIE = "deskmate_session"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No inline script or style anywhere: the console is plain ES modules and CSS files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# aiohttp's own refusals (routing, methods) by status, in words the catalogues hold.
_HTTP_MESSAGES: dict[int, Message] = {
    400: N_("bad request"),
    401: N_("authentication required"),
    403: N_("forbidden"),
    404: N_("not found"),
    405: N_("method not allowed"),
    406: N_("not acceptable"),
    415: N_("unsupported media type"),
    503: N_("service unavailable"),
}


def request_translator(request: web.Request) -> Translator:
    """Return the caller's language: their own choice, else Accept-Language, else the
    server's default_language (English unless set)."""
    identity = request.get(IDENTITY)
    chosen = identity.language if identity is not None else None
    if chosen not in languages():
        chosen = (best_language(request.headers.get("Accept-Language"), languages())
                  or request.app[SETTINGS].default_language)
    return translator(chosen)


def _error_response(request: web.Request, status: int, error: ApiError) -> web.Response:
    body = error.body(request_translator(request).lookup)
    return json_response(body, status=status, headers=error.headers)


@web.middleware
async def error_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Turn every error into ``{"error": {"code", "message"}}`` with the right status, the
    message in the caller's language."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error_response(request, exc.status, exc)
    except OverflowError:
        # A number the database cannot hold (ids and filters are 64-bit).
        return _error_response(request, 422, ApiError(
            "a number in the request is too large", code="validation_error"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_STATUS_CODES.get(exc.status, "http_error")
        message: Message | str = _HTTP_MESSAGES.get(exc.status) or exc.reason.lower()
        if exc.text and not exc.text.startswith(str(exc.status)):
            message = exc.text
        if exc.status == 413:
            message = N_("request body too large; the limit is {limit} bytes",
                         limit=request.app[SETTINGS].max_body_bytes)
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        # A free text (not a template) must not be read as one: braces stay braces.
        if isinstance(message, str):
            message = Message("{text}", {"text": message})
        return _error_response(request, exc.status, ApiError(message, code=code,
                                                             headers=headers))
    except Exception as exc:
        if is_unique_violation(exc):
            # Checked before writing, so this is a duplicate written at the same moment
            # (on another node) or a check that missed a spelling: a conflict either way.
            log.warning("duplicate refused by the database on %s %s: %s", request.method,
                        request.path, getattr(exc, "orig", exc))
            return _error_response(request, 409, ApiError(
                "a record with this name or key exists already", code="conflict"))
        incident = secrets.token_hex(6)
        log.exception("unhandled error %s on %s %s", incident, request.method, request.path)
        return _error_response(request, 500, ApiError(
            "internal error; reference {incident} in the server log", code="internal_error",
            incident=incident))


@web.middleware
async def headers_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Add security headers to every response; never cache API answers."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects and the like still get the headers
        exc.headers.update(SECURITY_HEADERS)
        raise
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)  # a handler's stricter policy wins
    response.headers["Server"] = "Deskmate"  # no framework or version for fingerprinting
    if not request.app[SETTINGS].behind_proxy:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    elif request.path.startswith("/static/"):
        # Revalidate (ETag) on every load so an upgrade never runs stale modules.
        response.headers["Cache-Control"] = "no-cache"
    return response


def _client_ip(request: web.Request) -> str:
    """Return the client address, believing X-Forwarded-For only from trusted proxies."""
    peer = request.remote or ""
    settings = request.app[SETTINGS]
    if settings.behind_proxy and peer in settings.trusted_proxies:
        forwarded = request.headers.get("X-Forwarded-For", "")
        # The right-most address not itself a trusted proxy is the real client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            if hop not in settings.trusted_proxies:
                return hop
    return peer


async def _resolve(request: web.Request, via: str, secret: str,
                   now: dt.datetime) -> Identity | None:
    """Return who ``secret`` (a bearer token or a session cookie) belongs to, from the
    identity cache or one database read; refresh its last-use time once a minute."""
    app = request.app
    db, cache = app[DATABASE], app[IDENTITY_CACHE]
    idle = dt.timedelta(minutes=app[SETTINGS].session_idle_minutes)
    key = via[0] + credentials.digest(secret)
    entry = cache.get(key) if cache.enabled else None
    if entry is not None:
        expires = entry.identity.expires_at
        if (expires is not None and expires <= now) or (
                via == "session" and entry.seen is not None and entry.seen + idle <= now):
            cache.drop(key)
            entry = None
    if entry is None:
        generation = cache.generation
        if via == "token":
            found = await db.read(lambda c: credentials.find_token(c, secret, now=now))
        else:
            found = await db.read(lambda c: credentials.find_session(c, secret, now=now,
                                                                     idle=idle))
        if found is None:
            return None
        entry = Entry(identity=found.identity, seen=found.seen)
        cache.put(key, entry, generation)
    if credentials.is_stale(entry.seen, now):
        touch = credentials.touch_token if via == "token" else credentials.touch_session
        credential_id = entry.identity.credential_id
        await db.write(lambda c: touch(c, credential_id, now))
        entry.seen = now
    return entry.identity


@web.middleware
async def identity_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Resolve the caller from a bearer token or the session cookie."""
    request[CLIENT_IP] = _client_ip(request)
    request[IDENTITY] = None
    auth = request.headers.get("Authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    if auth is None and cookie is None:
        return await handler(request)
    now = utcnow()
    if auth is not None:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'",
                               headers={"WWW-Authenticate": "Bearer"})
        identity = await _resolve(request, "token", secret.strip(), now)
        if identity is None:
            request.app[METRICS].auth_failures.labels("token").inc()
            raise Unauthorized("invalid or expired API token",
                               headers={"WWW-Authenticate": "Bearer"})
        request[IDENTITY] = identity
        return await handler(request)
    assert cookie is not None
    identity = await _resolve(request, "session", cookie, now)
    if identity is None:
        # An expired or unknown cookie is treated as anonymous and removed.
        response = await handler(request)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response
    request[IDENTITY] = identity
    return await handler(request)
