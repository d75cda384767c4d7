"""HTTP handlers for self-service: one's own name, e-mail address and time zone.

``/api/v1/account`` is always the caller's own record: there is no id to point at
someone else, and the body takes no role, no active flag, no password (those are
``PATCH /api/v1/users/{id}``, admins only, and ``POST /api/v1/auth/password``).

A new e-mail address takes effect only once confirmed through a link mailed to it
(server/users/email_change.py); the old address is told when it does. Without outgoing
mail (no ``smtp_host``) nothing can be confirmed: an admin's own change applies at once
(an admin may change anyone's address on the Users page anyway), anyone else is asked to
have an admin change it.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from server.agents.languages import push_for_user
from server.api.routing import ANY_USER, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import Conflict, ValidationFailed
from server.keys import DATABASE, HUB, MAIL_SENDER, SETTINGS
from server.mail import compose, outbox
from server.users import email_change, store
from server.users.schemas import DisplayName, Email, Language, Strict, User
from server.users.views import check_language

router = Router("users")

TimeZone = Annotated[str, Meta(min_length=1, max_length=64,
                               description="an IANA time zone, e.g. Asia/Jakarta")]


class Account(Struct, kw_only=True):
    """The caller's own record, and an e-mail change waiting for its confirmation."""

    user: User
    pending_email: str | None
    pending_expires_at: dt.datetime | None
    mail_enabled: bool


class AccountUpdate(Strict):
    """Changes to one's own record; fields left out stay as they are."""

    display_name: DisplayName | UnsetType = UNSET
    email: Annotated[Email, Meta(description=(
        "a new address: with outgoing mail it takes effect once the link mailed to it is "
        "opened (pending_email until then)"))] | UnsetType = UNSET
    time_zone: TimeZone | UnsetType | None = UNSET
    language: Language | UnsetType | None = UNSET


class EmailConfirm(Strict):
    """The secret of the link mailed to the new address."""

    token: Annotated[str, Meta(min_length=1, max_length=200)]


@functools.cache
def _zones() -> frozenset[str]:
    # Reads the zone files once: called on the database threads, never on the loop.
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(zone: str) -> str:
    """Return the zone if this server knows it (blocking on first use: off the loop).

    Raises:
        ValidationFailed: not an IANA zone name.
    """
    if zone not in _zones():
        raise ValidationFailed("time_zone: {zone!r} is not a time zone this server knows; "
                               "pick one from the list, e.g. Asia/Jakarta", zone=zone)
    return zone


def _account(req: ApiRequest, conn: Any, user_id: int) -> Account:
    waiting = email_change.pending(conn, user_id, utcnow())
    return Account(user=store.get_user(conn, user_id),
                   pending_email=waiting.new_email if waiting else None,
                   pending_expires_at=waiting.expires_at if waiting else None,
                   mail_enabled=bool(req.app[SETTINGS].smtp_host))


def _poke_mail(req: ApiRequest) -> None:
    sender = req.app.get(MAIL_SENDER)
    if sender is not None:
        sender.poke()


@router.route("GET", "/api/v1/account", roles=ANY_USER, summary="Get my own account",
              response=Account)
async def get_account(req: ApiRequest) -> Account:
    me = req.user.user_id
    return await req.app[DATABASE].read(lambda c: _account(req, c, me))


@router.route("PATCH", "/api/v1/account", roles=ANY_USER,
              summary="Change my own name, e-mail address, time zone or language",
              body=AccountUpdate, response=Account)
