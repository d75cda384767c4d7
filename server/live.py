"""Live updates for the console: a Server-Sent Events feed, authorised per user.

Events name what changed (``{"type": "ticket", "id": 7, "number": "INC-000007",
"change": "updated"}``), never its content: the console fetches the ticket through the
API, which applies the caller's permissions. Each subscriber has a bounded queue; a
subscriber that falls behind is told to resync instead of buffering without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger("deskmate.live")

QUEUE = 100
SHUTDOWN = json.dumps({"type": "shutdown"})
KEEPALIVE = 25.0  # seconds between comment lines, under common proxy idle timeouts


@dataclass(eq=False)
class Subscriber:
    """One open feed."""

    user_id: int
    is_staff: bool
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE))
    overflowed: bool = False

    def offer(self, data: str) -> None:
        """Queue an event; on overflow drop the backlog and ask the client to resync."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(json.dumps({"type": "resync"}))


class Broker:
    """Fan-out of change notices to the subscribers allowed to see them."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        # Called with (ticket_id=, change=, public=) for every ticket change (agents'
        # ticket updates listen here); a listener must not block.
        self.listeners: list[Callable[..., None]] = []

    def publish_ticket(self, *, ticket_id: int, number: str, requester_id: int, change: str,
                       public: bool) -> None:
        """Tell staff, and the requester when the change is public, that a ticket changed."""
        data = json.dumps({"type": "ticket", "id": ticket_id, "number": number,
                           "change": change})
        for sub in self.subscribers:
            if sub.is_staff or (public and sub.user_id == requester_id):
                sub.offer(data)
        for listener in self.listeners:
            try:
                listener(ticket_id=ticket_id, change=change, public=public)
            except Exception:
                log.exception("ticket listener failed")

    def publish_notice(self, *, text: str, level: str, ticket_id: int | None,
                       sla: dict[str, object] | None = None) -> None:
        """Show staff a notification in the console (SLA escalations).

        ``text`` is English; ``sla`` ({number, clock, event, percent}) lets the console
        say it in its own language.
        """
        data = json.dumps({"type": "notice", "level": level, "text": text,
                           "ticket_id": ticket_id, **({"sla": sla} if sla else {})})
        for sub in self.subscribers:
            if sub.is_staff:
                sub.offer(data)

    async def stream(self, request: web.Request, sub: Subscriber) -> web.StreamResponse:
        """Serve one subscriber until the client goes away."""
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        self.subscribers.add(sub)
        try:
            # The client may be gone before the headers go out (a page closed while
            # the server shuts down): that ends the stream, it is not a server error.
            await response.prepare(request)
            await response.write(b"retry: 3000\n\n")
            while True:
                try:
                    data = await asyncio.wait_for(sub.queue.get(), KEEPALIVE)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                await response.write(f"data: {data}\n\n".encode())
                if data == SHUTDOWN:
                    break
                if sub.overflowed and sub.queue.empty():
                    sub.overflowed = False
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.subscribers.discard(sub)
        return response

    def close_all(self) -> None:
        """Wake every stream so shutdown does not wait for keepalives."""
        for sub in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(SHUTDOWN)


def event_payload(data: str) -> dict[str, Any]:
    """Parse an event's JSON (tests and clients)."""
    return dict(json.loads(data))
