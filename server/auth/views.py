"""HTTP handlers for login, logout, the current session, password change and API tokens."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import sqlalchemy as sa
from aiohttp import web
from msgspec import UNSET, Meta, Struct

from server.api.routing import ANY_USER, PUBLIC, ApiRequest, Router, json_response
from server.auth import credentials, factor_store, guard, half_session
from server.auth.passwords import password_problem
from server.auth.ratelimit import address_key
from server.db.schema import api_tokens, utcnow
from server.directory import first_sign_in, signin
from server.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from server.i18n.messages import N_
from server.keys import (
    CLIENT_IP,
    DATABASE,
    DEVICE_KEY,
    KDF_GATE,
    LOGIN_THROTTLE,
    SETTINGS,
    SITE_VALUES,
)
from server.middleware import SESSION_COOKIE
from server.users import store
from server.users.schemas import (
    DEFAULT_TOKEN_DAYS,
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
    second_factor_enrolment_required: bool = False  # an admin must set up TOTP first


class PasswordChange(Strict):
    """A user's own password change."""

    current_password: Password
    new_password: Password


class PasswordChanged(Struct, kw_only=True):
    """What else a password change ended: every other session and API token of the user
    (the session or token that made the change stays)."""

    sessions_ended: int
    tokens_revoked: int


@router.route("POST", "/api/v1/auth/login", roles=PUBLIC, summary="Log in",
              body=LoginBody, response=SessionInfo, limited=True)
async def login(req: ApiRequest) -> web.Response:
    body: LoginBody = req.body
    app = req.app
    username = body.username.strip().lower()
    address = req.request[CLIENT_IP]
    db = app[DATABASE]
    row = await db.read(lambda c: store.find_login(c, username))
    known = row.id if row else None  # for the audit log, also when inactive
    directory = (await db.read(lambda c: signin.directory_of(c, row.id))
                 if row is not None and row.active else None)
    if directory is not None:  # a directory account: the directory checks the password
        await signin.sign_in(req.request, row, directory, username, body.password)
        return await open_session(req.request, row.id)
    if row is None:  # perhaps a directory user's first sign-in (create_on_sign_in)
        created = await first_sign_in.sign_in_new(req.request, username, body.password)
        if created is not None:
            return await open_session(req.request, created)
    if row is not None and not row.active:
        row = None  # checked against the dummy hash: fails, and counts, like a wrong one
    # One password job per client address at a time (docs/admin.md).
    ok = await guard.check(req.request, guard.attempt_for(req.request, username,
                                                          row.id if row else None),
                           job_key=address_key(address),
                           stored=row.password_hash if row else None, password=body.password)
    if not ok or row is None:
        log.info("failed login for %r from %s", username, address)
        await db.write(lambda c: store.record(
            c, actor_id=None, action="auth.login_failed", target_type="user",
            target_id=known, now=utcnow(), username=username, ip=address))
        raise Unauthorized("wrong user name or password", code="invalid_credentials")
    if row.role != "admin" and local_login_admins_only(app):
        # Checked after the password, so that the answer tells nothing to a guesser.
        await db.write(lambda c: store.record(
            c, actor_id=None, action="auth.login_failed", target_type="user",
            target_id=row.id, now=utcnow(), username=username, ip=address,
            reason="local_login_admins_only"))
        raise Forbidden("only administrators log in with a password here; use single "
                        "sign-on or your directory account", code="local_login_disabled")
    if await db.read(lambda c: factor_store.has_factor(c, row.id)):
        await db.write(lambda c: store.record(
            c, actor_id=row.id, action="auth.password_accepted", target_type="user",
            target_id=row.id, now=utcnow(), ip=address))
        raise second_factor_required(req.request, row.id, row.password_hash)
    return await open_session(req.request, row.id)


def local_login_admins_only(app: web.Application) -> bool:
    """Tell whether only admins may log in with a local password (the Single sign-on
    page's switch when an admin set it, else the local_login_admins_only setting)."""
    stored = app[SITE_VALUES].values.get("local_login_admins_only")
    return app[SETTINGS].local_login_admins_only if stored is None else stored == "true"


def second_factor_required(request: web.Request, user_id: int,
                           password_hash: str | None) -> Unauthorized:
    """Return the 401 that asks for the second factor, carrying the half-session cookie
    (not a session: only POST /api/v1/auth/login/second-factor accepts it)."""
    app = request.app
    value = half_session.issue(app[DEVICE_KEY], user_id, password_hash or "",
                               now=app[LOGIN_THROTTLE].wall())
    cookie = (f"{half_session.COOKIE}={value}; Path={half_session.COOKIE_PATH}; "
              f"Max-Age={half_session.MAX_AGE_SECONDS}; Secure; HttpOnly; SameSite=Strict")
    return Unauthorized("enter the code from your authenticator app",
                        code="second_factor_required", headers={"Set-Cookie": cookie})


