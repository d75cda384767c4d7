"""One agent's WebSocket: challenge, authentication, then the message loop.

The protocol itself (types, limits, codes) lives in :mod:`shared.protocol`; this module
feeds it frames and sends what it answers. Internal failures are logged with the
connection id and never described to the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time

from aiohttp import WSMessage, WSMsgType, web
from sqlalchemy.engine import Connection

from server.agents.hub import AgentLink
from server.agents.languages import push_languages
from server.db.schema import utcnow
from server.devices import store
from server.errors import ApiError
from server.health import incidents as health_incidents
from server.health.push import send_config
from server.keys import (
    BROKER,
    CHANNEL_BINDING,
    CLIENT_IP,
    DATABASE,
    HANDSHAKES,
    HUB,
    METRICS,
    REMOTE,
    SCRIPTS,
    SETTINGS,
    TOOLS,
)
from server.remote import clipboard as remote_clipboard
from server.tickets import device_updates, from_agent
from server.tickets import reading as ticket_reading
from server.tickets.priority import parse_matrix
from server.toolbox import system as tool_system
from shared import agent_auth
from shared import protocol as p
from shared import scripts as sc
from shared import toolbox as tb
from shared import toolbox_system as ts
from shared import toolfiles as tf

log = logging.getLogger("deskmate.agents")

HELLO_TIMEOUT = 10.0
PROBE_TIMEOUT = 5.0  # a device connecting again: how long its old connection may take to answer
HEARTBEAT_INTERVAL = 30.0
MAX_ERRORS = 20  # refused messages on one connection before it is closed
MAX_HANDSHAKES = 1000  # unauthenticated sockets held at once; more are told to come back


class Unavailable(ApiError):
    """Agent connections cannot be accepted in this configuration."""

    status = 503
    code = "unavailable"


async def _send_and_close(ws: web.WebSocketResponse, message: p.Message, code: int,
                          reason: str) -> web.WebSocketResponse:
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await ws.send_str(p.encode(message))
    await ws.close(code=code, message=reason.encode())
    return ws


async def _receive_frame(ws: web.WebSocketResponse, within: float) -> WSMessage:
    """Return the next frame that is not a ping or pong (answering pings), within ``within`` s.

    Pings are answered here rather than by aiohttp (``autoping=False``) so that the
    message loop sees pongs: they answer the probe of :meth:`AgentLink.probe`.
    """
    async with asyncio.timeout(within):
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type != WSMsgType.PONG:
                return msg


async def _authenticate(request: web.Request, ws: web.WebSocketResponse, conn_id: str,
                        binding: bytes) -> tuple[store.AuthRecord, p.Hello] | None:
    """Send the challenge and check the agent's hello; None when refused (and closed)."""
    nonce = agent_auth.new_nonce()
    await ws.send_str(p.encode(p.Challenge(nonce=nonce, protocols=list(p.SUPPORTED_VERSIONS))))
    try:
        msg = await _receive_frame(ws, HELLO_TIMEOUT)
    except TimeoutError:
        # Slow networks happen: not fatal, the agent retries.
        await _send_and_close(ws, p.Error(code=p.HELLO_TIMEOUT, message="no hello in time"),
                              p.CLOSE_POLICY, "timeout")
        return None
    # A first frame that is no valid hello is a fault of the client, not of its identity:
    # it gets its own close code, so an agent does not give up a valid enrollment for it.
    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
        return None  # the agent went away before saying hello
    if msg.type != WSMsgType.TEXT:
        await _send_and_close(ws, p.Error(code=p.BINARY_NOT_ALLOWED, fatal=True,
                                          message="the first message must be a hello text "
                                          "frame"), p.CLOSE_BAD_HELLO, "bad hello")
        return None
    try:
        hello = p.decode_hello(msg.data)
    except p.ProtocolError as exc:
        await _send_and_close(ws, p.error_for(exc, fatal=True), p.CLOSE_BAD_HELLO,
                              "bad hello")
        return None
    if not isinstance(hello, p.Hello):
        await _send_and_close(ws, p.Error(code=p.UNEXPECTED, message="first message must be "
                                          "hello", fatal=True), p.CLOSE_BAD_HELLO, "no hello")
        return None
    if hello.protocol not in p.SUPPORTED_VERSIONS:
        await _send_and_close(ws, p.Error(
            code=p.UNSUPPORTED_VERSION, fatal=True,
            message=f"protocol {hello.protocol} not supported; "
                    f"this server speaks {list(p.SUPPORTED_VERSIONS)}"),
            p.CLOSE_UNSUPPORTED_VERSION, "unsupported version")
        return None
    if hello.channel is not None and hello.channel != agent_auth.b64encode(binding):
        # The agent reached us through another certificate than ours (a renewed proxy
        # certificate not yet configured, or an intercepting proxy). Not the device's
        # fault: say so, log it loudly, and let it retry.
        log.warning("%s: device %s saw a different server certificate (%s); check "
                    "tls_binding_cert / the proxy", conn_id, hello.device_id, hello.channel)
        await _send_and_close(ws, p.Error(
            code=p.CHANNEL_MISMATCH, message="the TLS certificate you received is not this "
            "server's; a proxy in between?"), p.CLOSE_CHANNEL_MISMATCH, "channel mismatch")
        return None
    record = await request.app[DATABASE].read(lambda c: store.auth_record(c, hello.device_id))
    ok = record is not None and agent_auth.verify(
        record.public_key, hello.signature, nonce, hello.device_id, binding)
    if record is None or not ok:
        # One answer for unknown device, wrong key and replay: nothing to learn from it.
        log.info("%s: authentication failed for device %s from %s (%s)", conn_id,
                 hello.device_id, request[CLIENT_IP],
                 "unknown device" if record is None else "bad signature")
        request.app[METRICS].auth_failures.labels("agent").inc()
        await _send_and_close(ws, p.Error(code=p.AUTH_FAILED, message="authentication "
                                          "failed", fatal=True), p.CLOSE_AUTH_FAILED,
                              "authentication failed")
        return None
    if record.revoked:
        log.info("%s: revoked device %s refused", conn_id, hello.device_id)
        await _send_and_close(ws, p.Error(code=p.REVOKED, message="this device was revoked; "
                                          "enroll it again", fatal=True), p.CLOSE_REVOKED,
                              "device revoked")
        return None
    return record, hello


