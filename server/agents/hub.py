"""Who is connected: one live connection per device, presence batched to the database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.db.database import Database
from server.devices.store import Presence, flush_presence
from shared import protocol as p

log = logging.getLogger("deskmate.agents")

MAX_BUFFERED = 256 * 1024  # bytes waiting in the kernel-side buffer before "too slow"


@dataclass(eq=False, slots=True)
class AgentLink:
    """One authenticated agent connection.

    There is no per-connection writer task or queue: with thousands of idle agents those
    were a large share of the server's objects (and of its garbage-collector pauses).
    Frames are written straight to the transport, which never reorders them; the write
    buffer is bounded instead of a queue.
    """

    device_id: int
    uid: str
    ws: web.WebSocketResponse
    address: str
    conn_id: str
    agent_version: str
    capabilities: frozenset[str] = frozenset()
    transport: asyncio.BaseTransport | None = None
    last_heard: float = 0.0  # loop time of the last frame from the agent
    welcomed: bool = False  # the Welcome went out: other messages may follow it
    config_reads: int = 0  # health-config reads started for this link (newest one wins)
    # The login_languages last sent (sorted pairs; None: nothing sent yet), and the
    # reads started for it (the newest one sends).
    languages: tuple[tuple[str, str], ...] | None = None
    language_reads: int = 0
    closing: bool = False
    _closer: asyncio.Task[None] | None = None
    _alive: asyncio.Event | None = None  # set by the next frame heard after a probe's ping

    def heard(self) -> None:
        """Note that a frame (a pong included) came in: it answers a probe in flight."""
        alive = self._alive
        if alive is not None:
            self._alive = None
            alive.set()

    async def probe(self, within: float) -> bool:
        """Ping the agent; return whether anything came back within ``within`` seconds."""
        if self.closing:
            return False
        alive = self._alive
        if alive is None:  # one ping answers every probe waiting at the same time
            alive = self._alive = asyncio.Event()
            try:
                await self.ws.ping(b"probe")
            except (ConnectionResetError, RuntimeError):
                return False
        try:
            await asyncio.wait_for(alive.wait(), within)
        except TimeoutError:
            if self._alive is alive:
                self._alive = None
            return False
        return not self.closing

    def _too_slow(self) -> bool:
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport):
            return False
        unsent = transport.get_write_buffer_size()
        if unsent <= MAX_BUFFERED:
            return False
        log.warning("%s: agent %s too slow (%d bytes unsent); disconnecting", self.conn_id,
                    self.uid, unsent)
        self.close(p.CLOSE_POLICY, "too slow")
        return True

    async def reply(self, text: str) -> bool:
        """Send a text frame from the connection's own task; False once closing."""
        if self.closing or self._too_slow():
            return False
        return await self._write(text)

    async def _write(self, text: str) -> bool:
        try:
            await self.ws.send_str(text)
        except (ConnectionResetError, RuntimeError):
            return False
        return True

    def send(self, text: str) -> bool:
        """Send a text frame from any task (in the background); False once closing."""
        if self.closing or self._too_slow():
            return False
        # The frame goes out even if close() follows at once: the write happens in the
        # task's first step, and tasks start in the order they were created.
        task = asyncio.get_running_loop().create_task(self._write(text))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)
        return True

    def close(self, code: int, reason: str, *, wait: float = 2.0) -> None:
        """Close the connection with ``code`` (in the background)."""
        if self.closing:
            return
        self.closing = True
        self._closer = asyncio.get_running_loop().create_task(
            self._close(code, reason, wait))

    async def finish(self) -> None:
        """Close normally unless already closing; wait for a close in progress."""
        if not self.closing:
            self.closing = True
            await self._close(p.CLOSE_NORMAL, "", 2.0)
        elif self._closer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._closer), 5.0)

    async def _close(self, code: int, reason: str, wait: float) -> None:
        with contextlib.suppress(TimeoutError, ConnectionResetError, RuntimeError):
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), wait)


_BACKGROUND: set[asyncio.Task[Any]] = set()  # sends and closes in flight (kept referenced)


