"""Close connections that do not send a complete request head in time (slowloris).

aiohttp waits for a request's line and headers as long as the client keeps the
connection open, so a client that sends one header line every few seconds holds a
connection (and its buffers) for as long as it likes; a few hundred such clients hold
them all. :class:`AppRunner` serves the app with connections that must complete each
request head within ``request_head_timeout`` seconds of its first byte (of the connection
opening, for the first request); a connection that does not is closed and counted in
``deskmate_http_slow_heads_total``. Idle keep-alive connections (no byte of a next
request yet) stay governed by aiohttp's keep-alive timeout; request bodies, streams and
WebSockets are not timed here.

aiohttp has no hook for this, so the handler subclass below reads two of its protocol's
attributes (``_request_count``, ``_messages``); tests/server/test_slow_clients.py fails
if an aiohttp upgrade changes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from server.keys import METRICS, SETTINGS

log = logging.getLogger("deskmate.http")


class _HeadTimeoutHandler(RequestHandler):
    """aiohttp's connection handler with a deadline for each request head."""

    __slots__ = ("_head_count", "_head_timeout", "_head_timer", "_on_slow")

    def __init__(self, manager: web.Server, *, head_timeout: float,
                 on_slow: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._head_timeout = head_timeout
        self._on_slow = on_slow
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        # The first byte of a request head arrives while no request is queued or running.
        idle = (not self._messages and self._current_request is None
                and not self._upgraded and self._payload_parser is None)
        if data and idle and self._head_timer is None:
            self._arm()
        before = self._request_count
        super().data_received(data)
        if self._request_count != before:  # a head was parsed (or refused as malformed)
            self._disarm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timeout > 0 and self._head_timer is None:
            self._head_count = self._request_count
            self._head_timer = self._loop.call_later(self._head_timeout, self._expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        self._head_timer = None
        if self._request_count != self._head_count or self.transport is None:
            return
        peer = self.transport.get_extra_info("peername")
        log.info("closing a connection from %s: no complete request head within %g s",
                 peer[0] if isinstance(peer, tuple) else peer, self._head_timeout)
        self._on_slow()
        self.force_close()


class _Server(web.Server):
    """aiohttp's server, making :class:`_HeadTimeoutHandler` connections."""

    def __init__(self, base: web.Server, *, head_timeout: float,
                 on_slow: Callable[[], None]) -> None:
        super().__init__(base.request_handler, request_factory=base.request_factory,
                         handler_cancellation=base.handler_cancellation, loop=base._loop,
                         **base._kwargs)
        self._head_timeout = head_timeout
        self._on_slow = on_slow

    def __call__(self) -> RequestHandler:
        return _HeadTimeoutHandler(self, loop=self._loop, head_timeout=self._head_timeout,
                                   on_slow=self._on_slow, **self._kwargs)


class AppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections must send request heads in time (see above)."""

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        app = self.app
        counter = app[METRICS].slow_heads
        return _Server(base, head_timeout=float(app[SETTINGS].request_head_timeout),
                       on_slow=counter.inc)
