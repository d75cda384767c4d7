"""HTTP handlers of the TOTP second factor: the login's second step, enrolment, turning
it off, and an admin's reset of a user's factor."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

from aiohttp import web
from msgspec import Meta, Struct

from server.api.routing import ADMIN, ANY_USER, PUBLIC, ApiRequest, Router
from server.auth import factor_store, guard, half_session, totp
from server.auth.views import open_session
from server.db.schema import utcnow
from server.directory.accounts import is_directory_account
from server.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from server.i18n.messages import N_, Message
from server.keys import CLIENT_IP, DATABASE, DEVICE_KEY, LOGIN_THROTTLE, METRICS
from server.users import store
from server.users.schemas import Password, Strict

log = logging.getLogger("deskmate.auth")
router = Router("auth")

Code = Annotated[str, Meta(min_length=1, max_length=40,
                           description="a 6-digit TOTP code or a recovery code")]


class SecondFactorBody(Strict):
    """The code of the login's second step (the half-session cookie names the user)."""

    code: Code


class TotpState(Struct, kw_only=True):
    """Whether the caller has a second factor."""

    enabled: bool
    recovery_codes_left: int
    local_account: bool  # directory accounts sign in by bind and have no TOTP here


class TotpEnrolment(Struct, kw_only=True):
    """A pending enrolment: what the authenticator app needs (shown once)."""

    secret: str
    otpauth_uri: str
    qr_svg: str  # a data: URI of an SVG QR code of otpauth_uri


class TotpConfirm(Strict):
    """The first code from the authenticator app, which switches the factor on."""

    code: Code


class RecoveryCodes(Struct, kw_only=True):
    """Single-use recovery codes, shown this once."""

    recovery_codes: list[str]


class TotpDisable(Strict):
    """Turning the factor off takes the password and a current code."""

    password: Password
    code: Code


async def _check_code(request: web.Request, user_id: int, username: str, code: str, *,
                      what: Message) -> bool:
    """Check a TOTP or recovery code under the login throttle (the same counters as
    password guesses); a success is taken back like a right password."""
    app = request.app
    throttle = app[LOGIN_THROTTLE]
    attempt = guard.attempt_for(request, username, user_id)
    wait = throttle.retry_after(attempt)
    if wait > 0:
        app[METRICS].auth_failures.labels("rate_limited").inc()
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests("too many {what}; try again in {seconds} seconds", what=what,
                              seconds=seconds, headers={"Retry-After": str(seconds)})
    throttle.begin(attempt)
    now = utcnow()

    def run(conn: Any) -> bool:
        row = factor_store.find(conn, user_id)
        if row is None or row.confirmed_at is None:
            return False
        if totp.looks_like_totp(code):
            step = totp.matching_step(row.secret, code, now=now.timestamp(),
                                      after=row.last_step)
            return step is not None and factor_store.accept_step(conn, user_id, step)
        if factor_store.use_recovery_code(conn, user_id, code, now):
            store.record(conn, actor_id=user_id, action="auth.recovery_code_used",
                         target_type="user", target_id=user_id, now=now)
            return True
        return False

    ok = await app[DATABASE].write(run)
    if ok:
        throttle.succeeded(attempt)
    else:
        app[METRICS].auth_failures.labels("second_factor").inc()
    return ok


@router.route("POST", "/api/v1/auth/login/second-factor", roles=PUBLIC,
              summary="Finish a login with a TOTP or recovery code", body=SecondFactorBody,
              limited=True)
async def login_second_factor(req: ApiRequest) -> web.Response:
    body: SecondFactorBody = req.body
    app = req.app
    db = app[DATABASE]
    value = req.request.cookies.get(half_session.COOKIE, "")
    user_id = half_session.user_of(value)
    row = None
    if user_id is not None:
        row = await db.read(lambda c: store.find_login_by_id(c, user_id))
    if (row is None or not row.active or not half_session.check(
            app[DEVICE_KEY], value, row.password_hash or "", now=app[LOGIN_THROTTLE].wall())):
        raise Unauthorized("the first login step has expired; log in again",
                           code="half_session_expired")
    if not await _check_code(req.request, row.id, row.username, body.code,
                             what=N_("wrong codes")):
        address = req.request[CLIENT_IP]
        await db.write(lambda c: store.record(
            c, actor_id=None, action="auth.second_factor_failed", target_type="user",
            target_id=row.id, now=utcnow(), ip=address))
        raise Unauthorized("wrong or already used code", code="invalid_code", field="code")
    return await open_session(req.request, row.id)


def _local_only(local: bool) -> None:
    if not local:
        raise Conflict("this account signs in through its directory; its second factor "
                       "is set up there", code="directory_account")


@router.route("GET", "/api/v1/auth/totp", roles=ANY_USER,
              summary="Get one's own second-factor state", response=TotpState,
              before_second_factor=True)
async def totp_state(req: ApiRequest) -> TotpState:
    user_id = req.user.user_id

    def run(conn: Any) -> TotpState:
        found = factor_store.state(conn, user_id)
        return TotpState(enabled=found.enabled, recovery_codes_left=found.recovery_codes_left,
                         local_account=not is_directory_account(conn, user_id))

    return await req.app[DATABASE].read(run)


