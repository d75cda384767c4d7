"""HTTP handlers for remote sessions, the group consent policy, and the viewer socket."""

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
from server.keys import DATABASE, HUB, REMOTE
from server.remote import clipboard, device_session, policy, store
from server.remote.relay import LiveSession, Viewer
from server.remote.schemas import (
    ModeChange,
    RecordingInfo,
    RemotePolicy,
    RemotePolicyUpdate,
    RemoteSession,
    RemoteSessionList,
    SessionCreate,
)
from server.tickets import reading as ticket_reading
from server.tickets.schemas import UserRef
from shared import clipboard as clip
from shared import protocol as p
from shared import screen

log = logging.getLogger("deskmate.remote")

router = Router("remote")
SID = r"{session_id:\d{1,18}}"
TID = r"{ticket_id:\d{1,18}}"
GID = r"{group_id:\d{1,18}}"
HELLO_TIMEOUT = 10.0
MAX_VIEWER_ERRORS = 20
MAX_VIEWERS = 16  # per session
NO_RIGHTS = N_("only the ticket's assignee, members of its group and admins may open or "
               "list remote sessions on it")


def ws_path(session_id: int) -> str:
    """Return the viewer WebSocket path of a session."""
    return f"/api/v1/remote-sessions/{session_id}/ws"


async def _may(req: ApiRequest | web.Request, identity: Identity, ticket_row: Any) -> bool:
    return await device_session.may_use(req.app, identity, ticket_row)


def recording_path(session_id: int) -> str:
    """Return the API path that serves a session's recording."""
    return f"/api/v1/remote-sessions/{session_id}/recording"


def _recording(row: Any, live: LiveSession | None) -> RecordingInfo | None:
    if live is not None and live.recorder is not None:
        now = live.recorder.live_stats()
        return RecordingInfo(state="recording", bytes=now.file_bytes,
                             duration_seconds=round(now.duration_ms / 1000, 1),
                             frames=now.frames, dropped_frames=now.dropped_frames,
                             gaps=now.gaps, complete=False, error=now.error,
                             deleted_at=None, delete_reason=None, url=None)
    if row.rec_state is not None:
        return RecordingInfo(state=row.rec_state, bytes=row.rec_bytes,
                             duration_seconds=round(row.rec_duration_ms / 1000, 1),
                             frames=row.rec_frames, dropped_frames=row.rec_dropped_frames,
                             gaps=row.rec_gaps, complete=row.rec_complete, error=row.rec_error,
                             deleted_at=row.rec_deleted_at,
                             delete_reason=row.rec_delete_reason,
                             url=recording_path(row.id) if row.rec_state == "ready" else None)
    if live is not None and live.record and live.state == "requested":
        return RecordingInfo(state="pending", bytes=0, duration_seconds=0.0, frames=0,
                             dropped_frames=0, gaps=0, complete=False, error=None,
                             deleted_at=None, delete_reason=None, url=None)
    return None


def _to_api(row: Any, live: LiveSession | None) -> RemoteSession:
    return RemoteSession(
        id=row.id, ticket_id=row.ticket_id, ticket_number=row.ticket_number,
        device_id=row.device_id, device_name=row.device_name,
        technician=(UserRef(id=row.technician_id, display_name=row.technician_name)
                    if row.technician_id is not None else None),
        mode=live.mode if live else row.mode,  # type: ignore[arg-type]
        pending_mode=live.pending_mode if live else None,  # type: ignore[arg-type]
        reason=row.reason, state=live.state if live else row.state,  # type: ignore[arg-type]
        outcome=row.outcome, consent=row.consent, ended_by=row.ended_by,
        end_reason=row.end_reason, created_at=row.created_at, started_at=row.started_at,
        ended_at=row.ended_at, summary=live.summary() if live else row.summary,
        viewers=len(live.viewers) if live else 0,
        monitors=live.monitors if live else [], websocket_path=ws_path(row.id),
        recording=_recording(row, live))


