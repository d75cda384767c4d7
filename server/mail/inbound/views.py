"""HTTP handlers of e-mail in: mailboxes (admin), taken-in and held messages, bounces."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from typing import Annotated, Any, Literal

from aiohttp import web
from msgspec import UNSET, Meta, Struct, UnsetType, to_builtins

from server.api.pagination import INT, decode_cursor, encode_cursor
from server.api.routing import ADMIN, STAFF, ApiRequest, Router, page_limit
from server.db.schema import utcnow
from server.errors import NotFound
from server.keys import DATABASE, SETTINGS
from server.mail.inbound import content, ingest, mailboxes, parse, probe
from server.mail.inbound.service import MAIL_IN
from server.tickets.attachments import download_headers, store_path
from server.users import store as user_store
from server.users.schemas import Strict

router = Router("mail")
ID = r"{mailbox_id:\d{1,18}}"
MSG = r"{inbound_id:\d{1,18}}"
TEXT_MAX = 100_000  # characters of a message's text shown to the desk

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Address = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$(?!\n)")]
Host = Annotated[str, Meta(max_length=255, pattern=r"^[^\s/]*$(?!\n)")]
Port = Annotated[int, Meta(ge=1, le=65535)]
Text255 = Annotated[str, Meta(max_length=255)]
Secret = Annotated[str, Meta(max_length=1000)]
Folder = Annotated[str, Meta(min_length=1, max_length=255)]
Kind = Literal["imap", "lmtp"]
Security = Literal["tls", "starttls", "none"]
Outcome = Literal["ticket", "comment", "held", "refused", "ignored", "bounce"]
UnknownSender = Literal["create", "refuse", "hold"]
Auth = Literal["password", "oauth2"]
Url = Annotated[str, Meta(max_length=500)]
LongSecret = Annotated[str, Meta(max_length=4000)]


class Mailbox(Struct, kw_only=True):
    """A mailbox as the API shows it: the password is never returned."""

    id: int
    name: str
    kind: Kind
    address: str
    host: str
    port: int
    security: Security
    username: str
    has_password: bool
    folder: str
    done_folder: str
    group_id: int | None
    category_id: int | None
    active: bool
    unknown_sender: UnknownSender | None
    auth: Auth
    oauth_token_url: str
    oauth_client_id: str
    oauth_scope: str
    has_oauth_secret: bool
    has_refresh_token: bool
    created_at: dt.datetime
    last_error: str | None
    last_seen_at: dt.datetime | None


class MailboxList(Struct, kw_only=True):
    """Every mailbox."""

    items: list[Mailbox]


class MailboxCreate(Strict):
    """A new mailbox: IMAP (read by Deskmate) or LMTP (delivered to Deskmate)."""

    name: Name
    kind: Kind
    address: Address
    host: Host = ""
    port: Port = 993
    security: Security = "tls"
    username: Text255 = ""
    password: Secret = ""
    folder: Folder = "INBOX"
    done_folder: Text255 = ""
    group_id: int | None = None
    category_id: int | None = None
    active: bool = True
    unknown_sender: UnknownSender | None = None
    auth: Auth = "password"
    oauth_token_url: Url = ""
    oauth_client_id: Text255 = ""
    oauth_client_secret: Secret = ""
    oauth_refresh_token: LongSecret = ""
    oauth_scope: Url = ""


class MailboxUpdate(Strict):
    """Changes to a mailbox; fields left out stay as they are (so does the password)."""

    name: Name | UnsetType = UNSET
    kind: Kind | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    host: Host | UnsetType = UNSET
    port: Port | UnsetType = UNSET
    security: Security | UnsetType = UNSET
    username: Text255 | UnsetType = UNSET
    password: Secret | UnsetType = UNSET
    folder: Folder | UnsetType = UNSET
    done_folder: Text255 | UnsetType = UNSET
    group_id: int | UnsetType | None = UNSET
    category_id: int | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    unknown_sender: UnknownSender | UnsetType | None = UNSET
    auth: Auth | UnsetType = UNSET
    oauth_token_url: Url | UnsetType = UNSET
    oauth_client_id: Text255 | UnsetType = UNSET
    oauth_client_secret: Secret | UnsetType = UNSET
    oauth_refresh_token: LongSecret | UnsetType = UNSET
    oauth_scope: Url | UnsetType = UNSET


class Inbound(Struct, kw_only=True):
    """A message taken in, and what became of it."""

    id: int
    message_id: str
    mailbox_id: int | None
    received_at: dt.datetime
    sender: str
    subject: str
    outcome: Outcome
    reason: str
    ticket_id: int | None
    size: int


class InboundPage(Struct, kw_only=True):
    """One page of taken-in messages, newest first."""

    items: list[Inbound]
    next_cursor: str | None


class InboundQuery(Strict):
    """Filter and page the taken-in messages."""

    outcome: Outcome | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] | None = None
    cursor: Annotated[str, Meta(max_length=200)] | None = None


class InboundResult(Struct, kw_only=True):
    """What an accepted message became."""

    outcome: Outcome
    reason: str
    ticket_id: int | None


class MailboxTest(Struct, kw_only=True):
    """Whether Deskmate can read a mailbox now, and if not, why (in words)."""

    ok: bool
    message: str


class HeldMessage(Struct, kw_only=True):
    """An incoming message as the desk reads it before deciding (text only, no HTML)."""

    id: int
    sender: str
    sender_name: str
    to: list[str]
    subject: str
    text: str
    attachments: list[str]
    outcome: Outcome
    reason: str


class AcceptQuery(Strict):
    """Whom a held message is taken in for (default: its sender)."""

    requester_id: Annotated[int, Meta(ge=1)] | None = None


class FailingAddress(Struct, kw_only=True):
    """An address a bounce reported as failing: the outbox does not mail it."""

    address: str
    since: dt.datetime
    reason: str


class FailingList(Struct, kw_only=True):
    """Every failing address."""

    items: list[FailingAddress]


def _mailbox(row: Any) -> Mailbox:
    return Mailbox(id=row.id, name=row.name, kind=row.kind, address=row.address,
                   host=row.host, port=row.port, security=row.security,
                   username=row.username, has_password=bool(row.password),
                   folder=row.folder, done_folder=row.done_folder, group_id=row.group_id,
                   category_id=row.category_id, active=row.active,
                   unknown_sender=row.unknown_sender, auth=row.auth,
                   oauth_token_url=row.oauth_token_url, oauth_client_id=row.oauth_client_id,
                   oauth_scope=row.oauth_scope, has_oauth_secret=bool(row.oauth_client_secret),
                   has_refresh_token=bool(row.oauth_refresh_token), created_at=row.created_at,
                   last_error=row.last_error, last_seen_at=row.last_seen_at)


def _inbound(row: Any) -> Inbound:
    return Inbound(id=row.id, message_id=row.message_key, mailbox_id=row.mailbox_id,
                   received_at=row.received_at, sender=row.sender, subject=row.subject,
                   outcome=row.outcome, reason=row.reason, ticket_id=row.ticket_id,
                   size=row.raw_size)


async def _reload(req: ApiRequest) -> None:
    service = req.app.get(MAIL_IN)
    if service is not None:
        await service.reload()


@router.route("GET", "/api/v1/mailboxes", roles=ADMIN, summary="List mailboxes",
              response=MailboxList)
async def list_mailboxes(req: ApiRequest) -> MailboxList:
    rows = await req.app[DATABASE].read(mailboxes.list_all)
    return MailboxList(items=[_mailbox(r) for r in rows])


@router.route("POST", "/api/v1/mailboxes", roles=ADMIN, summary="Add a mailbox",
              body=MailboxCreate, response=Mailbox, status=201)
async def create_mailbox(req: ApiRequest) -> Mailbox:
    values = to_builtins(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Mailbox:
        now = utcnow()
        mailbox_id = mailboxes.create(conn, values, now)
        user_store.record(conn, actor_id=actor, action="mailbox.create", target_type="mailbox",
                          target_id=mailbox_id, now=now, name=values["name"])
        return _mailbox(mailboxes.get(conn, mailbox_id))

    created = await req.app[DATABASE].write(run)
    await _reload(req)
    return created


@router.route("GET", f"/api/v1/mailboxes/{ID}", roles=ADMIN, summary="Get a mailbox",
              response=Mailbox)
async def get_mailbox(req: ApiRequest) -> Mailbox:
    mailbox_id = int(req.params["mailbox_id"])
    return _mailbox(await req.app[DATABASE].read(lambda c: mailboxes.get(c, mailbox_id)))


@router.route("PATCH", f"/api/v1/mailboxes/{ID}", roles=ADMIN, summary="Change a mailbox",
              body=MailboxUpdate, response=Mailbox)
async def update_mailbox(req: ApiRequest) -> Mailbox:
    mailbox_id = int(req.params["mailbox_id"])
    changes = to_builtins(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Mailbox:
        now = utcnow()
        mailboxes.update(conn, mailbox_id, changes)
        user_store.record(conn, actor_id=actor, action="mailbox.update", target_type="mailbox",
                          target_id=mailbox_id, now=now, fields=sorted(changes))
        return _mailbox(mailboxes.get(conn, mailbox_id))

    updated = await req.app[DATABASE].write(run)
    await _reload(req)
    return updated


@router.route("DELETE", f"/api/v1/mailboxes/{ID}", roles=ADMIN, summary="Delete a mailbox",
              status=204)
async def delete_mailbox(req: ApiRequest) -> None:
    mailbox_id = int(req.params["mailbox_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        mailboxes.delete(conn, mailbox_id)
        user_store.record(conn, actor_id=actor, action="mailbox.delete", target_type="mailbox",
                          target_id=mailbox_id, now=utcnow())

    await req.app[DATABASE].write(run)
    await _reload(req)


@router.route("POST", f"/api/v1/mailboxes/{ID}/test", roles=ADMIN,
              summary="Try a mailbox now: log in to its IMAP server and open its folder, or "
                      "check that the LMTP/SMTP receiver runs; answers in words",
              response=MailboxTest)
async def test_mailbox(req: ApiRequest) -> MailboxTest:
    mailbox_id = int(req.params["mailbox_id"])
    row = await req.app[DATABASE].read(lambda c: mailboxes.get(c, mailbox_id))
    settings = req.app[SETTINGS]
    if row.kind == "lmtp":
        if not settings.mail_lmtp_port:
            return MailboxTest(ok=False, message="the receiver is off: set mail_lmtp_port "
                                                 "(and mail_lmtp_host) and restart")
        return MailboxTest(ok=True, message=(
            f"the {settings.mail_lmtp_protocol.upper()} receiver takes mail for "
            f"{row.address} on {settings.mail_lmtp_host}:{settings.mail_lmtp_port}"))
    config = mailboxes.imap_config(row, ca_file=settings.mail_imap_ca_file)
    problem = await asyncio.to_thread(probe.probe, config)
    if problem is None:
        return MailboxTest(ok=True, message=f"logged in to {row.host} as {row.username} and "
                                            f"opened {row.folder}")
    return MailboxTest(ok=False, message=problem)


@router.route("GET", "/api/v1/mail/inbound", roles=STAFF,
              summary="List incoming messages and what became of them (held ones first "
                      "with outcome=held)", query=InboundQuery, response=InboundPage)
async def list_inbound(req: ApiRequest) -> InboundPage:
    q: InboundQuery = req.query
    limit = page_limit(req.app, q.limit)
    after = int(decode_cursor(q.cursor, INT)[0]) if q.cursor else None
    rows = await req.app[DATABASE].read(lambda c: mailboxes.list_inbound(
        c, outcome=q.outcome, after=after, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return InboundPage(items=[_inbound(r) for r in rows],
                       next_cursor=encode_cursor(rows[-1].id) if more else None)


@router.route("GET", f"/api/v1/mail/inbound/{MSG}/raw", roles=STAFF,
              summary="Download an incoming message as it arrived (.eml)",
              produces="message/rfc822")
async def download_raw(req: ApiRequest) -> web.StreamResponse:
    inbound_id = int(req.params["inbound_id"])
    row = await req.app[DATABASE].read(lambda c: mailboxes.get_inbound(c, inbound_id))
    if row.raw_sha256 is None:
        raise NotFound("message {inbound_id} was not kept", inbound_id=inbound_id)
    path = store_path(req.app[SETTINGS].data_dir / "attachments", row.raw_sha256)
    return web.FileResponse(path, headers=download_headers("message/rfc822",
                                                           f"message-{inbound_id}.eml"))


@router.route("GET", f"/api/v1/mail/inbound/{MSG}", roles=STAFF,
              summary="Read an incoming message as text (sender, subject, body, file names)",
              response=HeldMessage)
async def read_inbound(req: ApiRequest) -> HeldMessage:
    inbound_id = int(req.params["inbound_id"])
    row = await req.app[DATABASE].read(lambda c: mailboxes.get_inbound(c, inbound_id))
    if row.raw_sha256 is None:
        raise NotFound("message {inbound_id} was not kept", inbound_id=inbound_id)
    path = store_path(req.app[SETTINGS].data_dir / "attachments", row.raw_sha256)

    def run() -> HeldMessage:
        msg = parse.parse(path.read_bytes())
        return HeldMessage(id=row.id, sender=msg.sender, sender_name=msg.sender_name,
                           to=list(msg.to), subject=msg.subject,
                           text=content.body_text(msg.text, msg.html)[:TEXT_MAX],
                           attachments=[a.filename for a in msg.attachments],
                           outcome=row.outcome, reason=row.reason)

    return await asyncio.to_thread(run)


@router.route("POST", f"/api/v1/mail/inbound/{MSG}/accept", roles=STAFF,
              summary="Accept a held message: it becomes a ticket or comment of its sender "
                      "(who gets a requester account when needed) or of the requester named",
              query=AcceptQuery, response=InboundResult)
async def accept_held(req: ApiRequest) -> InboundResult:
    inbound_id = int(req.params["inbound_id"])
    q: AcceptQuery = req.query
    db = req.app[DATABASE]
    settings = req.app[SETTINGS]
    row = await db.read(lambda c: mailboxes.get_inbound(c, inbound_id))
    if row.raw_sha256 is None:
        raise NotFound("message {inbound_id} was not kept", inbound_id=inbound_id)
    root = settings.data_dir / "attachments"
    raw = await asyncio.to_thread(store_path(root, row.raw_sha256).read_bytes)
    parsed = await asyncio.to_thread(parse.parse, raw)
    prepared = await asyncio.to_thread(ingest.prepare, parsed, raw, root,
                                       limit=settings.attachment_max_bytes)
    service = req.app[MAIL_IN]
    key = await service.intake.key()
    mailbox = await db.read(lambda c: mailboxes.get(c, row.mailbox_id)
                            if row.mailbox_id is not None else None)
    route = mailboxes.route_of(mailbox) if mailbox is not None else ingest.Route()
    result = await db.write(functools.partial(
        ingest.accept_held, inbound_id=inbound_id, prepared=prepared, route=route,
        policy=service.intake.policy, key=key, now=utcnow(), requester_id=q.requester_id))
    return InboundResult(outcome=result.outcome, reason=result.reason,
                         ticket_id=result.ticket_id)


@router.route("DELETE", f"/api/v1/mail/inbound/{MSG}", roles=STAFF,
              summary="Discard a held message", status=204)
async def discard_held(req: ApiRequest) -> None:
    inbound_id = int(req.params["inbound_id"])
    who = req.user.username
    await req.app[DATABASE].write(lambda c: mailboxes.discard(c, inbound_id, who))


@router.route("GET", "/api/v1/mail/failing-addresses", roles=STAFF,
              summary="List addresses that bounced (the outbox does not mail them)",
              response=FailingList)
async def list_failing(req: ApiRequest) -> FailingList:
    rows = await req.app[DATABASE].read(mailboxes.failing)
    return FailingList(items=[FailingAddress(address=r.address, since=r.since, reason=r.reason)
                              for r in rows])


@router.route("DELETE", "/api/v1/mail/failing-addresses/{address:[^/]{3,254}}", roles=ADMIN,
              summary="Clear a failing address: the outbox mails it again", status=204)
async def clear_failing(req: ApiRequest) -> None:
    address = str(req.params["address"])
    await req.app[DATABASE].write(lambda c: mailboxes.clear_failing(c, address))