async def open_session(request: web.Request, user_id: int, *, redirect_to: str | None = None,
                       **audit: Any) -> web.Response:
    """Start a console session for ``user_id`` (its login has passed every check) and
    answer with it: the session cookie, the device cookie and the session info (or, for
    a sign-in through an identity provider, a redirect to ``redirect_to``). ``audit``
    goes into the auth.login audit entry."""
    app = request.app
    address = request[CLIENT_IP]
    max_age = dt.timedelta(hours=app[SETTINGS].session_max_hours)

    def run(conn: Any) -> tuple[credentials.NewSession, User]:
        now = utcnow()
        new = credentials.create_session(conn, user_id, now=now, max_age=max_age)
        store.record(conn, actor_id=user_id, action="auth.login", target_type="user",
                     target_id=user_id, now=now, ip=address, **audit)
        return new, store.get_user(conn, user_id)

    new, user = await app[DATABASE].write(run)
    must_enrol = (user.role == "admin" and app[SETTINGS].totp_required_for_admins
                  and not await app[DATABASE].read(
                      lambda c: factor_store.has_factor(c, user_id)))
    response = (web.Response(status=302, text="redirecting\n", content_type="text/plain",
                             headers={"Location": redirect_to})
                if redirect_to is not None else
                json_response(SessionInfo(user=user, csrf_token=new.csrf_token,
                                          expires_at=new.expires_at,
                                          second_factor_enrolment_required=must_enrol)))
    response.set_cookie(SESSION_COOKIE, new.secret, path="/", secure=True, httponly=True,
                        samesite="Strict", max_age=int(max_age.total_seconds()))
    response.del_cookie(half_session.COOKIE, path=half_session.COOKIE_PATH)
    guard.remember_device(request, response, user_id)
    return response


@router.route("POST", "/api/v1/auth/logout", roles=ANY_USER, summary="Log out",
              status=204, before_second_factor=True)
async def logout(req: ApiRequest) -> web.Response:
    identity = req.user
    if identity.via == "session":
        await req.app[DATABASE].write(
            lambda c: credentials.delete_session(c, identity.credential_id))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@router.route("GET", "/api/v1/auth/session", roles=ANY_USER,
              summary="Get the current user and CSRF token", response=SessionInfo,
              before_second_factor=True)
async def session(req: ApiRequest) -> SessionInfo:
    identity = req.user
    user = await req.app[DATABASE].read(lambda c: store.get_user(c, identity.user_id))
    must_enrol = (identity.role == "admin" and req.app[SETTINGS].totp_required_for_admins
                  and not identity.second_factor)
    return SessionInfo(user=user, csrf_token=identity.csrf_token,
                       expires_at=identity.expires_at,
                       second_factor_enrolment_required=must_enrol)


@router.route("POST", "/api/v1/auth/password", roles=ANY_USER,
              summary="Change one's own password", body=PasswordChange,
              response=PasswordChanged, limited=True)
async def change_password(req: ApiRequest) -> PasswordChanged:
    body: PasswordChange = req.body
    if problem := password_problem(body.new_password):
        raise ValidationFailed(problem)
    identity = req.user
    db = req.app[DATABASE]
    row = await db.read(lambda c: store.find_login(c, identity.username))
    # Wrong current passwords count like failed logins; one password job per user.
    job = f"user:{identity.user_id}"
    ok = await guard.check(req.request, guard.attempt_for(req.request, identity.username,
                                                          identity.user_id),
                           job_key=job, stored=row.password_hash if row else None,
                           password=body.current_password, what=N_("wrong current passwords"))
    if not ok:
        await db.write(lambda c: store.record(
            c, actor_id=identity.user_id, action="auth.password_change_failed",
            target_type="user", target_id=identity.user_id, now=utcnow(),
            ip=req.request[CLIENT_IP]))
        # 403, not 401: the caller is logged in; only the password it typed is wrong.
        raise Forbidden("current password is wrong", code="invalid_credentials")
    new_hash = await req.app[KDF_GATE].hash(job, body.new_password)
    keep_session = identity.credential_id if identity.via == "session" else None
    keep_token = identity.credential_id if identity.via == "token" else None

    def run(conn: Any) -> PasswordChanged:
        now = utcnow()
        store.update_user(conn, identity.user_id, {"password_hash": new_hash}, now)
        # Whoever knew the old password may hold a session or a token: all end but the
        # credential this change was made with.
        ended = PasswordChanged(
            sessions_ended=credentials.delete_user_sessions(conn, identity.user_id,
                                                            keep=keep_session),
            tokens_revoked=credentials.delete_user_tokens(conn, identity.user_id,
                                                          keep=keep_token))
        store.record(conn, actor_id=identity.user_id, action="auth.password_change",
                     target_type="user", target_id=identity.user_id, now=now,
                     sessions_ended=ended.sessions_ended, tokens_revoked=ended.tokens_revoked)
        return ended

    return await db.write(run)


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

    longest = req.app[SETTINGS].api_token_max_days
    days = min(DEFAULT_TOKEN_DAYS, longest) if body.expires_in_days is UNSET \
        else body.expires_in_days
    if days > longest:
        raise ValidationFailed("expires_in_days: a token lives at most {longest} days "
                               "(api_token_max_days)", longest=longest)

    def run(conn: Any) -> ApiTokenCreated:
        now = utcnow()
        expires = now + dt.timedelta(days=days)
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
            raise NotFound("no API token with id {token_id}", token_id=token_id)
        store.record(conn, actor_id=identity.user_id, action="token.revoke",
                     target_type="api_token", target_id=token_id, now=utcnow())

    await req.app[DATABASE].write(run)

