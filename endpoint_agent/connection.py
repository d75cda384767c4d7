"""The agent's connection loop: connect, authenticate, report, and reconnect on failure.

One :class:`Agent` keeps a pinned TLS WebSocket to the server. It signs the server's
challenge (bound to the certificate it received), sends heartbeats with a health sample,
sends the inventory sections the server does not have, and drains the outbox of samples
taken while offline. Temporary failures reconnect with jittered exponential backoff;
a revoked or unknown device stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from endpoint_agent import __version__, memory
from endpoint_agent.backoff import Backoff
from endpoint_agent.errors import FatalConnectionError, HelloRefused
from endpoint_agent.health.runner import HealthRunner
from endpoint_agent.i18n import PersonLanguages
from endpoint_agent.outbox import Outbox
from endpoint_agent.pinning import pinned_context
from endpoint_agent.state import Enrollment
from endpoint_agent.toolbox.support import ToolSupport
from shared import agent_auth
from shared import protocol as p
from shared import scripts as sc
from shared import toolbox as tb
from shared import toolbox_system as ts
from shared import toolfiles as tf
from shared.digests import section_digests

if TYPE_CHECKING:  # the controller loads with the first session (remote/lazy.py)
    from endpoint_agent.remote.controller import RemoteSupport
    from endpoint_agent.remote.lazy import LazyRemote

log = logging.getLogger("deskmate.agent")

CAPABILITIES = ["inventory", "metrics"]
FATAL_CODES = {p.REVOKED, p.AUTH_FAILED, p.UNSUPPORTED_VERSION}
FATAL_CLOSE = {p.CLOSE_REVOKED: p.REVOKED, p.CLOSE_AUTH_FAILED: p.AUTH_FAILED,
               p.CLOSE_UNSUPPORTED_VERSION: p.UNSUPPORTED_VERSION}
REMOTE_MESSAGES = (p.SessionRequest, p.SessionMode, p.SessionEnd, p.SessionKeyFrame,
                   p.SessionSettings, p.FrameAcked, p.SessionInput, p.SessionClipboard)
ACK_TIMEOUT = 30.0
OUTBOX_BATCH = 32
OUTBOX_POLL = 30.0  # look for reports queued by other processes (deskmate-agent ticket)
STABLE_AFTER = 30.0  # a connection that lasted this long resets the backoff
MAX_ATTEMPT = 32  # an attempt number high enough for the backoff's longest wait

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Stats:
    """What the agent has done; for status output and tests."""

    connections: int = 0
    inventories_sent: list[list[str]] = field(default_factory=list)
    reports_acked: int = 0
    heartbeat_rtts: list[float] = field(default_factory=list)
    last_error: str = ""
    ticket_updates: list[p.TicketUpdate] = field(default_factory=list)  # the newest 100


class Agent:
    """A device's link to the server."""

    def __init__(
        self,
        enrollment: Enrollment,
        key: agent_auth.Signer,
        ca_pem: bytes,
        outbox: Outbox,
        *,
        collect_inventory: Callable[[], dict[str, Any]],
        sample: Callable[[], p.Metrics],
        backoff: Backoff | None = None,
        heartbeat_interval: float | None = None,
        offline_sample_interval: float = 60.0,
        inventory_interval: float = 3600.0,
        clock: Callable[[], float] = time.time,
        health: HealthRunner | None = None,
        remote: RemoteSupport | LazyRemote | None = None,
        remote_unavailable: str = "",
        tools: ToolSupport | None = None,
        languages: PersonLanguages | None = None,
    ) -> None:
        self.enrollment = enrollment
        self.key = key
        self.ssl = pinned_context(ca_pem)
        self.outbox = outbox
        self.collect_inventory = collect_inventory
        self.sample = sample
        self.backoff = backoff or Backoff()
        self.heartbeat_override = heartbeat_interval
        self.offline_sample_interval = offline_sample_interval
        self.inventory_interval = inventory_interval
        self.clock = clock
        self.health = health
        self.remote = remote
        self.remote_unavailable = remote_unavailable  # why there is no remote (a code)
        self.tools = tools
        self.languages = languages or PersonLanguages()  # login_languages: for the windows
        if remote is not None:
            remote.languages = self.languages
        self.stats = Stats()
        self._outbox_wake = health.queued if health is not None else asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()
        self._stop = asyncio.Event()
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._created: dict[str, p.TicketCreated] = {}
        self._statuses: dict[str, p.TicketStatuses] = {}
        # Called with each ticket_update from the server (the tray's local channel).
        self.on_ticket_update: Callable[[p.TicketUpdate], None] | None = None
        self._hb_sent: dict[int, float] = {}
        self._ws: ClientConnection | None = None
        self._close_code: int | None = None

    @property
    def url(self) -> str:
        """Return the wss:// URL of the agent endpoint."""
        return ws_url(self.enrollment)

    def stop(self) -> None:
        """Ask the loop to close the connection and return."""
        self._stop.set()

    async def run(self) -> None:
        """Stay connected until :meth:`stop`.

        Raises:
            FatalConnectionError: the server refused this device for good.
        """
        sampler = asyncio.create_task(self._offline_sampler(), name="offline-sampler")
        checks = (asyncio.create_task(self.health.run(), name="health")
                  if self.health is not None else None)
        attempt = 0
        try:
            while not self._stop.is_set():
                self._close_code = None
                started = time.monotonic()
                authenticated = False
                refused_twice = False
                connections = self.stats.connections  # grows once the server welcomes us
                try:
                    authenticated = await self._session()
                except FatalConnectionError:
                    raise
                except HelloRefused as exc:
                    # Our hello is at fault, not our identity: a newer server, or a bug.
                    # Keep the enrollment; retry at the longest backoff (an upgrade may
                    # be on its way).
                    self.stats.last_error = f"hello refused ({exc.code}): {exc}"
                    log.warning("the server could not read this agent's hello (%s: %s); "
                                "retrying slowly; upgrade the agent if this persists",
                                exc.code, exc)
                    self._close_code = p.CLOSE_BAD_HELLO
                except (OSError, TimeoutError, ssl.SSLError, ConnectionClosed,
                        InvalidHandshake, InvalidURI, p.ProtocolError) as exc:
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    refused_twice = (already_connected(exc)
                                     and self.stats.connections == connections)
                    if isinstance(exc, ssl.SSLCertVerificationError):
                        log.error("server certificate rejected (%s); it is not the pinned "
                                  "server", exc.verify_message)
                    else:
                        log.info("connection failed: %s", self.stats.last_error)
                except Exception as exc:  # a bug must not end the agent: log, back off
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("unexpected failure in the connection")
                finally:
                    self.connected.clear()
                    self._ws = None
                    self._fail_pending()
                    if self.remote is not None:
                        await self.remote.connection_lost()
                    if self.tools is not None:
                        await self.tools.connection_lost()
                if self._stop.is_set():
                    break
                if self._close_code == p.CLOSE_BAD_HELLO:
                    attempt = MAX_ATTEMPT
                elif refused_twice:
                    # A live connection of this device exists and keeps its place: another
                    # `deskmate-agent run` here, or this agent's state copied elsewhere.
                    # Ask again only now and then; never fight over the identity.
                    log.warning("the server refused this connection: this device is already "
                                "connected (a second agent running here, or this agent's "
                                "state copied to another machine?)")
                    attempt = MAX_ATTEMPT
                elif self._close_code == p.CLOSE_REPLACED and authenticated:
                    # The server had stopped hearing this connection and gave the device's
                    # place to a new one: not an error of ours; come back soon.
                    log.info("the server replaced this connection; reconnecting")
                    attempt = min(attempt + 1, MAX_ATTEMPT)
                elif authenticated and time.monotonic() - started >= STABLE_AFTER:
                    attempt = 0
                else:
                    attempt = min(attempt + 1, MAX_ATTEMPT)
                delay = self.backoff.delay(attempt)
                log.info("reconnecting in %.1f s", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            for task in (sampler, checks, *self._background):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if self.remote is not None:
                await self.remote.close()
            if self.tools is not None:
                await self.tools.close()

    def status(self) -> dict[str, Any]:
        """Return the connection state for the tray."""
        base = self.enrollment.server_url.rstrip("/")
        return {"connected": self.connected.is_set(), "server": base,
                "device_id": self.enrollment.device_id, "portal": f"{base}/#/portal",
                "last_error": self.stats.last_error}

    async def submit_ticket(self, message: p.TicketRequest) -> dict[str, Any]:
        """Send a ticket now if connected, else queue it; return what happened."""
        ws = self._ws
        if ws is not None and self.connected.is_set():
            try:
                await self._request(ws, message.id, p.encode(message))
                created = self._created.pop(message.id)
                base = self.enrollment.server_url.rstrip("/")
                return {"number": created.number, "ticket_id": created.ticket_id,
                        "url": f"{base}/#/portal/tickets/{created.ticket_id}"}
            except p.ProtocolError as exc:
                return {"error": exc.message, "code": exc.code}
            except (ConnectionError, ConnectionClosed, TimeoutError, KeyError) as exc:
                log.info("ticket not sent now (%s); queueing it", exc)
        await asyncio.to_thread(self.outbox.put_with_id, message.id, "ticket",
                                msgspec.to_builtins(message))
        self.wake_outbox()
        return {"queued": True}

    async def submit_rating(self, message: p.Rating) -> dict[str, Any]:
        """Send a rating now; ratings are not queued (the server must say yes or no)."""
        ws = self._ws
        if ws is None or not self.connected.is_set():
            return {"error": "offline: rate again when the connection is back",
                    "code": "offline"}
        try:
            await self._request(ws, message.id, p.encode(message))
        except p.ProtocolError as exc:
            return {"error": exc.message, "code": exc.code}
        except (ConnectionError, ConnectionClosed, TimeoutError) as exc:
            return {"error": f"not sent: {exc}", "code": "offline"}
        return {"rated": True}

    async def ticket_statuses(self, login: str, ticket_ids: list[int]) -> list[dict[str, Any]]:
        """Ask the server for the live status of tickets this user raised here.

        Raises:
            ConnectionError: not connected.
            ProtocolError: the server refused (``unknown_type``: a server without it).
            TimeoutError: no answer in time.
        """
        ws = self._ws
        if ws is None or not self.connected.is_set():
            raise ConnectionError("not connected")
        message = p.TicketStatusRequest(id=uuid.uuid4().hex, requester_login=login,
                                        ticket_ids=ticket_ids[:p.MAX_STATUS_TICKETS])
        await self._request(ws, message.id, p.encode(message))
        answer = self._statuses.pop(message.id)
        return [msgspec.to_builtins(t) for t in answer.tickets]

    def wake_outbox(self) -> None:
        """Send what was just queued in the outbox without waiting for the next poll."""
        self._outbox_wake.set()

    @property
    def capabilities(self) -> list[str]:
        """Return what this agent announces in its hello."""
        return (CAPABILITIES + [p.TICKET_UPDATES_CAPABILITY, p.LOGIN_LANGUAGES_CAPABILITY]
                + ([p.HEALTH_CAPABILITY] if self.health is not None else [])
                + (["remote", p.RECORDING_CAPABILITY, p.LOSSLESS_CAPABILITY,
                    p.REMOTE_BACKEND_PREFIX + self.remote.backend]
                   if self.remote is not None else [])
                + ([p.REMOTE_UNAVAILABLE_PREFIX + self.remote_unavailable]
                   if self.remote is None and self.remote_unavailable else [])
                + ([p.CLIPBOARD_CAPABILITY] if self.remote is not None and self.remote.clipboard
                   else [])
                + (self.tools.capabilities if self.tools is not None else []))

    def _fail_pending(self) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost before ack"))
        self._acks.clear()
        self._hb_sent.clear()

    async def _session(self) -> bool:
        """Run one connection; return whether it authenticated."""
        async with open_connection(self.enrollment, self.ssl) as ws:
            self._ws = ws
            welcome = await self._handshake(ws)
            self.stats.connections += 1
            self.connected.set()
            log.info("connected to %s as %s", self.enrollment.server_url, welcome.device_id)
            interval = self.heartbeat_override or welcome.heartbeat_interval
            tasks = [
                asyncio.create_task(self._reader(ws), name="reader"),
                asyncio.create_task(self._heartbeats(ws, interval), name="heartbeats"),
                asyncio.create_task(self._inventory(ws, welcome.inventory_digests),
                                    name="inventory"),
                asyncio.create_task(self._drain_outbox(ws), name="outbox"),
                asyncio.create_task(self._stop.wait(), name="stop"),
            ]
            pending: set[asyncio.Task[Any]] = set(tasks)
            try:
                while True:
                    done, pending = await asyncio.wait(pending,
                                                       return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        exc = task.exception()
                        if exc is not None:
                            raise exc
                        if task.get_name() == "stop":
                            await ws.close(1001, "agent stopping")
                            return True
                        if task.get_name() == "reader":
                            return True
                        # The outbox drained: the other tasks go on.
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _handshake(self, ws: ClientConnection) -> p.Welcome:
        welcome = await handshake(ws, self.enrollment.device_id, self.key,
                                  capabilities=self.capabilities)
        if self.remote is not None:
            self.remote.bind(ws.send)
        if self.tools is not None:
            self.tools.bind(ws.send)
        return welcome

    async def _reader(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                try:
                    message = p.decode_server_message(frame)
                except p.ProtocolError as exc:
                    log.warning("refused a server message (%s): %s", exc.code, exc.message)
                    await ws.send(p.encode(p.error_for(exc)))
                    continue
                self._dispatch(message)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            self._close_code = code
            if code in FATAL_CLOSE:
                raise FatalConnectionError(FATAL_CLOSE[code],
                                           exc.rcvd.reason if exc.rcvd else "") from exc
            log.info("connection closed (%s)", code)

    def _dispatch(self, message: p.ServerMessage) -> None:
        if isinstance(message, (p.Ack, p.TicketCreated)):
            if isinstance(message, p.TicketCreated):
                log.info("ticket %s created", message.number)
                if message.id in self._acks:
                    self._created[message.id] = message
            future = self._acks.pop(message.id, None)
            if future is not None and not future.done():
                future.set_result(None)
        elif isinstance(message, p.TicketStatuses):
            if message.id in self._acks:
                self._statuses[message.id] = message
                future = self._acks.pop(message.id)
                if not future.done():
                    future.set_result(None)
        elif isinstance(message, p.TicketUpdate):
            log.info("ticket %s %s", message.number, message.change)
            self.stats.ticket_updates.append(message)
            del self.stats.ticket_updates[:-100]
            if self.on_ticket_update is not None:
                try:
                    self.on_ticket_update(message)
                except Exception:
                    log.exception("could not pass a ticket update on")
        elif isinstance(message, p.LoginLanguages):
            self.languages.update(message.languages)
        elif isinstance(message, p.HeartbeatAck):
            sent = self._hb_sent.pop(message.seq, None)
            if sent is not None:
                self.stats.heartbeat_rtts.append(time.perf_counter() - sent)
                del self.stats.heartbeat_rtts[:-1000]
        elif isinstance(message, p.Error):
            log.warning("server error %s: %s", message.code, message.message)
            if message.id is not None and message.id in self._acks:
                future = self._acks.pop(message.id)
                if not future.done():
                    future.set_exception(p.ProtocolError(message.code, message.message))
            if message.fatal and message.code in FATAL_CODES:
                raise FatalConnectionError(message.code, message.message)
        elif isinstance(message, p.HealthConfig):
            if self.health is not None:
                task = asyncio.get_running_loop().create_task(self.health.configure(message))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        elif isinstance(message, REMOTE_MESSAGES):
            if self.remote is not None:
                self.remote.on_message(message)
        elif isinstance(message, (*tb.SERVER_TOOL_MESSAGES, *ts.SERVER_SYSTEM_MESSAGES,
                                  *tf.SERVER_FILE_MESSAGES, *sc.SERVER_SCRIPT_MESSAGES)):
            if self.tools is not None:
                self.tools.on_message(message)
            else:  # the server asks only agents that announce tools
                log.warning("a tool message, but this agent serves no tools")
        else:
            log.warning("unexpected %s from the server", type(message).__name__)

    async def _request(self, ws: ClientConnection, message_id: str, frame: str) -> None:
        """Send a frame and wait for the server's ack of ``message_id``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[message_id] = future
        try:
            await ws.send(frame)
            await asyncio.wait_for(future, ACK_TIMEOUT)
        finally:
            # Nobody waits any more: a later failure must not land on an orphan future.
            if self._acks.get(message_id) is future:
                del self._acks[message_id]

    async def _heartbeats(self, ws: ClientConnection, interval: float) -> None:
        seq = 0
        while True:
            metrics = await asyncio.to_thread(self.sample)
            self._hb_sent[seq] = time.perf_counter()
            if len(self._hb_sent) > 100:  # answers lost: do not grow without bound
                self._hb_sent.pop(next(iter(self._hb_sent)))
            await ws.send(p.encode(p.Heartbeat(seq=seq, metrics=metrics)))
            seq += 1
            await asyncio.sleep(interval)

    async def _inventory(self, ws: ClientConnection, server_digests: dict[str, str]) -> None:
        known = dict(server_digests)
        while True:
            inventory = await asyncio.to_thread(self.collect_inventory)
            digests = section_digests(inventory)
            changed = sorted(s for s, d in digests.items() if known.get(s) != d)
            if changed:
                message_id = uuid.uuid4().hex
                await self._request(ws, message_id, p.encode(p.Inventory(
                    id=message_id, sections={s: inventory[s] for s in changed},
                    digests={s: digests[s] for s in changed})))
                known.update({s: digests[s] for s in changed})
                self.stats.inventories_sent.append(changed)
                log.info("inventory sent: %s", ", ".join(changed))
            del inventory
            await asyncio.to_thread(memory.release)  # back to the idle footprint
            await asyncio.sleep(self.inventory_interval)

    async def _drain_outbox(self, ws: ClientConnection) -> None:
        """Send queued reports in order, each once acknowledged; then wait for more."""
        while True:
            self._outbox_wake.clear()
            batch = await asyncio.to_thread(self.outbox.peek, OUTBOX_BATCH)
            for report_id, kind, body in batch:
                if kind == "ticket":
                    frame = p.encode(msgspec.convert(body, p.TicketRequest))
                elif kind == "health":
                    frame = p.encode(p.HealthReport(id=report_id, results=msgspec.convert(
                        body["results"], list[p.HealthResult])))
                else:
                    samples = msgspec.convert(body["samples"], list[p.MetricsSample])
                    frame = p.encode(p.Report(id=report_id, kind="metrics", samples=samples))
                try:
                    await self._request(ws, report_id, frame)
                except p.ProtocolError as exc:
                    if exc.code != p.UNKNOWN_TYPE:
                        raise
                    # A server older than this report's type: it will never take it.
                    log.warning("the server does not take %s reports; dropping %s", kind,
                                report_id)
                self._created.pop(report_id, None)  # only submit_ticket() reads these
                await asyncio.to_thread(self.outbox.remove, report_id)
                self.stats.reports_acked += 1
            if len(batch) < OUTBOX_BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._outbox_wake.wait(), OUTBOX_POLL)

    async def _offline_sampler(self) -> None:
        """While disconnected, keep health samples in the outbox for later."""
        while True:
            await asyncio.sleep(self.offline_sample_interval)
            if self.connected.is_set():
                continue
            try:
                metrics = await asyncio.to_thread(self.sample)
                body = {"samples": [msgspec.to_builtins(
                    p.MetricsSample(at=self.clock(), metrics=metrics))]}
                await asyncio.to_thread(self.outbox.put, "metrics", body)
            except Exception:
                log.exception("could not queue an offline sample")


async def handshake(ws: ClientConnection, device_id: str, key: agent_auth.Signer, *,
                    capabilities: list[str] | None = None) -> p.Welcome:
    """Answer the server's challenge; return its welcome.

    Raises:
        FatalConnectionError: the server refused this device for good.
        HelloRefused: the server could not read the hello (closed with 4002).
        ProtocolError: the server said something unexpected.
    """
    challenge = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
    if not isinstance(challenge, p.Challenge):
        raise p.ProtocolError(p.UNEXPECTED, "expected a challenge")
    if p.PROTOCOL_VERSION in challenge.protocols:
        version = p.PROTOCOL_VERSION
    else:
        common = set(challenge.protocols) & set(p.SUPPORTED_VERSIONS)
        if not common:
            raise FatalConnectionError(
                p.UNSUPPORTED_VERSION, f"the server speaks protocol {challenge.protocols}; "
                f"this agent speaks {list(p.SUPPORTED_VERSIONS)}")
        version = max(common)
    ssl_object = ws.transport.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    if not cert:
        raise p.ProtocolError(p.UNEXPECTED, "no server certificate to bind to")
    binding = agent_auth.channel_binding(cert)
    await ws.send(p.encode(p.Hello(
        protocol=version, device_id=device_id, agent_version=__version__,
        capabilities=CAPABILITIES if capabilities is None else capabilities,
        channel=agent_auth.b64encode(binding),
        signature=agent_auth.sign(key, challenge.nonce, device_id, binding))))
    try:
        answer = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        reason = exc.rcvd.reason if exc.rcvd else ""
        if code in FATAL_CLOSE:
            raise FatalConnectionError(FATAL_CLOSE[code], reason) from exc
        if code == p.CLOSE_BAD_HELLO:
            raise HelloRefused(p.UNEXPECTED, reason) from exc
        raise
    if isinstance(answer, p.Error):
        if answer.code in FATAL_CODES:
            raise FatalConnectionError(answer.code, answer.message)
        if answer.fatal:  # the hello itself was refused (then closed with 4002)
            raise HelloRefused(answer.code, answer.message)
        raise p.ProtocolError(answer.code, answer.message)
    if not isinstance(answer, p.Welcome):
        raise p.ProtocolError(p.UNEXPECTED, "expected welcome")
    return answer


def already_connected(exc: BaseException) -> bool:
    """Tell whether a failed connection was refused because the device is connected already."""
    if isinstance(exc, p.ProtocolError):
        return exc.code == p.ALREADY_CONNECTED
    if isinstance(exc, ConnectionClosed):  # the error frame was lost, the close was not
        return exc.rcvd is not None and exc.rcvd.code == p.CLOSE_ALREADY_CONNECTED
    return False


def ws_url(enrollment: Enrollment) -> str:
    """Return the wss:// URL of the server's agent endpoint."""
    parts = urlsplit(enrollment.server_url)
    return f"wss://{parts.netloc}{parts.path}{enrollment.websocket_path}"


def proxy_setting(env: Mapping[str, str] | None = None) -> Literal[True] | None:
    """Return websockets' ``proxy`` argument: look one up only when one can be set.

    Without any ``*_proxy`` variable (the only proxy configuration on Linux) there is
    none, and websockets' lookup would import urllib.request for nothing (~3 MB RSS,
    see ``endpoint_agent/__init__.py``). With one, websockets applies it as before.
    """
    env = os.environ if env is None else env
    return True if any(name.lower().endswith("_proxy") for name in env) else None


def open_connection(enrollment: Enrollment, ssl_context: ssl.SSLContext) -> connect:
    """Return the (not yet opened) WebSocket connection to the server, as the agent uses."""
    return connect(ws_url(enrollment), ssl=ssl_context, compression=None,
                   proxy=proxy_setting(),
                   max_size=p.MAX_MESSAGE_BYTES, open_timeout=10, ping_interval=20,
                   ping_timeout=20, close_timeout=5,
                   user_agent_header=f"deskmate-agent/{__version__}")

