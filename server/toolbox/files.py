"""The server's side of the Files tool: requests to the agent and their answers.

Each request gets an id (``req``) and a bounded queue its answers arrive in
(``file_reply``, or ``file_data`` for a download). When the tool session ends or the
agent goes away, every waiting request fails with ``session_ended``; an agent that does
not answer in :data:`ANSWER_SECONDS` fails it with ``agent_timeout``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from server.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from server.i18n.messages import N_
from shared import protocol as p
from shared import toolfiles as tf

if TYPE_CHECKING:
    from server.toolbox.relay import LiveTool

ANSWER_SECONDS = 60.0  # an agent answers a file request (or sends a chunk) within this
QUEUE = 4 * tf.WINDOW  # answers waiting for one request


class AgentTimeout(ApiError):
    """The device did not answer a file request in time."""

    status = 504
    code = "agent_timeout"


class TooLarge(ApiError):
    """A file over the size limit, or more bytes than announced."""

    status = 413
    code = "file_too_large"


class DeviceFailed(ApiError):
    """The device could not read or write (an I/O error)."""

    status = 502
    code = "io_error"


ERRORS: dict[str, type[ApiError]] = {
    "bad_path": BadRequest, "outside_root": Forbidden, "permission_denied": Forbidden,
    "not_found": NotFound, "exists": Conflict, "not_empty": Conflict, "not_a_folder": Conflict,
    "is_a_folder": Conflict, "offset_mismatch": Conflict, "busy": Conflict,
    "checksum_mismatch": Conflict, "too_large": TooLarge, "io_error": DeviceFailed,
}


class _Ended:
    """Put in a request's queue when its session is over."""


ENDED = _Ended()


def refused(reply: tf.FileReply) -> ApiError:
    """Return the API error for a refused file request (its code is the agent's)."""
    kind = ERRORS.get(reply.code, DeviceFailed)
    return kind(N_("the device refused: {reason}", reason=reply.message or reply.code),
                code=reply.code or "io_error")


@dataclass
class FileRelay:
    """Waiting file requests of every files session, by (tool session id, req)."""

    waiting: dict[tuple[int, int], asyncio.Queue[Any]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def deliver(self, live: LiveTool, msg: tf.FileReply | tf.FileData) -> None:
        """Hand an agent's answer to its request (an answer nobody waits for is dropped)."""
        queue = self.waiting.get((live.id, msg.req))
        if queue is None:
            return  # the request was given up (the downloader left, a timeout)
        try:
            queue.put_nowait(msg)
        except asyncio.QueueFull as exc:
            raise p.ProtocolError(p.INVALID_MESSAGE, f"file request {msg.req}: more "
                                  "answers than asked for") from exc

    def end(self, tool_id: int) -> None:
        """Fail the waiting requests of a session that is over."""
        for (tool, _req), queue in list(self.waiting.items()):
            if tool == tool_id:
                with_room = queue.qsize() < QUEUE
                if not with_room:
                    queue.get_nowait()
                queue.put_nowait(ENDED)

    def _check(self, live: LiveTool) -> None:
        if live.state != "active":
            raise Conflict("the files session is not open", code="session_not_active")

    def _open(self, live: LiveTool) -> tuple[int, asyncio.Queue[Any]]:
        self._check(live)
        req = next(self.ids)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=QUEUE)
        self.waiting[(live.id, req)] = queue
        return req, queue

    async def _next(self, queue: asyncio.Queue[Any]) -> tf.FileReply | tf.FileData:
        try:
            got = await asyncio.wait_for(queue.get(), ANSWER_SECONDS)
        except TimeoutError as exc:
            raise AgentTimeout(N_("the device did not answer in time")) from exc
        if got is ENDED:
            raise Conflict("the files session ended", code="session_ended")
        return got  # type: ignore[no-any-return]

    async def ask(self, live: LiveTool, op: str, path: str, **fields: Any) -> tf.FileReply:
        """Send one file_op and return its successful reply.

        Raises:
            ApiError: the device refused (its code), timed out, or the session ended.
        """
        req, queue = self._open(live)
        try:
            live.link.send(p.encode(tf.FileOp(tool=live.id, req=req, op=op, path=path,  # type: ignore[arg-type]
                                              **fields)))
            reply = await self._next(queue)
            if not isinstance(reply, tf.FileReply):
                raise DeviceFailed(N_("the device answered with file data"))
            if not reply.ok:
                raise refused(reply)
            return reply
        finally:
            self.waiting.pop((live.id, req), None)

    async def read(self, live: LiveTool, path: str, offset: int) -> AsyncIterator[tf.FileData]:
        """Yield a file's chunks from ``offset``, acknowledging each (cancelled on exit)."""
        req, queue = self._open(live)
        done = False
        try:
            live.link.send(p.encode(tf.FileRead(tool=live.id, req=req, path=path,
                                                offset=offset)))
            expected = offset
            while not done:
                got = await self._next(queue)
                if isinstance(got, tf.FileReply):
                    raise refused(got) if not got.ok else DeviceFailed(
                        N_("the device answered a read without data"))
                if got.offset != expected:
                    raise DeviceFailed(N_("the device sent bytes out of order"))
                expected += len(got.data)
                done = got.eof
                yield got
                if not done:
                    live.link.send(p.encode(tf.FileAck(tool=live.id, req=req,
                                                       offset=expected)))
        finally:
            self.waiting.pop((live.id, req), None)
            if not done and live.state == "active":
                live.link.send(p.encode(tf.FileCancel(tool=live.id, req=req)))

    async def write(self, live: LiveTool, chunks: AsyncIterator[bytes], *, path: str,
                    offset: int, size: int, sha256: str, overwrite: bool) -> tf.FileReply:
        """Send an upload's chunks (at most :data:`WINDOW` unanswered); return the last reply.

        The reply says how far the device got (``offset``) and whether the file is in
        place (``done``); a refusal raises at once, and what the device acknowledged stays.
        """
        req, queue = self._open(live)
        sent = answered = 0
        last = tf.FileReply(tool=live.id, req=req, ok=True, offset=offset)
        try:
            async for data in chunks:
                if offset + len(data) > size:
                    raise TooLarge(N_("more bytes than the announced size {size}", size=size))
                while sent - answered >= tf.WINDOW:
                    last = await self._written(queue)
                    answered += 1
                self._check(live)
                live.link.send(p.encode(tf.FileWrite(
                    tool=live.id, req=req, path=path, offset=offset, size=size,
                    sha256=sha256, data=data, overwrite=overwrite)))
                offset += len(data)
                sent += 1
            while answered < sent:
                last = await self._written(queue)
                answered += 1
            return last
        finally:
            self.waiting.pop((live.id, req), None)

    async def _written(self, queue: asyncio.Queue[Any]) -> tf.FileReply:
        reply = await self._next(queue)
        if not isinstance(reply, tf.FileReply):
            raise DeviceFailed(N_("the device answered a write with file data"))
        if not reply.ok:
            raise refused(reply)
        return reply
