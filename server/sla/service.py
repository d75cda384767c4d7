"""Run the SLA engine in the background of the server, with an injectable clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from server.db.schema import utcnow
from server.keys import BROKER, DATABASE, SETTINGS, SLA_ENGINE
from server.sla import engine, retarget
from server.tickets.priority import parse_matrix

log = logging.getLogger("deskmate.sla")


class SlaEngine:
    """Fire due SLA events in passes; ``now`` is injectable so tests never sleep."""

    def __init__(self, app: web.Application, *, now: Callable[[], dt.datetime] = utcnow,
                 batch: int = 500) -> None:
        self.app = app
        self.now = now
        self.batch = batch
        self.wake = asyncio.Event()
        self.retarget_wake = asyncio.Event()
        self.retarget_chunk = retarget.CHUNK

    async def run_pass(self) -> list[engine.Fired]:
        """Fire everything due by ``now()`` (in batches); notify the console; return it."""
        db = self.app[DATABASE]
        matrix = parse_matrix(self.app[SETTINGS].priority_matrix)
        fired: list[engine.Fired] = []
        limit = self.batch
        while True:
            now = self.now()
            batch = await db.write(functools.partial(engine.run_pass, now=now, limit=limit,
                                                     matrix=matrix))
            fired.extend(batch)
            self._publish(batch)
            if len(batch) < self.batch:
                return fired

    async def run_retargets(self) -> int:
        """Re-target the open clocks of edited policies, one chunk per write; return count.

        Each chunk is its own short write transaction; between chunks the writes that
        queued meanwhile (tickets, comments, agents) run first. A restart resumes after
        the last committed chunk.
        """
        db = self.app[DATABASE]
        total = 0
        while True:
            chunk = await db.write(functools.partial(retarget.run_chunk, now=self.now(),
                                                     limit=self.retarget_chunk))
            if chunk is None:
                return total
            total += chunk.retargeted
            if chunk.done:
                log.info("sla policy %d re-targeted", chunk.policy_id)
            if chunk.retargeted:
                self.wake.set()  # due times moved: the engine looks again
            await asyncio.sleep(0)

    async def retarget_forever(self) -> None:
        """Run pending re-targets at start (resuming an interrupted one) and when woken."""
        interval = float(self.app[SETTINGS].sla_engine_seconds)
        while True:
            try:
                await self.run_retargets()
            except Exception:
                log.exception("sla re-target failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.retarget_wake.wait(), interval or None)
            self.retarget_wake.clear()

    def _publish(self, fired: list[engine.Fired]) -> None:
        broker = self.app[BROKER]
        for event in fired:
            broker.publish_ticket(ticket_id=event.ticket_id, number=event.number,
                                  requester_id=event.requester_id, change="sla",
                                  public=False)
            if event.notify:
                broker.publish_notice(
                    text=f"{event.number}: {engine.notice_text(event)}",
                    level="error" if event.event == "breach" else "warning",
                    ticket_id=event.ticket_id,
                    sla={"number": event.number, "clock": event.clock, "event": event.event,
                         "percent": event.percent})

    async def seconds_to_next(self) -> float:
        """Return how long to sleep: until the next event, at most the poll interval."""
        interval = float(self.app[SETTINGS].sla_engine_seconds)
        upcoming = await self.app[DATABASE].read(engine.next_event_at)
        if upcoming is None:
            return interval
        return max(0.5, min(interval, (upcoming - self.now()).total_seconds()))

    async def run_forever(self) -> None:
        """Run passes until cancelled; the first runs at once (missed events fire on start)."""
        while True:
            try:
                fired = await self.run_pass()
                if fired:
                    log.info("sla engine fired %d events", len(fired))
                delay = await self.seconds_to_next()
            except Exception:
                log.exception("sla engine pass failed")
                delay = float(self.app[SETTINGS].sla_engine_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
            self.wake.clear()


async def sla_engine_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the engine with the application and stop it on cleanup."""
    sla = app.get(SLA_ENGINE)
    if sla is None:
        sla = app[SLA_ENGINE] = SlaEngine(app)
    tasks = [asyncio.create_task(sla.retarget_forever(), name="sla-retarget")]
    if app[SETTINGS].sla_engine_seconds > 0:
        tasks.append(asyncio.create_task(sla.run_forever(), name="sla-engine"))
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
