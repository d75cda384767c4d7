"""HTTP handlers of the password reset by e-mail ("Forgot password?")."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

from msgspec import Meta, Struct

from server.api.routing import PUBLIC, ApiRequest, Router
from server.auth import credentials, reset
from server.auth.passwords import password_problem
from server.auth.ratelimit import address_key
from server.auth.views import local_login_admins_only
from server.db.schema import utcnow
from server.errors import Forbidden, TooManyRequests, ValidationFailed
from server.keys import CLIENT_IP, DATABASE, KDF_GATE, MAIL_SENDER, RESET_THROTTLE, SETTINGS
from server.users import store
from server.users.schemas import Password, Strict

log = logging.getLogger("deskmate.auth")
router = Router("auth")

ANSWER = ("If that address belongs to an account here, a link to reset its password is "
          "on its way. Check your mail.")


class ResetRequest(Strict):
    """The address to send a reset link to."""

    email: Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$(?!\n)")]


class ResetAccepted(Struct, kw_only=True):
    """The one answer to a reset request, whether or not the address is known."""

    message: str


class ResetConfirm(Strict):
    """The secret from the link and the new password."""

    token: Annotated[str, Meta(min_length=20, max_length=100)]
    new_password: Password


@router.route("POST", "/api/v1/auth/password-reset", roles=PUBLIC,
              summary="Ask for a password reset link by e-mail", body=ResetRequest,
              response=ResetAccepted, status=202, limited=True)
async def request_reset(req: ApiRequest) -> ResetAccepted:
    body: ResetRequest = req.body
    app = req.app
    email = body.email.strip().lower()
    ip = req.request[CLIENT_IP]
    throttle = app[RESET_THROTTLE]
    now = utcnow()
    wait = throttle.retry_after(email, ip, now.timestamp())
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests("too many reset requests; try again in {seconds} seconds",
                              seconds=seconds, headers={"Retry-After": str(seconds)})
    throttle.count(email, ip, now.timestamp())
    minutes = app[SETTINGS].password_reset_minutes
    admins_only = local_login_admins_only(app)

    def run(conn: Any) -> int:
        queued = reset.request_links(conn, email, now=now, minutes=minutes,
                                     admins_only=admins_only)
        # Written either way, so a known and an unknown address cost the same.
        store.record(conn, actor_id=None, action="auth.password_reset_requested",
                     target_type="user", target_id=None, now=now, ip=ip, mails=queued)
        return queued

    if await app[DATABASE].write(run) and (sender := app.get(MAIL_SENDER)) is not None:
        sender.poke()
    return ResetAccepted(message=ANSWER)


@router.route("POST", "/api/v1/auth/password-reset/confirm", roles=PUBLIC,
              summary="Set a new password with a reset link", body=ResetConfirm,
              status=204, limited=True)
async def confirm_reset(req: ApiRequest) -> None:
    body: ResetConfirm = req.body
    app = req.app
    if problem := password_problem(body.new_password):
        raise ValidationFailed(problem, field="new_password")
    db = app[DATABASE]
    admins_only = local_login_admins_only(app)
    found = await db.read(lambda c: reset.find_link(c, body.token, utcnow(),
                                                    admins_only=admins_only))
    if found is None:
        raise Forbidden("this reset link is invalid, used or expired; ask for a new one",
                        code="invalid_reset_link")
    ip = req.request[CLIENT_IP]
    new_hash = await app[KDF_GATE].hash(address_key(ip), body.new_password)

    def run(conn: Any) -> bool:
        now = utcnow()
        if not reset.use_link(conn, found, now):
            return False
        store.update_user(conn, found.user_id, {"password_hash": new_hash}, now)
        sessions = credentials.delete_user_sessions(conn, found.user_id)
        tokens = credentials.delete_user_tokens(conn, found.user_id)
        store.record(conn, actor_id=found.user_id, action="auth.password_reset",
                     target_type="user", target_id=found.user_id, now=now, ip=ip,
                     sessions_ended=sessions, tokens_revoked=tokens)
        return True

    if not await db.write(run):
        raise Forbidden("this reset link is invalid, used or expired; ask for a new one",
                        code="invalid_reset_link")
    log.info("password of user %d reset by e-mail link from %s", found.user_id, ip)
