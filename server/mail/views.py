"""HTTP handlers for a user's e-mail notification preference."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from server.api.routing import ANY_USER, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import NotFound
from server.keys import DATABASE, SETTINGS
from server.mail import outbox
from server.users import store as user_store
from server.users.schemas import Strict

router = Router("mail")
ID = r"{user_id:\d{1,18}}"


class MailPreference(Struct, kw_only=True):
    """Whether a user gets e-mail notifications, and whether the server sends any."""

    email_notifications: bool
    email: str | None
    mail_enabled: bool


class MailPreferenceUpdate(Strict):
    """Turn a user's e-mail notifications on or off."""

    email_notifications: bool


def _target(req: ApiRequest) -> int:
    """Return the user id of the path: one's own, or anyone's for an admin."""
    user_id = int(req.params["user_id"])
    if req.user.role != "admin" and user_id != req.user.user_id:
        raise NotFound("no user with id {user_id}", user_id=user_id)
    return user_id


def _read(req: ApiRequest, conn: Any, user_id: int) -> MailPreference:
    user = user_store.get_user(conn, user_id)  # NotFound for a missing user
    return MailPreference(email_notifications=outbox.wants_mail(conn, user_id),
                          email=user.email, mail_enabled=bool(req.app[SETTINGS].smtp_host))


@router.route("GET", f"/api/v1/users/{ID}/notifications", roles=ANY_USER,
              summary="Get a user's e-mail notification preference",
              response=MailPreference)
async def get_preference(req: ApiRequest) -> MailPreference:
    user_id = _target(req)
    return await req.app[DATABASE].read(lambda c: _read(req, c, user_id))


@router.route("PUT", f"/api/v1/users/{ID}/notifications", roles=ANY_USER,
              summary="Turn a user's e-mail notifications on or off",
              body=MailPreferenceUpdate, response=MailPreference)
async def put_preference(req: ApiRequest) -> MailPreference:
    user_id = _target(req)
    body: MailPreferenceUpdate = req.body
    actor = req.user.user_id

    def run(conn: Any) -> MailPreference:
        user_store.get_user(conn, user_id)
        now = utcnow()
        if outbox.set_wants_mail(conn, user_id, body.email_notifications, now):
            user_store.record(conn, actor_id=actor, action="user.notifications",
                              target_type="user", target_id=user_id, now=now,
                              email_notifications=body.email_notifications)
        return _read(req, conn, user_id)

    return await req.app[DATABASE].write(run)
