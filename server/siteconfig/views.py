"""HTTP handlers for the console's outgoing mail settings and the test mail."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from server.api.routing import ADMIN, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import ValidationFailed
from server.keys import DATABASE, MAIL_CONTROL, SETTINGS, SITE_VALUES
from server.mail.sender import SmtpConfig
from server.mail.trial import send_trial
from server.siteconfig import store
from server.siteconfig.rules import (
    DEFAULT_PRODUCT,
    MAIL_NAMES,
    SettingProblem,
    check_mail,
    effective_mail,
)
from server.siteconfig.schemas import MailSettings, MailSettingsUpdate, MailTest, MailTestResult
from server.users import store as audit
from server.users.schemas import to_builtins

router = Router("settings")


def _mail_out(req: ApiRequest, stored: dict[str, str], changed: Any) -> MailSettings:
    settings = req.app[SETTINGS]
    values = effective_mail(dataclasses.asdict(settings), stored)
    return MailSettings(
        enabled=values.enabled, smtp_host=values.host, smtp_port=values.port,
        smtp_security=values.security, smtp_username=values.username,
        password_set=bool(values.password), mail_from=values.mail_from,
        sources={name: "console" if name in stored else "config" for name in MAIL_NAMES},
        allow_plaintext=settings.smtp_allow_plaintext,
        updated_at=changed.updated_at if changed else None,
        updated_by=changed.updated_by if changed else None)


@router.route("GET", "/api/v1/settings/mail", roles=ADMIN,
              summary="Get the outgoing mail settings in effect (the password only as set or not)",
              response=MailSettings)
async def get_mail(req: ApiRequest) -> MailSettings:
    def run(conn: Any) -> tuple[dict[str, str], Any]:
        return store.load(conn), store.updated(conn, MAIL_NAMES)

    stored, changed = await req.app[DATABASE].read(run)
    return _mail_out(req, stored, changed)


@router.route("PATCH", "/api/v1/settings/mail", roles=ADMIN,
              summary="Change outgoing mail settings; they apply at once, without a restart",
              body=MailSettingsUpdate, response=MailSettings)
async def update_mail(req: ApiRequest) -> MailSettings:
    changes: dict[str, Any] = to_builtins(req.body)
    if not changes:
        raise ValidationFailed("nothing to change")
    text = {name: (None if value is None else str(value).strip() if name != "smtp_password"
                   else str(value)) for name, value in changes.items()}
    settings = req.app[SETTINGS]
    actor = req.user.user_id

    def run(conn: Any) -> tuple[dict[str, str], Any]:
        stored = store.load(conn)
        after = {k: v for k, v in {**stored, **text}.items() if v is not None}
        try:
            check_mail(effective_mail(dataclasses.asdict(settings), after),
                       allow_plaintext=settings.smtp_allow_plaintext)
        except SettingProblem as exc:
            raise ValidationFailed(str(exc)) from exc
        saved = store.save(conn, text, actor_id=actor, now=utcnow(), action="settings.mail")
        return saved, store.updated(conn, MAIL_NAMES)

    stored, changed = await req.app[DATABASE].write(run)
    req.app[SITE_VALUES].replace(stored)
    await req.app[MAIL_CONTROL].apply()  # on or off, new server: from the next mail on
    return _mail_out(req, stored, changed)


@router.route("POST", "/api/v1/settings/mail/test", roles=ADMIN,
              summary="Send a test mail with the saved settings; answers whether the SMTP "
                      "server took it, or why not in words",
              body=MailTest, response=MailTestResult)
async def test_mail(req: ApiRequest) -> MailTestResult:
    body: MailTest = req.body
    site = req.app[SITE_VALUES].values
    config = SmtpConfig.from_settings(req.app[SETTINGS], site)
    if not config.host:
        raise ValidationFailed("smtp_host: mail is off; set the mail server first")
    product = site.get("product_name") or DEFAULT_PRODUCT
    problem = await asyncio.to_thread(send_trial, config, body.to, product=product)
    actor = req.user.user_id
    await req.app[DATABASE].write(lambda c: audit.record(
        c, actor_id=actor, action="settings.mail_test", target_type="site_settings",
        target_id=None, now=utcnow(), to=body.to, sent=problem is None))
    if problem is None:
        return MailTestResult(sent=True, message=f"{config.host} accepted a test mail to "
                                                 f"{body.to}.")
    return MailTestResult(sent=False, message=problem)