class Hub:
    """The registry of connected agents and their presence."""

    def __init__(self, db: Database, *, flush_interval: float = 5.0,
                 sample_interval: float = 60.0, idle_timeout: float = 90.0,
                 persist_interval: float = 60.0) -> None:
        self.db = db
        self.flush_interval = flush_interval
        # A connected device's presence reaches the database at most this often: the API
        # reads live presence from memory, and 10,000 rows written every few seconds kept
        # the writer thread holding the GIL long enough to stall the event loop.
        self.persist_interval = persist_interval
        self._persisted: dict[int, float] = {}  # loop time of each device's last write
        self.idle_timeout = idle_timeout
        self.sample_interval = sample_interval
        self.links: dict[int, AgentLink] = {}
        self._presence: dict[int, Presence] = {}
        self._dirty: set[int] = set()
        self._last_sample: dict[int, float] = {}
        self._samples: list[dict[str, Any]] = []

    def online_ids(self) -> set[int]:
        """Return the ids of devices connected now."""
        return set(self.links)

    def is_online(self, device_id: int) -> bool:
        """Tell whether a device is connected now."""
        return device_id in self.links

    def last_seen(self, device_id: int) -> dt.datetime | None:
        """Return when a device was last heard from, if newer than the database knows."""
        presence = self._presence.get(device_id)
        return presence.last_seen_at if presence is not None else None

    def live_metrics(self, device_id: int) -> dict[str, Any] | None:
        """Return the newest metrics reported by a connected device."""
        presence = self._presence.get(device_id)
        return presence.metrics if presence is not None else None

    async def claim(self, link: AgentLink, *, probe_timeout: float) -> bool:
        """Make ``link`` the device's connection unless a connection that answers has it.

        A device connecting again while its old connection is registered is usually one
        whose old TCP connection died unseen (sleep, a new network): the old one is
        pinged, and replaced if it does not answer within ``probe_timeout``. If it
        answers, the device really is connected twice (a second agent on the machine,
        or a copy of its state elsewhere): the live connection keeps its place — and
        its remote sessions — and the new one is refused (return False).
        """
        while True:
            old = self.links.get(link.device_id)
            if old is None or old is link:
                self.links[link.device_id] = link
                return True
            alive = await old.probe(probe_timeout)
            if self.links.get(link.device_id) is not old:
                continue  # it went, or another connection took the place meanwhile
            if alive:
                log.warning("%s: device %s is already connected (%s from %s); refusing this "
                            "connection from %s", link.conn_id, link.uid, old.conn_id,
                            old.address, link.address)
                return False
            log.info("%s: device %s connected again; %s did not answer, closing it",
                     link.conn_id, link.uid, old.conn_id)
            old.close(p.CLOSE_REPLACED, "replaced: this connection stopped answering")
            self.links[link.device_id] = link
            return True

    def unregister(self, link: AgentLink) -> None:
        """Forget ``link`` if it is still the device's connection."""
        if self.links.get(link.device_id) is link:
            del self.links[link.device_id]
            self._last_sample.pop(link.device_id, None)

    def seen(self, link: AgentLink, *, now: dt.datetime, loop_time: float,
             metrics: dict[str, Any] | None = None) -> None:
        """Record that a device is alive (written in the next batch)."""
        presence = self._presence.get(link.device_id)
        if presence is None:
            self._presence[link.device_id] = Presence(
                last_seen_at=now, address=link.address, metrics=metrics,
                agent_version=link.agent_version)
        else:  # updated in place: one object per device, not one per heartbeat
            presence.last_seen_at, presence.address = now, link.address
            presence.agent_version = link.agent_version
            if metrics is not None:
                presence.metrics = metrics
        self._dirty.add(link.device_id)
        if metrics is not None:
            last = self._last_sample.get(link.device_id)
            if last is None or loop_time - last >= self.sample_interval:
                self._last_sample[link.device_id] = loop_time
                self._samples.append({
                    "device_id": link.device_id, "at": now,
                    "cpu_percent": metrics["cpu_percent"],
                    "memory_percent": metrics["memory_percent"],
                    "disk_percent": metrics["disk_percent"]})

    def revoke(self, device_id: int) -> bool:
        """Disconnect a revoked device now; return whether it was connected."""
        link = self.links.get(device_id)
        if link is None:
            return False
        link.close(p.CLOSE_REVOKED, "device revoked")
        return True

    async def flush(self, *, force: bool = False) -> None:
        """Write pending presence and samples in one transaction.

        A connected device is written when its last write is ``persist_interval`` old; a
        disconnected one at once; everything when ``force`` (shutdown, tests).
        """
        if not self._dirty and not self._samples:
            return
        now = asyncio.get_running_loop().time()
        limit = now - self.persist_interval
        due = {d for d in self._dirty if force or d not in self.links
               or self._persisted.get(d, limit) <= limit}
        updates = {d: self._presence[d] for d in due if d in self._presence}
        samples, self._samples = self._samples, []
        self._dirty -= due
        if not updates and not samples:
            return
        try:
            await self.db.write(lambda c: flush_presence(c, updates, samples))
        except Exception:
            log.exception("presence flush failed; %d devices will be retried", len(updates))
            self._dirty |= set(updates)
            self._samples = samples + self._samples
            return
        for device_id in updates:
            if device_id not in self.links and device_id not in self._dirty:
                # Offline: no live state any more.
                self._presence.pop(device_id, None)
                self._persisted.pop(device_id, None)
            else:
                self._persisted[device_id] = now

    def close_idle(self, loop_time: float) -> int:
        """Close links silent for longer than ``idle_timeout``; return how many.

        One sweep for all links instead of a timer per connection: with thousands of
        agents, a per-receive timeout was thousands of long-lived timer objects.
        """
        limit = loop_time - self.idle_timeout
        idle = [link for link in self.links.values() if link.last_heard < limit]
        for link in idle:
            log.info("%s: no message for %.0f s; closing", link.conn_id,
                     loop_time - link.last_heard)
            link.close(p.CLOSE_GOING_AWAY, "idle")
        return len(idle)

    async def run(self) -> None:
        """Flush presence and close idle links every ``flush_interval`` seconds."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.flush_interval)
            self.close_idle(loop.time())
            await self.flush()

    async def close_all(self) -> None:
        """Close every agent connection with 'going away' (server shutdown)."""
        # aiohttp stops reading from connections before on_shutdown runs, so the agents'
        # answering close frames never arrive: send ours and do not wait for theirs.
        for link in list(self.links.values()):
            link.close(p.CLOSE_GOING_AWAY, "server shutting down", wait=0.05)
        await asyncio.sleep(0)


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the hub's flusher; on shutdown close agents and write the last presence."""
    from server.keys import DATABASE, HUB, METRICS

    hub = app[HUB] = Hub(app[DATABASE])
    app[METRICS].agents_connected.set_function(lambda: len(hub.links))
    task = asyncio.create_task(hub.run(), name="presence-flush")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await hub.flush(force=True)


async def hub_shutdown(app: web.Application) -> None:
    """Close agent connections with 'going away' before the server waits for handlers."""
    from server.keys import HUB

    if HUB in app:
        await app[HUB].close_all()
