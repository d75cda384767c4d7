"""HTTP handlers for tool sessions, the toolbox policy, transcripts and the viewer socket.

Rights are those of screen sessions (server/remote/policy.py): the ticket's assignee,
members of its group and admins. The technician who opened a terminal types into it;
others with rights on the ticket watch it read-only, and read its transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web
from msgspec import UNSET

from server.api.routing import ADMIN, STAFF, ApiRequest, Router
from server.auth import credentials
from server.auth.identity import Identity
from server.db.schema import utcnow
from server.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from server.i18n.messages import N_
from server.keys import DATABASE, SETTINGS, TOOLS
from server.remote import device_session, policy
from server.remote import store as remote_store
from server.tickets import reading as ticket_reading
from server.tickets.attachments import download_headers
from server.tickets.schemas import UserRef
from server.toolbox import policy as tool_policy
from server.toolbox import store, viewer
from server.toolbox.relay import DIRECTORY, LiveTool, ToolViewer, transcript_name
from server.toolbox.schemas import (
    ToolboxPolicy,
    ToolboxPolicyUpdate,
    ToolCreate,
    ToolSession,
    ToolSessionList,
    TranscriptInfo,
)

log = logging.getLogger("deskmate.toolbox")

router = Router("toolbox")
SID = r"{session_id:\d{1,18}}"
TID = r"{ticket_id:\d{1,18}}"
GID = r"{group_id:\d{1,18}}"
HELLO_TIMEOUT = 10.0
MAX_VIEWER_ERRORS = 20
MAX_VIEWERS = 16
CAST_TYPE = "application/x-asciicast"
NO_RIGHTS = N_("only the ticket's assignee, members of its group and admins may open or "
               "watch tools on it")


def ws_path(session_id: int) -> str:
    """Return the viewer WebSocket path of a tool session."""
    return f"/api/v1/tool-sessions/{session_id}/ws"


async def _may(app: web.Application, identity: Identity, ticket_row: Any) -> bool:
    return await device_session.may_use(app, identity, ticket_row)


def _to_api(row: Any, live: LiveTool | None) -> ToolSession:
    transcript = None
    if live is not None and live.transcript is not None:
        transcript = TranscriptInfo(state="recording", bytes=live.transcript.bytes, url=None)
    elif row.transcript in ("ready", "failed"):
        transcript = TranscriptInfo(
            state=row.transcript, bytes=row.transcript_bytes,
            url=f"/api/v1/tool-sessions/{row.id}/transcript" if row.transcript == "ready"
            else None)
    return ToolSession(
        id=row.id, kind=row.kind, ticket_id=row.ticket_id, ticket_number=row.ticket_number,
        device_id=row.device_id, device_name=row.device_name,
        technician=(UserRef(id=row.technician_id, display_name=row.technician_name)
                    if row.technician_id is not None else None),
        reason=row.reason, as_root=row.as_root,
        account=(live.account if live and live.account else row.account) or None,
        state=live.state if live else row.state,  # type: ignore[arg-type]
        outcome=row.outcome, consent=row.consent,
        ended_by=row.ended_by, end_reason=row.end_reason, created_at=row.created_at,
        started_at=row.started_at, ended_at=row.ended_at,
        summary=live.summary() if live else row.summary,
        viewers=len(live.viewers) if live else 0, websocket_path=ws_path(row.id),
        transcript=transcript)


async def _session_for(req: ApiRequest, session_id: int) -> tuple[Any, LiveTool | None]:
    """Return a tool session the caller has rights on (404 otherwise, like an unknown id)."""
    db = req.app[DATABASE]
    row = await db.read(lambda c: store.get_row(c, session_id))
    ticket = await db.read(lambda c: ticket_reading.get_row(c, row.ticket_id))
    if not await _may(req.app, req.user, ticket):
        raise NotFound("no tool session with id {session_id}", session_id=session_id)
    live = req.app[TOOLS].by_id.get(session_id)
    if live is not None and live.state != row.state:
        row = await db.read(lambda c: store.get_row(c, session_id))
    return row, live


@router.route("POST", f"/api/v1/tickets/{TID}/tool-sessions", roles=STAFF,
              summary="Open a tool (a terminal) on the ticket's device", body=ToolCreate,
              response=ToolSession, status=201)
async def start_tool(req: ApiRequest) -> ToolSession:
    ticket_id = int(req.params["ticket_id"])
    body: ToolCreate = req.body
    me, app = req.user, req.app
    if not body.reason.strip():
        raise ValidationFailed("{field} must not be blank", field="reason")
    db = app[DATABASE]
    found = await device_session.target(app, me, ticket_id, body.device_id,
                                        no_rights=NO_RIGHTS)
    ticket, device, link, consent = found.ticket, found.device, found.link, found.consent
    tools = app[TOOLS]
    if body.kind not in link.capabilities:
        # An agent without the capability never gets a tool_request (docs/protocol.md §3.2).
        raise Conflict("the agent on {hostname!r} does not offer a {kind}",
                       code="tool_unavailable", hostname=device.hostname, kind=body.kind)
    rules = await db.read(lambda c: tool_policy.device_policy(c, device.group_id))
    decision = tool_policy.decide(  # tool_disabled, root_not_allowed
        rules, kind=body.kind, as_root=body.as_root, unattended_group=not consent,
        agent_notifies=tool_policy.NOTIFY_CAPABILITY in link.capabilities)
    record, consent = decision.record, decision.consent
    if tools.count(device.id) >= 4:
        raise Conflict("too many tools are open on {hostname!r}", code="tools_busy",
                       hostname=device.hostname)
    now = utcnow()
    session_id = await db.write(lambda c: store.create_session(
        c, ticket_id=ticket_id, device_id=device.id, technician_id=me.user_id,
        kind=body.kind, reason=body.reason, as_root=body.as_root, consent=consent,
        record=record, device_name=device.hostname, now=now, notify=decision.notify))
    row = await db.read(lambda c: store.get_row(c, session_id))
    live = LiveTool(id=session_id, ticket_id=ticket_id, ticket_number=row.ticket_number,
                    device_id=device.id, device_name=device.hostname,
                    technician_id=me.user_id,
                    technician_name=row.technician_name or me.username, link=link,
                    kind=body.kind, as_root=body.as_root, record=record, consent=consent,
                    cols=body.cols, rows=body.rows, notify=decision.notify)
    tools.open(live, reason=body.reason, title=ticket.title)
    await tools.publish(ticket_id)
    return _to_api(row, live)


@router.route("GET", f"/api/v1/tickets/{TID}/tool-sessions", roles=STAFF,
              summary="List a ticket's tool sessions", response=ToolSessionList)
async def list_tools(req: ApiRequest) -> ToolSessionList:
    ticket_id = int(req.params["ticket_id"])
    ticket = await req.app[DATABASE].read(lambda c: ticket_reading.get_row(c, ticket_id))
    if not await _may(req.app, req.user, ticket):
        raise Forbidden(NO_RIGHTS)
    rows = await req.app[DATABASE].read(lambda c: store.rows_of_ticket(c, ticket_id))
    live = req.app[TOOLS].by_id
    return ToolSessionList(items=[_to_api(r, live.get(r.id)) for r in rows])


@router.route("GET", f"/api/v1/tool-sessions/{SID}", roles=STAFF,
              summary="Get a tool session", response=ToolSession)
async def get_tool(req: ApiRequest) -> ToolSession:
    row, live = await _session_for(req, int(req.params["session_id"]))
    return _to_api(row, live)


@router.route("POST", f"/api/v1/tool-sessions/{SID}/end", roles=STAFF,
              summary="End a tool session", response=ToolSession)
async def end_tool(req: ApiRequest) -> ToolSession:
    session_id = int(req.params["session_id"])
    _row, live = await _session_for(req, session_id)
    if live is None:
        raise Conflict("the session is already over", code="session_ended")
    me = req.user
    name = await req.app[DATABASE].read(lambda c: remote_store.display_name(c, me.user_id))
    await req.app[TOOLS].finish(live, outcome="completed", by="technician", reason="",
                                who=name, actor_id=me.user_id)
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, session_id))
    return _to_api(row, None)


@router.route("GET", f"/api/v1/tool-sessions/{SID}/transcript", roles=STAFF,
              summary="Fetch a terminal's transcript (asciicast v2; read-only)",
              produces=CAST_TYPE)
async def get_transcript(req: ApiRequest) -> web.StreamResponse:
    session_id = int(req.params["session_id"])
    row, _live = await _session_for(req, session_id)
    if row.transcript == "recording":
        raise Conflict("the terminal is still open; read its transcript once it has ended",
                       code="transcript_in_progress")
    path = req.app[SETTINGS].data_dir / DIRECTORY / transcript_name(session_id)
    if row.transcript != "ready" or not await asyncio.to_thread(path.is_file):
        raise NotFound("tool session {session_id} has no transcript", session_id=session_id)
    me, now = req.user, utcnow()

    def audit_view(conn: Any) -> None:
        from server.users import store as audit

        audit.record(conn, actor_id=me.user_id, action="terminal_transcript.view",
                     target_type="tool_session", target_id=session_id, now=now)

    await req.app[DATABASE].write(audit_view)
    return web.FileResponse(path, headers=download_headers(CAST_TYPE,
                                                           f"terminal-{session_id}.cast"))


@router.route("GET", f"/api/v1/groups/{GID}/toolbox-policy", roles=ADMIN,
              summary="Get a device group's toolbox policy", response=ToolboxPolicy)
async def get_toolbox_policy(req: ApiRequest) -> ToolboxPolicy:
    group_id = int(req.params["group_id"])
    rules = await req.app[DATABASE].read(lambda c: tool_policy.read(c, group_id))
    return tool_policy.to_api(group_id, rules)


@router.route("PUT", f"/api/v1/groups/{GID}/toolbox-policy", roles=ADMIN,
              summary="Set a device group's toolbox policy", body=ToolboxPolicyUpdate,
              response=ToolboxPolicy)
async def put_toolbox_policy(req: ApiRequest) -> ToolboxPolicy:
    group_id = int(req.params["group_id"])
    body: ToolboxPolicyUpdate = req.body
    root = None if body.terminal_root is UNSET else body.terminal_root
    record = None if body.record_terminal is UNSET else body.record_terminal
    tools = None if body.allowed_tools is UNSET else [str(k) for k in body.allowed_tools]
    consent = None if body.consent is UNSET else body.consent
    system_root = None if body.system_root is UNSET else body.system_root
    if (root, record, tools, consent, system_root) == (None,) * 5:
        raise ValidationFailed("give at least one of the policy's fields")
    me, now = req.user, utcnow()

    def run(conn: Any) -> tool_policy.ToolPolicy:
        store.set_policy(conn, group_id, terminal_root=root, record_terminal=record,
                         actor_id=me.user_id, now=now)
        tool_policy.write(conn, group_id, allowed_tools=tools, consent=consent,
                          system_root=system_root, now=now)
        stored = tool_policy.read(conn, group_id)
        from server.users import store as audit

        audit.record(conn, actor_id=me.user_id, action="toolbox_policy.set",
                     target_type="group", target_id=group_id, now=now,
                     terminal_root=stored.terminal_root, record_terminal=stored.record_terminal,
                     allowed_tools=stored.allowed_tools(), consent=stored.consent,
                     system_root=stored.system_root)
        return stored

    stored = await req.app[DATABASE].write(run)
    return tool_policy.to_api(group_id, stored)


@router.route("GET", f"/api/v1/tool-sessions/{SID}/ws", roles=STAFF,
              summary="Use or watch a tool session (WebSocket; see docs/protocol.md)",
              status=101)
async def tool_viewer_socket(req: ApiRequest) -> web.StreamResponse:
    session_id = int(req.params["session_id"])
    me = req.user
    _row, live = await _session_for(req, session_id)
    request = req.request
    if me.via == "session" and not device_session.same_origin(request):
        raise Forbidden("the WebSocket must be opened from the console's own origin",
                        code="bad_origin")
    if live is None or live.state == "ended":
        raise Conflict("the session is over", code="session_ended")
    if len(live.viewers) >= MAX_VIEWERS:
        raise Conflict("a session has at most {limit} viewers", code="too_many_viewers",
                       limit=MAX_VIEWERS)
    ws = web.WebSocketResponse(compress=False, max_msg_size=2 * viewer.MAX_FRAME,
                               autoping=True, heartbeat=30)
    if not ws.can_prepare(request).ok:
        raise BadRequest("expected a WebSocket upgrade", code="websocket_required")
    await ws.prepare(request)
    name = await req.app[DATABASE].read(lambda c: remote_store.display_name(c, me.user_id))
    v = ToolViewer(user_id=me.user_id, name=name, ws=ws,
                   conn_id="tool-viewer-" + secrets.token_hex(4),
                   controller=me.user_id == live.technician_id)
    try:
        await _serve(req, ws, live, v, me)
    except Exception:
        log.exception("%s: viewer failed", v.conn_id)
        with contextlib.suppress(Exception):
            await ws.close(code=1011, message=b"internal error")
    return ws


async def _serve(req: ApiRequest, ws: web.WebSocketResponse, live: LiveTool, v: ToolViewer,
                 me: Identity) -> None:
    if me.via == "session":
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT)
            hello = viewer.decode(msg.data) if msg.type == WSMsgType.TEXT else None
        except (TimeoutError, viewer.ViewerError):
            hello = None
        if not isinstance(hello, viewer.Hello) or not hmac.compare_digest(
                hello.csrf.encode(), me.csrf_token.encode()):
            await ws.send_json({"type": "error", "code": "csrf_failed",
                                "message": "the first message must be hello with the "
                                           "session's CSRF token"})
            await ws.close(code=4003, message=b"csrf")
            return
    tools = req.app[TOOLS]
    if live.state == "ended":
        await ws.close(code=1000, message=b"session ended")
        return
    writer = asyncio.create_task(v.writer(), name=f"{v.conn_id}-writer")
    watch = asyncio.create_task(_watch_rights(req, live, v, me), name=f"{v.conn_id}-rights")
    v.send({"type": "welcome", "session": live.id, "controller": v.controller,
            "you": v.name})
    tools.join(live, v)  # the status follows the welcome
    try:
        await _loop(req, ws, live, v)
    finally:
        watch.cancel()
        tools.leave(live, v)
        v.close(1000, "")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, 3)
        writer.cancel()


async def _watch_rights(req: ApiRequest, live: LiveTool, v: ToolViewer, me: Identity) -> None:
    """Close the socket when its user loses rights; end the tool if it was the controller."""
    tools = req.app[TOOLS]
    while not v.closing and live.state != "ended":
        await asyncio.sleep(tools.rights_recheck_seconds)
        now = utcnow()

        def read(conn: Any, now: Any = now) -> tuple[Identity | None, Any, set[int]]:
            return (credentials.current_identity(conn, me, now=now),
                    ticket_reading.get_row(conn, live.ticket_id),
                    remote_store.group_ids_of(conn, me.user_id))

        try:
            current, ticket, member_of = await req.app[DATABASE].read(read)
        except NotFound:
            current = ticket = None
            member_of = set()
        if current is not None and ticket is not None and policy.may_remote(
                role=current.role, user_id=current.user_id, assignee_id=ticket.assignee_id,
                ticket_group_id=ticket.group_id, member_of=member_of):
            continue
        v.send({"type": "error", "code": "rights_revoked",
                "message": "You can no longer use this terminal: your rights on the ticket "
                           "ended."})
        if v.controller:
            await asyncio.shield(tools.finish(live, outcome="completed", by="server",
                                              actor_id=None,
                                              reason="the technician lost access"))
        v.close(4003, "rights revoked")
        return


async def _loop(req: ApiRequest, ws: web.WebSocketResponse, live: LiveTool,
                v: ToolViewer) -> None:
    tools = req.app[TOOLS]
    errors = 0
    while not v.closing:
        msg = await ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return
        try:
            if msg.type != WSMsgType.TEXT:
                raise viewer.ViewerError("binary_not_allowed", "viewers send text messages")
            message = viewer.decode(msg.data)
            if isinstance(message, viewer.Hello):
                raise viewer.ViewerError("unexpected_message", "hello only comes first")
            if not v.controller:
                raise viewer.ViewerError(viewer.NOT_CONTROLLER, "only the technician who "
                                         "opened the terminal types into it")
            if isinstance(message, viewer.Resize):  # also before the terminal opens
                tools.resize(live, message.cols, message.rows)
            elif live.state != "active":
                raise viewer.ViewerError(viewer.NOT_ACTIVE, "the terminal is not open (yet)")
            else:
                tools.send_input(live, message.data)
        except viewer.ViewerError as exc:
            errors += 1
            v.send({"type": "error", "code": exc.code, "message": exc.message[:500]})
            if errors >= MAX_VIEWER_ERRORS:
                v.close(1008, "too many invalid messages")