async def _handle(link: AgentLink, message: p.AgentMessage, request: web.Request) -> None:
    """Act on one message from an authenticated agent."""
    app = request.app
    hub = app[HUB]
    if isinstance(message, p.Heartbeat):
        metrics = None
        if message.metrics is not None:
            metrics = {"cpu_percent": message.metrics.cpu_percent,
                       "memory_percent": message.metrics.memory_percent,
                       "disk_percent": message.metrics.disk_percent,
                       "at": utcnow().isoformat()}
        hub.seen(link, now=utcnow(), loop_time=time.monotonic(), metrics=metrics)
        await link.reply(p.encode(p.HeartbeatAck(seq=message.seq)))
    elif isinstance(message, p.Inventory):
        if set(message.sections) != set(message.digests):
            raise p.ProtocolError(p.INVALID_MESSAGE, "sections and digests must name the "
                                  "same sections", msg_id=message.id)
        now = utcnow()
        await app[DATABASE].write(lambda c: store.apply_inventory(
            c, link.device_id, message.sections, message.digests, now))
        await link.reply(p.encode(p.Ack(id=message.id)))
        if "users" in message.sections:  # logins reported: a group's rule may bind one
            await _logins_seen(link, request)
    elif isinstance(message, p.Report):
        samples = [(dt.datetime.fromtimestamp(s.at, dt.UTC), s.metrics.cpu_percent,
                    s.metrics.memory_percent, s.metrics.disk_percent)
                   for s in message.samples]
        now = utcnow()
        await app[DATABASE].write(lambda c: store.store_samples(
            c, link.device_id, message.id, samples, now))
        await link.reply(p.encode(p.Ack(id=message.id)))  # a duplicate is acknowledged again
    elif isinstance(message, p.TicketRequest):
        settings = app[SETTINGS]
        files = from_agent.decode_files(message, limit=settings.attachment_max_bytes)
        if files:
            await asyncio.to_thread(from_agent.write_files,
                                    settings.data_dir / "attachments", files)
        matrix = parse_matrix(settings.priority_matrix)
        now = utcnow()
        ticket_id, number = await app[DATABASE].write(lambda c: from_agent.create_from_agent(
            c, device_id=link.device_id, message=message, files=files, matrix=matrix, now=now))
        await link.reply(p.encode(p.TicketCreated(id=message.id, ticket_id=ticket_id,
                                                  number=number)))
        ticket = await app[DATABASE].read(lambda c: ticket_reading.get_ticket(c, ticket_id))
        app[BROKER].publish_ticket(ticket_id=ticket_id, number=number,
                                   requester_id=ticket.requester.id, change="created",
                                   public=True)
        await _logins_seen(link, request)
    elif isinstance(message, p.HealthReport):
        matrix = parse_matrix(app[SETTINGS].priority_matrix)
        now = utcnow()
        changes = await app[DATABASE].write(lambda c: health_incidents.apply_report(
            c, device_id=link.device_id, report=message, matrix=matrix, now=now))
        await link.reply(p.encode(p.Ack(id=message.id)))  # a duplicate is acknowledged again
        for change in changes:
            app[BROKER].publish_ticket(ticket_id=change.ticket_id, number=change.number,
                                       requester_id=change.requester_id,
                                       change=change.change, public=change.public)
    elif isinstance(message, p.SessionAnswer):
        await app[REMOTE].answer(link, message)
    elif isinstance(message, p.ModeAnswer):
        await app[REMOTE].mode_answer(link, message)
    elif isinstance(message, p.SessionEnded):
        await app[REMOTE].ended_by_agent(link, message)
    elif isinstance(message, p.SessionClipboard):
        await remote_clipboard.from_agent(app[REMOTE], link, message)
    elif isinstance(message, tb.ToolOutput):
        app[TOOLS].output(link, message)
    elif isinstance(message, tb.ToolAnswer):
        await app[TOOLS].answer(link, message)
    elif isinstance(message, tb.ToolEnded):
        await app[TOOLS].ended_by_agent(link, message)
    elif isinstance(message, ts.AGENT_SYSTEM_MESSAGES):
        tool_system.from_agent(app[TOOLS], link, message)
    elif isinstance(message, tf.AGENT_FILE_MESSAGES):
        app[TOOLS].file_answer(link, message)
    elif isinstance(message, sc.ScriptOutput):
        app[SCRIPTS].output(link, message)
    elif isinstance(message, sc.ScriptAnswer):
        await app[SCRIPTS].answer(link, message)
    elif isinstance(message, sc.ScriptDone):
        await app[SCRIPTS].done(link, message)
    elif isinstance(message, p.Rating):
        now = utcnow()
        ticket_id, number, requester_id = await app[DATABASE].write(
            lambda c: device_updates.record_rating(
                c, link.device_id, message, now,
                low_score=app[SETTINGS].satisfaction_low_score))
        await link.reply(p.encode(p.Ack(id=message.id)))
        app[BROKER].publish_ticket(ticket_id=ticket_id, number=number,
                                   requester_id=requester_id, change="rating", public=False)
    elif isinstance(message, p.TicketStatusRequest):
        answer = await app[DATABASE].read(
            lambda c: device_updates.statuses(c, link.device_id, message))
        await link.reply(p.encode(answer))
    elif isinstance(message, p.Error):
        log.info("%s: agent reported error %s: %s", link.conn_id, message.code,
                 message.message)
    else:
        raise p.ProtocolError(p.UNEXPECTED, f"{type(message).__name__.lower()} is not "
                              "expected after authentication")


