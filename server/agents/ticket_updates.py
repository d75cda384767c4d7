"""Tell connected agents about public changes to tickets raised from their device.

The notifier listens to the live feed's broker (every ticket change already goes through
it), looks the change up off the event loop, and sends ``ticket_update`` to the device's
link if it announced the ``ticket_updates`` capability. A device that is offline misses
the update: the tray's *My tickets* asks for live statuses when it opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.agents.hub import Hub
from server.db.database import Database
from server.keys import BROKER, DATABASE, HUB, TICKET_NOTIFIER
from server.tickets import device_updates
from shared import protocol as p

log = logging.getLogger("deskmate.agents")

CHANGES = frozenset({"commented", "updated"})
REMEMBERED = 10_000  # (ticket, event) pairs already sent, against a repeated publish


@dataclass
class NotifierStats:
    """What the notifier did; for tests and logs."""

    sent: int = 0
    not_capable: int = 0  # the device's agent did not announce the capability
    offline: int = 0


class TicketNotifier:
    """Turns the broker's public ticket changes into ``ticket_update`` messages."""

    def __init__(self, db: Database, hub: Hub) -> None:
        self.db = db
        self.hub = hub
        self.stats = NotifierStats()
        self._sent: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_ticket(self, *, ticket_id: int, change: str, public: bool) -> None:
        """Broker listener: look a public reply or resolution up in the background."""
        if not public or change not in CHANGES:
            return  # internal notes and the desk's own field changes are never sent
        task = asyncio.get_running_loop().create_task(self._deliver(ticket_id, change))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, ticket_id: int, change: str) -> None:
        try:
            found = await self.db.read(
                lambda c: device_updates.update_for(c, ticket_id, change))
        except Exception:
            log.exception("could not look up ticket %d for its device", ticket_id)
            return
        if found is None:
            return
        device_ids, message = found
        key = (ticket_id, message.event_id)
        if key in self._sent:
            return
        self._sent[key] = None
        while len(self._sent) > REMEMBERED:
            self._sent.popitem(last=False)
        frame = p.encode(message)
        for device_id in device_ids:
            link = self.hub.links.get(device_id)
            if link is None:
                self.stats.offline += 1
            elif p.TICKET_UPDATES_CAPABILITY not in link.capabilities:
                self.stats.not_capable += 1
            elif link.send(frame):
                self.stats.sent += 1
                log.info("%s: told device %s of %s on %s", link.conn_id, link.uid,
                         message.change, message.number)

    async def close(self) -> None:
        """Cancel lookups in flight."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
    """Listen to ticket changes while the server runs (after the hub is up)."""
    notifier = app[TICKET_NOTIFIER] = TicketNotifier(app[DATABASE], app[HUB])
    app[BROKER].listeners.append(notifier.on_ticket)
    yield
    with contextlib.suppress(ValueError):
        app[BROKER].listeners.remove(notifier.on_ticket)
    await notifier.close()