async def update_account(req: ApiRequest) -> Account:
    body: AccountUpdate = req.body
    me = req.user
    settings = req.app[SETTINGS]
    changes: dict[str, Any] = {}
    if isinstance(body.display_name, str):
        changes["display_name"] = body.display_name.strip()
        if not changes["display_name"]:
            raise ValidationFailed("display_name: a name cannot be blank")
    if body.time_zone is not UNSET:
        changes["time_zone"] = body.time_zone
    if body.language is not UNSET:
        changes["language"] = body.language
        check_language(changes)
    new_email = body.email.strip() if isinstance(body.email, str) else None
    if not changes and new_email is None:
        raise ValidationFailed("nothing to change")
    mail_on = bool(settings.smtp_host)
    if new_email is not None and not mail_on and me.role != "admin":
        raise Conflict("email: this server sends no e-mail, so a new address cannot be "
                       "confirmed; ask an administrator to change it",
                       code="email_unconfirmable")
    lifetime = dt.timedelta(hours=settings.email_confirm_hours)

    def run(conn: Any) -> Account:
        if isinstance(changes.get("time_zone"), str):
            check_time_zone(changes["time_zone"])
        user = store.get_user(conn, me.user_id)
        if store.is_system_username(user.username):
            raise Conflict("the server's own account is not changed here",
                           code="system_account")
        now = utcnow()
        fields = sorted(k for k in changes if changes[k] != getattr(user, k))
        if fields:
            store.update_user(conn, me.user_id, {k: changes[k] for k in fields}, now)
        if new_email is not None and new_email != user.email:
            if mail_on:
                token = email_change.start(conn, user_id=me.user_id, new_email=new_email,
                                           now=now, lifetime=lifetime)
                base = outbox.mail_base_url(conn) or settings.base_url
                tr, product = outbox.account_voice(conn, user.language)
                outbox.queue_account_mail(
                    conn, user_id=me.user_id, to_addr=new_email, now=now,
                    mail=compose.email_confirm(
                        tr, product=product,
                        name=changes.get("display_name", user.display_name),
                        new_email=new_email, hours=settings.email_confirm_hours,
                        link=f"{base.rstrip('/')}/#/account/confirm-email/{token}"))
                store.record(conn, actor_id=me.user_id, action="account.email_requested",
                             target_type="user", target_id=me.user_id, now=now)
            else:  # an admin without outgoing mail: applied at once (module docstring)
                store.update_user(conn, me.user_id, {"email": new_email}, now)
                fields.append("email")
        if fields:
            store.record(conn, actor_id=me.user_id, action="account.update",
                         target_type="user", target_id=me.user_id, now=now, fields=fields)
        return _account(req, conn, me.user_id)

    account = await req.app[DATABASE].write(run)
    _poke_mail(req)
    if "language" in changes:  # the agents of my devices speak it now
        await push_for_user(req.app[DATABASE], req.app[HUB], me.user_id)
    return account


@router.route("POST", "/api/v1/account/email/confirm", roles=ANY_USER,
              summary="Confirm my new e-mail address with the link mailed to it",
              body=EmailConfirm, response=Account)
async def confirm_email(req: ApiRequest) -> Account:
    body: EmailConfirm = req.body
    me = req.user.user_id

    def run(conn: Any) -> Account:
        now = utcnow()
        old, new = email_change.confirm(conn, user_id=me, token=body.token, now=now)
        user = store.get_user(conn, me)
        if old and old != new:
            tr, product = outbox.account_voice(conn, user.language)
            outbox.queue_account_mail(conn, user_id=me, to_addr=old, now=now,
                                      mail=compose.email_changed(tr, product=product,
                                                                 name=user.display_name,
                                                                 new_email=new))
        store.record(conn, actor_id=me, action="account.email_confirmed",
                     target_type="user", target_id=me, now=now)
        return _account(req, conn, me)

    account = await req.app[DATABASE].write(run)
    _poke_mail(req)
    return account


@router.route("DELETE", "/api/v1/account/email", roles=ANY_USER,
              summary="Withdraw my e-mail change waiting for confirmation", status=204)
async def cancel_email(req: ApiRequest) -> None:
    me = req.user.user_id
    await req.app[DATABASE].write(lambda c: email_change.cancel(c, me))