async def agent_websocket(request: web.Request) -> web.StreamResponse:
    """Serve one agent connection from challenge to close."""
    binding = request.app[CHANNEL_BINDING]
    if binding is None:
        raise Unavailable("agent connections behind a proxy need the tls_binding_cert "
                          "setting (see docs/install.md)")
    ws = web.WebSocketResponse(compress=False, max_msg_size=p.MAX_MESSAGE_BYTES + 1024,
                               autoping=False)
    await ws.prepare(request)
    conn_id = "agent-" + secrets.token_hex(4)
    try:
        await _serve(request, ws, conn_id, binding)
    except Exception:
        # The socket is upgraded: an HTTP error page must not be written into it.
        log.exception("%s: connection failed", conn_id)
        with contextlib.suppress(Exception):
            await ws.close(code=p.CLOSE_INTERNAL, message=b"internal error")
    return ws


async def _serve(request: web.Request, ws: web.WebSocketResponse, conn_id: str,
                 binding: bytes) -> None:
    app = request.app
    if app[HANDSHAKES].locked():
        await _send_and_close(ws, p.Error(code=p.BUSY, message="too many connections being "
                                          "set up; try again shortly"),
                              p.CLOSE_TRY_LATER, "busy")
        return
    async with app[HANDSHAKES]:
        authed = await _authenticate(request, ws, conn_id, binding)
    if authed is None:
        return
    record, hello = authed
    del authed
    hub = app[HUB]
    link = AgentLink(device_id=record.id, uid=record.uid, ws=ws, address=request[CLIENT_IP],
                     conn_id=conn_id, agent_version=hello.agent_version,
                     capabilities=frozenset(hello.capabilities),
                     transport=request.transport,
                     last_heard=asyncio.get_running_loop().time())
    protocol, device_uid = hello.protocol, hello.device_id
    del record, hello  # the connection lives for days: keep only what it needs
    if not await hub.claim(link, probe_timeout=PROBE_TIMEOUT):
        await _send_and_close(ws, p.Error(
            code=p.ALREADY_CONNECTED, message="this device is already connected; a second "
            "agent with its identity (on this machine or a copy elsewhere) is refused"),
            p.CLOSE_ALREADY_CONNECTED, "already connected")
        return
    try:
        # A revocation that committed between our key lookup and claim() found no link
        # to close; look once more now that the link is findable.
        if not await app[DATABASE].read(lambda c: _still_enrolled(c, device_uid)):
            await link.reply(p.encode(p.Error(code=p.REVOKED,
                                              message="this device was revoked", fatal=True)))
            link.close(p.CLOSE_REVOKED, "device revoked")
            return
        digests = await app[DATABASE].read(lambda c: store.inventory_digests(c, link.device_id))
        await link.reply(p.encode(p.Welcome(protocol=protocol, device_id=link.uid,
                                            heartbeat_interval=HEARTBEAT_INTERVAL,
                                            inventory_digests=digests,
                                            server_time=time.time())))
        del digests
        link.welcomed = True
        hub.seen(link, now=utcnow(), loop_time=time.monotonic())
        if p.HEALTH_CAPABILITY in link.capabilities:
            await send_config(app[DATABASE], link)
        if p.LOGIN_LANGUAGES_CAPABILITY in link.capabilities:
            await push_languages(app[DATABASE], hub, [link.device_id])
        log.info("%s: device %s connected from %s (agent %s)", conn_id, link.uid,
                 link.address, link.agent_version)
        await _message_loop(link, ws, request)
    finally:
        hub.unregister(link)
        try:
            await app[REMOTE].agent_gone(link)
        except Exception:
            log.exception("%s: ending the device's remote sessions failed", conn_id)
        try:
            await app[TOOLS].agent_gone(link)
        except Exception:
            log.exception("%s: ending the device's tool sessions failed", conn_id)
        try:
            await app[SCRIPTS].agent_gone(link)
        except Exception:
            log.exception("%s: ending the device's script runs failed", conn_id)
        with contextlib.suppress(Exception):
            await link.finish()
        hub.seen(link, now=utcnow(), loop_time=time.monotonic())
        log.info("%s: device %s disconnected (%s)", conn_id, link.uid, ws.close_code)


