"""Who is connected: one live connection per device, presence batched to the database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.db.database import Database
from server.devices.store import Presence, flush_presence
from shared import protocol as p

log = logging.getLogger("deskmate.agents")

OUTGOING_QUEUE = 64  # messages waiting for one agent before it is dropped as too slow


@dataclass(eq=False)
class AgentLink:
    """One authenticated agent connection, with its own bounded outgoing queue."""

    device_id: int
    uid: str
    ws: web.WebSocketResponse
    address: str
    conn_id: str
    agent_version: str
    capabilities: frozenset[str] = frozenset()
    outgoing: asyncio.Queue[str] = field(
        default_factory=lambda: asyncio.Queue(maxsize=OUTGOING_QUEUE))
    closing: bool = False
    close_code: int = 1000
    close_reason: str = ""
    close_wait: float = 2.0  # how long to wait for the agent's close frame

    def send(self, text: str) -> bool:
        """Queue a text frame; drop the connection when the queue is full."""
        if self.closing:
            return False
        try:
            self.outgoing.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("%s: agent %s too slow (%d queued); disconnecting",
                        self.conn_id, self.uid, self.outgoing.qsize())
            self.close(1008, "too slow")
            return False
        return True

    def close(self, code: int, reason: str, *, wait: float = 2.0) -> None:
        """Ask the writer to close the connection with ``code`` after queued frames."""
        if self.closing:
            return
        self.closing = True
        self.close_code, self.close_reason, self.close_wait = code, reason, wait
        with contextlib.suppress(asyncio.QueueFull):
            self.outgoing.put_nowait("")  # wakes the writer; "" means close
        if self.outgoing.full():
            # The writer is stuck behind a full queue: close from here.
            asyncio.get_running_loop().create_task(
                self.ws.close(code=code, message=reason.encode()))

    async def writer(self) -> None:
        """Send queued frames in order until closed."""
        while True:
            text = await self.outgoing.get()
            if text == "" and self.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.ws.close(code=self.close_code,
                                      message=self.close_reason.encode()),
                        self.close_wait)
                return
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                return


class Hub:
    """The registry of connected agents and their presence."""

    def __init__(self, db: Database, *, flush_interval: float = 5.0,
                 sample_interval: float = 60.0) -> None:
        self.db = db
        self.flush_interval = flush_interval
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

    def register(self, link: AgentLink) -> None:
        """Make ``link`` the device's connection, closing any older one."""
        old = self.links.get(link.device_id)
        if old is not None:
            log.info("%s: device %s connected again; closing %s", link.conn_id, link.uid,
                     old.conn_id)
            old.close(p.CLOSE_REPLACED, "replaced by a newer connection")
        self.links[link.device_id] = link

    def unregister(self, link: AgentLink) -> None:
        """Forget ``link`` if it is still the device's connection."""
        if self.links.get(link.device_id) is link:
            del self.links[link.device_id]
            self._last_sample.pop(link.device_id, None)

    def seen(self, link: AgentLink, *, now: dt.datetime, loop_time: float,
             metrics: dict[str, Any] | None = None) -> None:
        """Record that a device is alive (written in the next batch)."""
        previous = self._presence.get(link.device_id)
        if metrics is None and previous is not None:
            metrics = previous.metrics
        self._presence[link.device_id] = Presence(
            last_seen_at=now, address=link.address, metrics=metrics,
            agent_version=link.agent_version)
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

    async def flush(self) -> None:
        """Write pending presence and samples in one transaction."""
        if not self._dirty and not self._samples:
            return
        updates = {d: self._presence[d] for d in self._dirty if d in self._presence}
        samples, self._samples = self._samples, []
        self._dirty = set()
        try:
            await self.db.write(lambda c: flush_presence(c, updates, samples))
        except Exception:
            log.exception("presence flush failed; %d devices will be retried", len(updates))
            self._dirty |= set(updates)
            self._samples = samples + self._samples
            return
        for device_id in updates:  # offline devices need no live state any more
            if device_id not in self.links and device_id not in self._dirty:
                self._presence.pop(device_id, None)

    async def run(self) -> None:
        """Flush presence every ``flush_interval`` seconds."""
        while True:
            await asyncio.sleep(self.flush_interval)
            await self.flush()

    async def close_all(self) -> None:
        """Close every agent connection with 'going away' (server shutdown)."""
        # aiohttp stops reading from connections before on_shutdown runs, so the agents'
        # answering close frames never arrive: send ours and do not wait for theirs.
        for link in list(self.links.values()):
            link.close(1001, "server shutting down", wait=0.05)
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
    await hub.flush()


async def hub_shutdown(app: web.Application) -> None:
    """Close agent connections with 'going away' before the server waits for handlers."""
    from server.keys import HUB

    if HUB in app:
        await app[HUB].close_all()
