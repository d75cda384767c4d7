"""HTTP handlers for login, logout, the current session, password change and API tokens."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Annotated, Any

import sqlalchemy as sa
from aiohttp import web
from msgspec import Meta, Struct

from server.api.routing import ANY_USER, PUBLIC, ApiRequest, Router, json_response
from server.auth import credentials
from server.auth.passwords import check_password, make_hash, password_problem
from server.db.schema import api_tokens, utcnow
from server.errors import Forbidden, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from server.keys import CLIENT_IP, DATABASE, LOGIN_LIMITER, METRICS, SETTINGS
from server.middleware import SESSION_COOKIE
from server.users import store
from server.users.schemas import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenList,
    Password,
    Strict,
    User,
)

log = logging.getLogger("deskmate.auth")
router = Router("auth")


class LoginBody(Strict):
    """Credentials for a console session."""

    username: Annotated[str, Meta(min_length=1, max_length=254)]
    password: Password


class SessionInfo(Struct, kw_only=True):
    """The logged-in user and the CSRF token to send with unsafe requests."""

    user: User
    csrf_token: str
    expires_at: dt.datetime | None


class PasswordChange(Strict):
    """A user's own password change."""

    current_password: Password
    new_password: Password


@router.route("POST", "/api/v1/auth/login", roles=PUBLIC, summary="Log in",
              body=LoginBody, response=SessionInfo)
async def login(req: ApiRequest) -> web.Response:
    body: LoginBody = req.body
    app = req.app
    settings = app[SETTINGS]
    limiter = app[LOGIN_LIMITER]
    username = body.username.strip().lower()
    keys = ("user:" + username, "ip:" + req.request[CLIENT_IP])
    wait = limiter.retry_after(*keys)
    if wait > 0:
        app[METRICS].auth_failures.labels("rate_limited").inc()
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"too many failed logins; try again in {seconds} seconds",
            headers={"Retry-After": str(seconds)},
        )
    db = app[DATABASE]
    # Count the attempt before the slow check, so parallel guesses cannot all slip in
    # under the limit; a success forgets it again.
    limiter.failed(*keys)
    row = await db.read(lambda c: store.find_login(c, username))
    ok = await check_password(row.password_hash if row else None, body.password)
    if not ok or row is None or not row.active:
        app[METRICS].auth_failures.labels("password").inc()
        log.info("failed login for %r from %s", username, req.request[CLIENT_IP])
        await db.write(lambda c: store.record(
            c, actor_id=None, action="auth.login_failed", target_type="user",
            target_id=row.id if row else None, now=utcnow(), username=username,
            ip=req.request[CLIENT_IP]))
        raise Unauthorized("wrong user name or password", code="invalid_credentials")
    limiter.succeeded(*keys)
    max_age = dt.timedelta(hours=settings.session_max_hours)

    def run(conn: Any) -> tuple[credentials.NewSession, User]:
        now = utcnow()
        new = credentials.create_session(conn, row.id, now=now, max_age=max_age)
        store.record(conn, actor_id=row.id, action="auth.login", target_type="user",
                     target_id=row.id, now=now, ip=req.request[CLIENT_IP])
        return new, store.get_user(conn, row.id)

    new, user = await db.write(run)
    response = json_response(SessionInfo(user=user, csrf_token=new.csrf_token,
                                         expires_at=new.expires_at))
    response.set_cookie(SESSION_COOKIE, new.secret, path="/", secure=True, httponly=True,
                        samesite="Strict", max_age=int(max_age.total_seconds()))
    return response


@router.route("POST", "/api/v1/auth/logout", roles=ANY_USER, summary="Log out",
              status=204)
async def logout(req: ApiRequest) -> web.Response:
    identity = req.user
    if identity.via == "session":
        await req.app[DATABASE].write(
            lambda c: credentials.delete_session(c, identity.credential_id))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@router.route("GET", "/api/v1/auth/session", roles=ANY_USER,
              summary="Get the current user and CSRF token", response=SessionInfo)
async def session(req: ApiRequest) -> SessionInfo:
    identity = req.user
    user = await req.app[DATABASE].read(lambda c: store.get_user(c, identity.user_id))
    return SessionInfo(user=user, csrf_token=identity.csrf_token,
                       expires_at=identity.expires_at)


@router.route("POST", "/api/v1/auth/password", roles=ANY_USER,
              summary="Change one's own password", body=PasswordChange, status=204)
async def change_password(req: ApiRequest) -> None:
    body: PasswordChange = req.body
    if problem := password_problem(body.new_password):
        raise ValidationFailed(problem)
    identity = req.user
    db = req.app[DATABASE]
    row = await db.read(lambda c: store.find_login(c, identity.username))
    ok = await check_password(row.password_hash if row else None, body.current_password)
    if not ok:
        # 403, not 401: the caller is logged in; only the password it typed is wrong.
        raise Forbidden("current password is wrong", code="invalid_credentials")
    new_hash = await make_hash(body.new_password)

    def run(conn: Any) -> None:
        now = utcnow()
        store.update_user(conn, identity.user_id, {"password_hash": new_hash}, now)
        # Other sessions end; this one stays.
        credentials.delete_user_sessions(
            conn, identity.user_id,
            keep=identity.credential_id if identity.via == "session" else None)
        store.record(conn, actor_id=identity.user_id, action="auth.password_change",
                     target_type="user", target_id=identity.user_id, now=now)

    await db.write(run)


def _token(row: Any) -> ApiToken:
    return ApiToken(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                    expires_at=row.expires_at, last_used_at=row.last_used_at)


@router.route("GET", "/api/v1/auth/tokens", roles=ANY_USER,
              summary="List one's own API tokens", response=ApiTokenList)
async def list_tokens(req: ApiRequest) -> ApiTokenList:
    user_id = req.user.user_id
    rows = await req.app[DATABASE].read(lambda c: c.execute(
        sa.select(api_tokens).where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)).all())
    return ApiTokenList(items=[_token(r) for r in rows])


@router.route("POST", "/api/v1/auth/tokens", roles=ANY_USER,
              summary="Create an API token", body=ApiTokenCreate, response=ApiTokenCreated,
              status=201)
async def create_token(req: ApiRequest) -> ApiTokenCreated:
    body: ApiTokenCreate = req.body
    identity = req.user

    def run(conn: Any) -> ApiTokenCreated:
        now = utcnow()
        expires = (now + dt.timedelta(days=body.expires_in_days)
                   if body.expires_in_days is not None else None)
        new = credentials.create_token(conn, identity.user_id, body.name, now=now,
                                       expires_at=expires)
        store.record(conn, actor_id=identity.user_id, action="token.create",
                     target_type="api_token", target_id=new.id, now=now, name=body.name)
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == new.id)).one()
        return ApiTokenCreated(token=new.secret, info=_token(row))

    return await req.app[DATABASE].write(run)


@router.route("DELETE", r"/api/v1/auth/tokens/{token_id:\d{1,18}}", roles=ANY_USER,
              summary="Revoke an API token", status=204)
async def revoke_token(req: ApiRequest) -> None:
    token_id = int(req.params["token_id"])
    identity = req.user

    def run(conn: Any) -> None:
        result = conn.execute(api_tokens.delete().where(
            api_tokens.c.id == token_id, api_tokens.c.user_id == identity.user_id))
        if result.rowcount == 0:
            raise NotFound(f"no API token with id {token_id}")
        store.record(conn, actor_id=identity.user_id, action="token.revoke",
                     target_type="api_token", target_id=token_id, now=utcnow())

    await req.app[DATABASE].write(run)