async def _message_loop(link: AgentLink, ws: web.WebSocketResponse,
                        request: web.Request) -> None:
    errors = 0
    loop = asyncio.get_running_loop()
    while not link.closing:
        message: p.AgentMessage | None = None
        # No timeout here: the hub closes links that stay silent (Hub.close_idle).
        msg = await ws.receive()
        link.heard()  # any frame answers a probe (Hub.claim)
        if msg.type == WSMsgType.PING:
            await ws.pong(msg.data)
            continue
        if msg.type == WSMsgType.PONG:
            continue
        link.last_heard = loop.time()  # pings keep no link from being idle, as before
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return
        if msg.type == WSMsgType.ERROR:
            log.info("%s: connection error: %s", link.conn_id, ws.exception())
            return
        try:
            if msg.type == WSMsgType.BINARY:
                request.app[REMOTE].frame(link, msg.data)  # relayed, never decoded
                continue
            data = msg.data
            if len(data) > p.MAX_CONTROL_BYTES:  # an inventory: parse it off the loop
                message = await asyncio.to_thread(p.decode_agent_message, data)
            else:
                message = p.decode_agent_message(data)
            await _handle(link, message, request)
        except p.ProtocolError as exc:
            errors += 1
            log.info("%s: refused message (%s): %s", link.conn_id, exc.code, exc.message[:200])
            await link.reply(p.encode(p.error_for(exc)))
            if errors >= MAX_ERRORS:
                link.close(p.CLOSE_POLICY, "too many invalid messages")
        except Exception:
            errors += 1
            ref = secrets.token_hex(6)
            log.exception("%s: failed to handle a message (ref %s)", link.conn_id, ref)
            await link.reply(p.encode(p.Error(code=p.INTERNAL, id=getattr(message, "id", None),
                                              message=f"internal error; reference {ref}")))
            if errors >= MAX_ERRORS:
                link.close(p.CLOSE_INTERNAL, "internal errors")


async def _logins_seen(link: AgentLink, request: web.Request) -> None:
    """Tell the agent its logins' languages if a binding rule just bound one (reported
    logins may bind by rule); nothing is sent when they did not change."""
    if p.LOGIN_LANGUAGES_CAPABILITY in link.capabilities:
        await push_languages(request.app[DATABASE], request.app[HUB], [link.device_id])


def _still_enrolled(conn: Connection, device_uid: str) -> bool:
    record = store.auth_record(conn, device_uid)
    return record is not None and not record.revoked


def channel_binding_for(cert_pem: bytes) -> bytes:
    """Return the binding value for the first certificate in a PEM chain."""
    import ssl

    start = cert_pem.index(b"-----BEGIN CERTIFICATE-----")
    end = cert_pem.index(b"-----END CERTIFICATE-----", start) + len(b"-----END CERTIFICATE-----")
    der = ssl.PEM_cert_to_DER_cert(cert_pem[start:end].decode())
    return agent_auth.channel_binding(der)