async def _session_for(req: ApiRequest, session_id: int) -> tuple[Any, LiveSession | None]:
    """Return a session the caller has rights on (404 otherwise, like an unknown id)."""
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, session_id))
    ticket = await req.app[DATABASE].read(lambda c: ticket_reading.get_row(c, row.ticket_id))
    if not await _may(req, req.user, ticket):
        raise NotFound("no remote session with id {session_id}", session_id=session_id)
    live = req.app[REMOTE].by_id.get(session_id)
    if live is not None and live.state != row.state:
        # The session moved on while the row was read; the manager changes its live state
        # only after the row's write committed, so a second read sees that step's values.
        row = await req.app[DATABASE].read(lambda c: store.get_row(c, session_id))
    return row, live


@router.route("POST", f"/api/v1/tickets/{TID}/remote-sessions", roles=STAFF,
              summary="Start a remote session on the ticket's device", body=SessionCreate,
              response=RemoteSession, status=201)
async def start_session(req: ApiRequest) -> RemoteSession:
    ticket_id = int(req.params["ticket_id"])
    body: SessionCreate = req.body
    me = req.user
    app = req.app
    if not body.reason.strip():
        raise ValidationFailed("{field} must not be blank", field="reason")
    found = await device_session.target(app, me, ticket_id, body.device_id,
                                        no_rights=NO_RIGHTS)
    ticket, device, link, consent = found.ticket, found.device, found.link, found.consent
    hub, sessions = app[HUB], app[REMOTE]
    if "remote" not in link.capabilities:
        raise Conflict("the agent on {hostname!r} does not offer remote sessions",
                       code="remote_unavailable", hostname=device.hostname)
    if sessions.busy(device.id):
        raise Conflict("a remote session is already running on {hostname!r}",
                       code="session_busy", hostname=device.hostname)
    # Recorded only if the agent can tell its user so (see docs/remote.md).
    wants_record = device.group_id in await app[DATABASE].read(store.recording_groups)
    record = wants_record and p.RECORDING_CAPABILITY in link.capabilities
    note = "not recorded: the agent cannot tell the user" if wants_record and not record else ""
    now = utcnow()
    session_id = await app[DATABASE].write(lambda c: store.create_session(
        c, ticket_id=ticket_id, device_id=device.id, technician_id=me.user_id,
        mode=body.mode, reason=body.reason, consent=consent, device_name=device.hostname,
        now=now, record=record, record_note=note))
    row = await app[DATABASE].read(lambda c: store.get_row(c, session_id))
    if sessions.busy(device.id) or hub.links.get(device.id) is not link:  # raced
        await app[DATABASE].write(lambda c: store.record_step(
            c, session_id, actor_id=None, step="ended", now=now,
            body="Remote session not started: the device became unavailable.",
            values={"state": "ended", "outcome": "busy", "ended_by": "server",
                    "end_reason": "device unavailable", "ended_at": now},
            outcome="busy", by="server"))
        raise Conflict("the device became unavailable", code="session_busy")
    live = LiveSession(id=session_id, ticket_id=ticket_id, ticket_number=row.ticket_number,
                       device_id=device.id, technician_id=me.user_id,
                       technician_name=row.technician_name or me.username, mode=body.mode,
                       link=link, device_name=device.hostname, record=record,
                       clipboard=p.CLIPBOARD_CAPABILITY in link.capabilities)
    sessions.open(live, reason=body.reason, title=ticket.title, consent=consent)
    await sessions.publish(ticket_id)
    return _to_api(row, live)


@router.route("GET", f"/api/v1/tickets/{TID}/remote-sessions", roles=STAFF,
              summary="List a ticket's remote sessions", response=RemoteSessionList)
