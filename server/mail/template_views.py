"""HTTP handlers of the mail templates: list, save, reset, preview, send a test (admins)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from msgspec import Meta, Struct

from server.api.routing import ADMIN, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import NotFound, ValidationFailed
from server.i18n.catalogues import languages
from server.keys import DATABASE, SETTINGS, SITE_VALUES
from server.mail import template_store, templates
from server.mail.sender import SmtpConfig
from server.mail.trial import send_trial
from server.siteconfig.rules import DEFAULT_PRODUCT
from server.users import store as user_store
from server.users.schemas import Strict

router = Router("mail")
PATH = "/api/v1/mail/templates/{kind}/{language}"  # both checked by _target


class MailTemplate(Struct, kw_only=True):
    """One kind of notification in one language: the text in use and the catalogues' own.

    ``custom`` is true when an admin's text is in use; ``placeholders`` are the
    ``${name}`` values this kind may use.
    """

    kind: str
    language: str
    subject: str
    body: str
    custom: bool
    default_subject: str
    default_body: str
    placeholders: list[str]


class MailTemplateList(Struct, kw_only=True):
    """Every kind of notification in every language the server speaks."""

    languages: list[str]
    items: list[MailTemplate]


class TemplateText(Strict):
    """A template's subject and body, with ``${name}`` placeholders."""

    subject: Annotated[str, Meta(max_length=templates.SUBJECT_MAX * 2)]
    body: Annotated[str, Meta(max_length=templates.BODY_MAX * 2)]


class TemplatePreview(Struct, kw_only=True):
    """A template filled in with made-up values."""

    subject: str
    body: str


class TemplateTestResult(Struct, kw_only=True):
    """Whether the SMTP server took the test mail, and if not, why (in words)."""

    sent: bool
    to: str
    message: str


def _item(kind: str, language: str, saved: template_store.Saved) -> MailTemplate:
    default = templates.default(kind, language)
    mine = saved.get((kind, language))
    shown = mine or default
    return MailTemplate(kind=kind, language=language, subject=shown.subject, body=shown.body,
                        custom=mine is not None, default_subject=default.subject,
                        default_body=default.body,
                        placeholders=list(templates.placeholders(kind)))


def _target(req: ApiRequest) -> tuple[str, str]:
    kind, language = str(req.params["kind"]), str(req.params["language"])
    if kind not in templates.KINDS:
        raise NotFound("no mail template {kind!r}", kind=kind)
    if language not in languages():
        raise NotFound("the server has no language {language!r}", language=language)
    return kind, language


def _checked(kind: str, text: TemplateText) -> templates.Template:
    """Return the template of the body, or refuse it by its first faulty field."""
    template = templates.Template(subject=text.subject, body=text.body)
    problems = templates.check(kind, template)
    if problems:
        raise ValidationFailed(problems[0].message, field=problems[0].field)
    return template


def _product(req: ApiRequest) -> str:
    return str(req.app[SITE_VALUES].values.get("product_name") or DEFAULT_PRODUCT)


@router.route("GET", "/api/v1/mail/templates", roles=ADMIN,
              summary="List the mail templates: every kind of notification in every language",
              response=MailTemplateList)
async def list_templates(req: ApiRequest) -> MailTemplateList:
    def run(conn: Any) -> MailTemplateList:  # on the reader's thread: Babel reads files
        saved = template_store.load(conn)
        return MailTemplateList(languages=list(languages()), items=[
            _item(kind, language, saved) for kind in templates.KINDS
            for language in languages()])

    return await req.app[DATABASE].read(run)


@router.route("PUT", PATH, roles=ADMIN,
              summary="Save an admin's text of a kind of notification in a language",
              body=TemplateText, response=MailTemplate)
async def save_template(req: ApiRequest) -> MailTemplate:
    kind, language = _target(req)
    template = _checked(kind, req.body)
    actor = req.user.user_id

    def run(conn: Any) -> MailTemplate:
        now = utcnow()
        template_store.save(conn, kind, language, template, user_id=actor, now=now)
        user_store.record(conn, actor_id=actor, action="mail.template_save",
                          target_type="mail_template", target_id=None, now=now, kind=kind,
                          language=language)
        return _item(kind, language, template_store.load(conn))

    return await req.app[DATABASE].write(run)


@router.route("DELETE", PATH, roles=ADMIN,
              summary="Reset a mail template to the catalogues' text", response=MailTemplate)
async def reset_template(req: ApiRequest) -> MailTemplate:
    kind, language = _target(req)
    actor = req.user.user_id

    def run(conn: Any) -> MailTemplate:
        now = utcnow()
        if template_store.reset(conn, kind, language):
            user_store.record(conn, actor_id=actor, action="mail.template_reset",
                              target_type="mail_template", target_id=None, now=now,
                              kind=kind, language=language)
        return _item(kind, language, template_store.load(conn))

    return await req.app[DATABASE].write(run)


async def _filled(req: ApiRequest, kind: str, language: str,
                  template: templates.Template) -> templates.Template:
    base_url, product = req.app[SETTINGS].base_url, _product(req)

    def run() -> templates.Template:  # in a thread: Babel reads its locale files
        values = templates.sample(kind, language, base_url=base_url, product=product)
        return templates.fill(template, values, number=values["number"])

    return await asyncio.to_thread(run)


@router.route("POST", f"{PATH}/preview", roles=ADMIN,
              summary="Fill a template in with made-up values (nothing is saved)",
              body=TemplateText, response=TemplatePreview)
async def preview_template(req: ApiRequest) -> TemplatePreview:
    kind, language = _target(req)
    filled = await _filled(req, kind, language, _checked(kind, req.body))
    return TemplatePreview(subject=filled.subject, body=filled.body)


@router.route("POST", f"{PATH}/test", roles=ADMIN,
              summary="Send a template filled in with made-up values to one's own address",
              body=TemplateText, response=TemplateTestResult)
async def test_template(req: ApiRequest) -> TemplateTestResult:
    kind, language = _target(req)
    filled = await _filled(req, kind, language, _checked(kind, req.body))
    config = SmtpConfig.from_settings(req.app[SETTINGS], req.app[SITE_VALUES].values)
    if not config.host:
        raise ValidationFailed("mail is off; set the mail server first", code="mail_off")
    user_id = req.user.user_id
    me = await req.app[DATABASE].read(lambda c: user_store.get_user(c, user_id))
    if not me.email:
        raise ValidationFailed("your account has no e-mail address to send the test to",
                               code="no_email")
    problem = await asyncio.to_thread(send_trial, config, me.email, product=_product(req),
                                      subject=filled.subject, body=filled.body)
    await req.app[DATABASE].write(lambda c: user_store.record(
        c, actor_id=user_id, action="mail.template_test", target_type="mail_template",
        target_id=None, now=utcnow(), kind=kind, language=language, sent=problem is None))
    if problem is None:
        return TemplateTestResult(sent=True, to=me.email,
                                  message=f"{config.host} accepted a test mail to {me.email}.")
    return TemplateTestResult(sent=False, to=me.email, message=problem)