@router.route("POST", "/api/v1/auth/totp/enrolment", roles=ANY_USER,
              summary="Start setting up a TOTP second factor", response=TotpEnrolment,
              status=201, before_second_factor=True)
async def start_totp_enrolment(req: ApiRequest) -> TotpEnrolment:
    identity = req.user
    secret = totp.new_secret()

    def run(conn: Any) -> None:
        _local_only(not is_directory_account(conn, identity.user_id))
        factor_store.start_enrolment(conn, identity.user_id, secret, utcnow())

    await req.app[DATABASE].write(run)
    uri = totp.otpauth_uri(secret, identity.username)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg_data_uri(uri))


@router.route("POST", "/api/v1/auth/totp/confirm", roles=ANY_USER,
              summary="Switch the TOTP factor on with its first code", body=TotpConfirm,
              response=RecoveryCodes, before_second_factor=True, limited=True)
async def confirm_totp(req: ApiRequest) -> RecoveryCodes:
    body: TotpConfirm = req.body
    identity = req.user
    app = req.app
    attempt = guard.attempt_for(req.request, identity.username, identity.user_id)
    throttle = app[LOGIN_THROTTLE]
    if (wait := throttle.retry_after(attempt)) > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests("too many wrong codes; try again in {seconds} seconds",
                              seconds=seconds, headers={"Retry-After": str(seconds)})
    throttle.begin(attempt)
    now = utcnow()

    def run(conn: Any) -> list[str] | None:
        row = factor_store.find(conn, identity.user_id)
        if row is None or row.confirmed_at is not None:
            raise Conflict("no second-factor set-up is waiting for a code; start one first",
                           code="no_enrolment")
        step = totp.matching_step(row.secret, body.code, now=now.timestamp(), after=None)
        if step is None:
            return None
        codes = factor_store.confirm(conn, identity.user_id, step, now)
        store.record(conn, actor_id=identity.user_id, action="auth.second_factor_enabled",
                     target_type="user", target_id=identity.user_id, now=now)
        return codes

    codes = await app[DATABASE].write(run)
    if codes is None:
        raise Forbidden("wrong code; check the time on your phone and try again",
                        code="invalid_code", field="code")
    throttle.succeeded(attempt)
    return RecoveryCodes(recovery_codes=codes)


async def _check_password(req: ApiRequest, password: str) -> None:
    identity = req.user
    row = await req.app[DATABASE].read(lambda c: store.find_login(c, identity.username))
    ok = await guard.check(req.request, guard.attempt_for(req.request, identity.username,
                                                          identity.user_id),
                           job_key=f"user:{identity.user_id}",
                           stored=row.password_hash if row else None, password=password,
                           what=N_("wrong passwords"))
    if not ok:
        raise Forbidden("password is wrong", code="invalid_credentials", field="password")


@router.route("POST", "/api/v1/auth/totp/disable", roles=ANY_USER,
              summary="Turn one's own TOTP factor off (password and code)",
              body=TotpDisable, status=204, limited=True)
async def disable_totp(req: ApiRequest) -> None:
    body: TotpDisable = req.body
    identity = req.user
    await _check_password(req, body.password)
    if not await _check_code(req.request, identity.user_id, identity.username, body.code,
                             what=N_("wrong codes")):
        raise Forbidden("wrong or already used code", code="invalid_code", field="code")

    def run(conn: Any) -> None:
        factor_store.remove(conn, identity.user_id)
        store.record(conn, actor_id=identity.user_id, action="auth.second_factor_disabled",
                     target_type="user", target_id=identity.user_id, now=utcnow())

    await req.app[DATABASE].write(run)


@router.route("POST", "/api/v1/auth/totp/recovery-codes", roles=ANY_USER,
              summary="Replace one's own recovery codes (password and code)",
              body=TotpDisable, response=RecoveryCodes, limited=True)
async def replace_recovery_codes(req: ApiRequest) -> RecoveryCodes:
    body: TotpDisable = req.body
    identity = req.user
    await _check_password(req, body.password)
    if not await _check_code(req.request, identity.user_id, identity.username, body.code,
                             what=N_("wrong codes")):
        raise Forbidden("wrong or already used code", code="invalid_code", field="code")

    def run(conn: Any) -> list[str]:
        codes = factor_store.replace_recovery_codes(conn, identity.user_id)
        store.record(conn, actor_id=identity.user_id, action="auth.recovery_codes_replaced",
                     target_type="user", target_id=identity.user_id, now=utcnow())
        return codes

    return RecoveryCodes(recovery_codes=await req.app[DATABASE].write(run))


@router.route("DELETE", r"/api/v1/users/{user_id:\d{1,18}}/totp", roles=ADMIN,
              summary="Remove a user's second factor (a lost phone)", status=204)
async def remove_user_totp(req: ApiRequest) -> None:
    user_id = int(req.params["user_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.get_user(conn, user_id)
        if not factor_store.remove(conn, user_id):
            raise NotFound("user {user_id} has no second factor", user_id=user_id)
        store.record(conn, actor_id=actor, action="auth.second_factor_reset",
                     target_type="user", target_id=user_id, now=utcnow())

    await req.app[DATABASE].write(run)