async def list_sessions(req: ApiRequest) -> RemoteSessionList:
    ticket_id = int(req.params["ticket_id"])
    ticket = await req.app[DATABASE].read(lambda c: ticket_reading.get_row(c, ticket_id))
    # The records name viewers, the socket and the recording: the same people as may
    # open or watch a session (the caller reads the ticket, so 403 hides nothing).
    if not await _may(req, req.user, ticket):
        raise Forbidden(NO_RIGHTS)
    rows = await req.app[DATABASE].read(lambda c: store.rows_of_ticket(c, ticket_id))
    live = req.app[REMOTE].by_id
    return RemoteSessionList(items=[_to_api(r, live.get(r.id)) for r in rows])


@router.route("GET", f"/api/v1/remote-sessions/{SID}", roles=STAFF,
              summary="Get a remote session", response=RemoteSession)
async def get_session(req: ApiRequest) -> RemoteSession:
    row, live = await _session_for(req, int(req.params["session_id"]))
    return _to_api(row, live)


@router.route("POST", f"/api/v1/remote-sessions/{SID}/end", roles=STAFF,
              summary="End a remote session", response=RemoteSession)
async def end_session(req: ApiRequest) -> RemoteSession:
    session_id = int(req.params["session_id"])
    row, live = await _session_for(req, session_id)
    if live is None:
        raise Conflict("the session is already over", code="session_ended")
    me = req.user
    name = await req.app[DATABASE].read(lambda c: store.display_name(c, me.user_id))
    await req.app[REMOTE].finish(live, outcome="completed", by="technician",
                                 reason="", who=name, actor_id=me.user_id)
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, session_id))
    return _to_api(row, None)


@router.route("POST", f"/api/v1/remote-sessions/{SID}/mode", roles=STAFF,
              summary="Switch a remote session between view and control", body=ModeChange,
              response=RemoteSession)
async def change_mode(req: ApiRequest) -> RemoteSession:
    session_id = int(req.params["session_id"])
    body: ModeChange = req.body
    row, live = await _session_for(req, session_id)
    if live is None or live.state != "active":
        raise Conflict("the session is not running", code="session_not_active")
    me = req.user
    if me.user_id != live.technician_id:
        raise Forbidden("only the technician who opened the session may change its mode")
    if live.pending_mode is not None:
        raise Conflict("the user has not answered the previous request yet",
                       code="mode_pending")
    if body.mode != live.mode:
        await req.app[REMOTE].set_mode(live, body.mode, consent=row.consent != "unattended",
                                       actor_id=me.user_id)
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, session_id))
    return _to_api(row, live)


@router.route("GET", f"/api/v1/groups/{GID}/remote-policy", roles=ADMIN,
              summary="Get a device group's remote-access policy", response=RemotePolicy)
async def get_remote_policy(req: ApiRequest) -> RemotePolicy:
    group_id = int(req.params["group_id"])
    unattended, record = await req.app[DATABASE].read(
        lambda c: store.get_policy_values(c, group_id))
    return RemotePolicy(group_id=group_id, unattended=unattended, record=record)


@router.route("PUT", f"/api/v1/groups/{GID}/remote-policy", roles=ADMIN,
              summary="Set a device group's remote-access policy", body=RemotePolicyUpdate,
              response=RemotePolicy)
async def put_remote_policy(req: ApiRequest) -> RemotePolicy:
    group_id = int(req.params["group_id"])
    body: RemotePolicyUpdate = req.body
    unattended = None if body.unattended is UNSET else body.unattended
    record = None if body.record is UNSET else body.record
    if unattended is None and record is None:
        raise ValidationFailed("give unattended, record or both")
    me = req.user
    now = utcnow()

    def run(conn: Any) -> tuple[bool, bool]:
        stored = store.set_policy(conn, group_id, unattended, record=record,
                                  actor_id=me.user_id, now=now)
        from server.users import store as audit

        audit.record(conn, actor_id=me.user_id, action="remote_policy.set",
                     target_type="group", target_id=group_id, now=now,
                     unattended=stored[0], record=stored[1])
        return stored

    stored = await req.app[DATABASE].write(run)
    return RemotePolicy(group_id=group_id, unattended=stored[0], record=stored[1])


