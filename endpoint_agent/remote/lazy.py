"""Remote support that loads the session stack only when a session starts.

The capture stack (the controller, numpy, mss, python-xlib, simplejpeg, Tk dialogs)
holds tens of megabytes once imported, and most agents never see a session. The agent
offers remote sessions through :class:`LazyRemote`, which has the controller's interface
and imports it on the first session message. Once loaded it stays for the agent's life
(a second session starts at once); after each session the freed frame buffers go back
to the system (:func:`endpoint_agent.memory.release`).
tests/endpoint_agent/test_agent_footprint.py checks that the idle path imports none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from endpoint_agent import memory

if TYPE_CHECKING:
    from endpoint_agent.i18n import PersonLanguages
    from endpoint_agent.remote.controller import RemoteSupport
    from shared import protocol as p

log = logging.getLogger("deskmate.agent.remote")

Send = Callable[[str | bytes], Awaitable[None]]


class LazyRemote:
    """Stands for :class:`~endpoint_agent.remote.controller.RemoteSupport` until needed."""

    def __init__(self, display: str, **options: Any) -> None:
        self.display = display
        self.options = options
        self.clipboard = bool(options.get("clipboard", True))
        self.backend = str(options.get("backend", "x11"))  # announced before the stack loads
        self.loaded: RemoteSupport | None = None
        self.languages: PersonLanguages | None = None  # handed to the controller (Agent)
        self._send: Send | None = None
        self._trimmer: asyncio.Task[None] | None = None

    def bind(self, send: Send) -> None:
        """Use ``send`` for frames and answers (one connection at a time)."""
        self._send = send
        if self.loaded is not None:
            self.loaded.bind(send)

    def load(self) -> RemoteSupport:
        """Import the session stack and return the controller (once)."""
        if self.loaded is None:
            from endpoint_agent.remote.controller import RemoteSupport

            log.info("loading the remote-session stack")
            self.loaded = RemoteSupport(self.display, languages=self.languages, **self.options)
            if self._send is not None:
                self.loaded.bind(self._send)
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to trim
                self._trimmer = asyncio.get_running_loop().create_task(
                    self._release_after_sessions(self.loaded), name="remote-release")
        return self.loaded

    @staticmethod
    async def _release_after_sessions(remote: RemoteSupport) -> None:
        while True:
            await remote.finished.wait()
            remote.finished.clear()  # the controller clears it too when a session starts
            await asyncio.to_thread(memory.release)

    def on_message(self, message: p.ServerMessage) -> None:
        """Pass a session message on, loading the controller first."""
        self.load().on_message(message)

    async def connection_lost(self) -> None:
        """End a running session (nothing to do before one started)."""
        if self.loaded is not None:
            await self.loaded.connection_lost()

    async def close(self) -> None:
        """Close the controller if it was loaded."""
        if self._trimmer is not None:
            self._trimmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trimmer
        if self.loaded is not None:
            await self.loaded.close()
