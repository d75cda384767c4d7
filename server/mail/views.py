"""HTTP handlers for a user's e-mail notification choices."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, Struct, UnsetType

from server.api.routing import ANY_USER, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import NotFound, ValidationFailed
from server.keys import DATABASE, SETTINGS
from server.mail import compose, outbox
from server.users import store as user_store
from server.users.schemas import Strict

router = Router("mail")
ID = r"{user_id:\d{1,18}}"


class MailPreference(Struct, kw_only=True):
    """Whether a user gets e-mail notifications, which kinds, and whether the server sends any.

    ``events`` has one entry per kind of notification the user can receive (requesters:
    received, reply, resolved; staff also assigned, requester_reply, sla): false for the
    kinds they turned off. ``email_notifications`` false turns them all off.
    """

    email_notifications: bool
    email: str | None
    mail_enabled: bool
    events: dict[str, bool]


class MailPreferenceUpdate(Strict):
    """Turn a user's e-mail notifications on or off, all of them or kind by kind."""

    email_notifications: bool | UnsetType = UNSET
    events: dict[compose.Reason, bool] | UnsetType = UNSET


def _target(req: ApiRequest) -> int:
    """Return the user id of the path: one's own, or anyone's for an admin."""
    user_id = int(req.params["user_id"])
    if req.user.role != "admin" and user_id != req.user.user_id:
        raise NotFound("no user with id {user_id}", user_id=user_id)
    return user_id


def _read(req: ApiRequest, conn: Any, user_id: int) -> MailPreference:
    user = user_store.get_user(conn, user_id)  # NotFound for a missing user
    declined = outbox.declined_reasons(conn, user_id)
    return MailPreference(email_notifications=outbox.wants_mail(conn, user_id),
                          email=user.email, mail_enabled=bool(req.app[SETTINGS].smtp_host),
                          events={r: r not in declined for r in _choices(user.role)})


def _choices(role: str) -> tuple[compose.Reason, ...]:
    return compose.REASONS if role in compose.STAFF_ROLES else compose.REQUESTER_CHOICES


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
    if body.email_notifications is UNSET and body.events is UNSET:
        raise ValidationFailed("nothing to change: give email_notifications or events")

    def run(conn: Any) -> MailPreference:
        user = user_store.get_user(conn, user_id)
        now = utcnow()
        changed: dict[str, Any] = {}
        if isinstance(body.events, dict):
            unknown = sorted(set(body.events) - set(_choices(user.role)))
            if unknown:
                raise ValidationFailed("events: a {role} gets no {event!r} notifications",
                                       role=user.role, event=unknown[0])
            for reason, wanted in sorted(body.events.items()):
                if outbox.set_reason(conn, user_id, reason, wanted, now):
                    changed[reason] = wanted
        if isinstance(body.email_notifications, bool) and outbox.set_wants_mail(
                conn, user_id, body.email_notifications, now):
            changed["email_notifications"] = body.email_notifications
        if changed:
            user_store.record(conn, actor_id=actor, action="user.notifications",
                              target_type="user", target_id=user_id, now=now, **changed)
        return _read(req, conn, user_id)

    return await req.app[DATABASE].write(run)