_same_origin = device_session.same_origin


@router.route("GET", f"/api/v1/remote-sessions/{SID}/ws", roles=STAFF,
              summary="Watch a remote session (WebSocket; see docs/protocol.md)", status=101)
async def viewer_socket(req: ApiRequest) -> web.StreamResponse:
    session_id = int(req.params["session_id"])
    me = req.user
    _row, live = await _session_for(req, session_id)
    request = req.request
    if me.via == "session" and not _same_origin(request):
        raise Forbidden("the WebSocket must be opened from the console's own origin",
                        code="bad_origin")
    if live is None or live.state == "ended":
        raise Conflict("the session is over", code="session_ended")
    if len(live.viewers) >= MAX_VIEWERS:
        raise Conflict("a session has at most {limit} viewers", code="too_many_viewers",
                       limit=MAX_VIEWERS)
    # Room for a clipboard message (and to refuse a larger one with a clear error);
    # decode_viewer holds every other type to 4 KiB. Beyond this aiohttp closes (1009).
    ws = web.WebSocketResponse(compress=False, max_msg_size=2 * clip.MAX_FRAME_BYTES,
                               autoping=True, heartbeat=30)
    if not ws.can_prepare(request).ok:
        raise BadRequest("expected a WebSocket upgrade", code="websocket_required")
    await ws.prepare(request)
    name = await req.app[DATABASE].read(lambda c: store.display_name(c, me.user_id))
    viewer = Viewer(user_id=me.user_id, name=name, ws=ws, conn_id="viewer-" + secrets.token_hex(4),
                    controller=me.user_id == live.technician_id)
    try:
        await _serve_viewer(req, ws, live, viewer, me)
    except Exception:
        log.exception("%s: viewer failed", viewer.conn_id)
        with contextlib.suppress(Exception):
            await ws.close(code=1011, message=b"internal error")
    return ws


async def _serve_viewer(req: ApiRequest, ws: web.WebSocketResponse, live: LiveSession,
                        viewer: Viewer, me: Identity) -> None:
    if me.via == "session":
        # Cookies ride along on any cross-site WebSocket; the CSRF token does not.
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT)
            hello = screen.decode_viewer(msg.data) if msg.type == WSMsgType.TEXT else None
        except (TimeoutError, screen.ViewerError):
            hello = None
        if not isinstance(hello, screen.ViewerHello) or not hmac.compare_digest(
                hello.csrf.encode(), me.csrf_token.encode()):
            await ws.send_json({"type": "error", "code": "csrf_failed",
                                "message": "the first message must be hello with the "
                                           "session's CSRF token"})
            await ws.close(code=4003, message=b"csrf")
            return
    sessions = req.app[REMOTE]
    if live.state == "ended":
        await ws.close(code=1000, message=b"session ended")
        return
    writer = asyncio.create_task(viewer.writer(), name=f"{viewer.conn_id}-writer")
    watch = asyncio.create_task(_watch_rights(req, live, viewer, me),
                                name=f"{viewer.conn_id}-rights")
    sessions.join(live, viewer)
    viewer.send_text({"type": "welcome", "session": live.id, "controller": viewer.controller,
                      "you": viewer.name})
    try:
        await _viewer_loop(req, ws, live, viewer)
    finally:
        watch.cancel()
        sessions.leave(live, viewer)
        viewer.close(1000, "")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, 3)
        writer.cancel()


async def _lost_rights(req: ApiRequest, live: LiveSession, me: Identity) -> str | None:
    """Return why ``me`` may no longer watch ``live`` (None while they may)."""
    now = utcnow()

    def read(conn: Any) -> tuple[Identity | None, Any, set[int]]:
        current = credentials.current_identity(conn, me, now=now)
        return current, ticket_reading.get_row(conn, live.ticket_id), store.group_ids_of(
            conn, me.user_id)

    try:
        current, ticket, member_of = await req.app[DATABASE].read(read)
    except NotFound:
        return "the ticket is gone"
    if current is None:
        return "your login ended"
    if not policy.may_remote(role=current.role, user_id=current.user_id,
                             assignee_id=ticket.assignee_id, ticket_group_id=ticket.group_id,
                             member_of=member_of):
        return "you no longer have rights on the ticket"
    return None


async def _watch_rights(req: ApiRequest, live: LiveSession, viewer: Viewer,
                        me: Identity) -> None:
    """Check the viewer's rights again every few seconds while it watches; when they are
    gone (logged out, deactivated, role or assignment changed), close its socket, and end
    the session if it was the technician in control."""
    sessions = req.app[REMOTE]
    while not viewer.closing and live.state != "ended":
        await asyncio.sleep(sessions.rights_recheck_seconds)
        why = await _lost_rights(req, live, me)
        if why is None:
            continue
        log.info("%s: user %s lost the right to watch session %s: %s", viewer.conn_id,
                 me.user_id, live.id, why)
        viewer.send_text({"type": "error", "code": "rights_revoked",
                          "message": f"You can no longer watch this session: {why}."})
        if viewer.controller:  # before closing: closing ends this task's viewer loop
            await asyncio.shield(sessions.finish(
                live, outcome="completed", by="server", actor_id=None,
                reason=f"the technician in control lost access ({why})"))
        viewer.close(4003, "rights revoked")
        return


async def _viewer_loop(req: ApiRequest, ws: web.WebSocketResponse, live: LiveSession,
                       viewer: Viewer) -> None:
    errors = 0
    while not viewer.closing:
        msg = await ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                        WSMsgType.ERROR):
            return
        try:
            if msg.type != WSMsgType.TEXT:
                raise screen.ViewerError("binary_not_allowed", "viewers send text messages")
            message = screen.decode_viewer(msg.data)
            if isinstance(message, screen.FrameAck):
                live.ack(message.seq)
            elif isinstance(message, screen.KeyFrameRequest):
                viewer.synced = False
                live.request_key_frame()
            elif isinstance(message, screen.INPUT_TYPES):
                if not viewer.controller:
                    raise screen.ViewerError(screen.NOT_CONTROLLER, "only the technician "
                                             "who opened the session controls it")
                if live.mode != "control" or live.state != "active":
                    raise screen.ViewerError(screen.VIEW_ONLY, "the session is view only")
                live.input_events += 1
                live.link.send(p.encode(p.SessionInput(session=live.id, event=message)))
            elif isinstance(message, (screen.SetQuality, screen.SetMonitor)):
                if not viewer.controller:
                    raise screen.ViewerError(screen.NOT_CONTROLLER, "only the technician "
                                             "who opened the session changes settings")
                if isinstance(message, screen.SetQuality):
                    live.quality = message.quality
                else:
                    if live.monitors and message.index >= len(live.monitors):
                        raise screen.ViewerError("invalid_message",
                                                 f"no monitor {message.index}")
                    live.monitor = message.index
                live.link.send(p.encode(p.SessionSettings(
                    session=live.id, quality=live.quality, monitor=live.monitor)))
                live.broadcast()
            elif isinstance(message, screen.ClipboardText):
                await clipboard.from_viewer(req.app[DATABASE], live, viewer, message.text)
            else:
                raise screen.ViewerError("unexpected_message", "hello only comes first")
        except screen.ViewerError as exc:
            errors += 1
            viewer.send_text({"type": "error", "code": exc.code, "message": exc.message[:500]})
            if errors >= MAX_VIEWER_ERRORS:
                viewer.close(1008, "too many invalid messages")
