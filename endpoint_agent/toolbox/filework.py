"""A files session's work on the agent: requests in order, downloads paced by the server.

``file_op`` and ``file_write`` run one after the other on a thread (an upload's chunks
must land in order); each ``file_read`` streams on its own, at most
:data:`shared.toolfiles.WINDOW` chunks past the server's last ``file_ack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from endpoint_agent.toolbox.files import FileError, Jail
from shared import toolbox as tb
from shared import toolfiles as tf

log = logging.getLogger("deskmate.agent.toolbox")

Out = Callable[[tb.ToolMessage], Awaitable[None]]


class _Read:
    def __init__(self) -> None:
        self.acked = 0
        self.moved = asyncio.Event()


class FileWork:
    """Serves the file requests of one files session."""

    def __init__(self, tool: int, jail: Jail, out: Out) -> None:
        self.tool = tool
        self.jail = jail
        self.out = out
        self.queue: asyncio.Queue[tf.FileOp | tf.FileWrite] = asyncio.Queue(maxsize=256)
        self.reads: dict[int, tuple[_Read, asyncio.Task[Any]]] = {}
        self.worker = asyncio.ensure_future(self._work())
        self.refused = 0  # requests refused (for tests and status)
        self._pending: set[asyncio.Future[None]] = set()

    def on_message(self, msg: Any) -> None:
        """Take one file message from the server (never blocks)."""
        if isinstance(msg, (tf.FileOp, tf.FileWrite)):
            try:
                self.queue.put_nowait(msg)
            except asyncio.QueueFull:
                self._later(self._fail(msg.req, FileError("busy", "too many file requests "
                                                          "are waiting on the device")))
        elif isinstance(msg, tf.FileRead):
            if msg.req in self.reads or len(self.reads) >= 8:
                self._later(self._fail(msg.req, FileError("busy", "too many downloads at once")))
                return
            state = _Read()
            state.acked = msg.offset
            task = asyncio.ensure_future(self._read(msg, state))
            self.reads[msg.req] = (state, task)
            task.add_done_callback(lambda _t, req=msg.req: self.reads.pop(req, None))
        elif isinstance(msg, tf.FileAck):
            got = self.reads.get(msg.req)
            if got is not None and msg.offset > got[0].acked:
                got[0].acked = msg.offset
                got[0].moved.set()
        elif isinstance(msg, tf.FileCancel):
            got = self.reads.get(msg.req)
            if got is not None:
                got[1].cancel()

    def _later(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _fail(self, req: int, exc: FileError) -> None:
        self.refused += 1
        log.info("file request %d of tool %d refused: %s (%s)", req, self.tool, exc.code,
                 exc.message)
        await self.out(tf.FileReply(tool=self.tool, req=req, ok=False, code=exc.code,
                                    message=exc.message[:500],
                                    offset=int(exc.extra.get("offset", 0))))

    async def _work(self) -> None:
        while True:
            msg = await self.queue.get()
            try:
                reply = await asyncio.to_thread(self._do, msg)
            except FileError as exc:
                await self._fail(msg.req, exc)
            except Exception as exc:  # a bug must not stop the session
                log.exception("file request %d failed", msg.req)
                await self._fail(msg.req, FileError("io_error", f"the device failed: {exc}"))
            else:
                reply.tool, reply.req = self.tool, msg.req
                await self.out(reply)

    def _do(self, msg: tf.FileOp | tf.FileWrite) -> tf.FileReply:
        jail = self.jail
        if isinstance(msg, tf.FileWrite):
            return jail.write(msg)
        if msg.op == "list":
            return jail.listing(msg.path)
        if msg.op == "stat":
            return jail.stat(msg.path, want_hash=msg.hash)
        if msg.op == "upload_status":
            return tf.FileReply(tool=1, req=1, ok=True,
                                offset=jail.upload_status(msg.path, msg.size, msg.sha256))
        if msg.op == "mkdir":
            return tf.FileReply(tool=1, req=1, ok=True, path=jail.mkdir(msg.path))
        if msg.op == "rename":
            if not msg.to:
                raise FileError("bad_path", "rename needs 'to'")
            _source, target = jail.rename(msg.path, msg.to)
            return tf.FileReply(tool=1, req=1, ok=True, path=target)
        return tf.FileReply(tool=1, req=1, ok=True,
                            path=jail.delete(msg.path, recursive=msg.recursive))

    async def _read(self, msg: tf.FileRead, state: _Read) -> None:
        try:
            fd, size = await asyncio.to_thread(self.jail.open_read, msg.path)
        except FileError as exc:
            await self._fail(msg.req, exc)
            return
        try:
            offset = min(msg.offset, size)
            while True:
                while offset - state.acked >= tf.WINDOW * tf.CHUNK_BYTES:
                    state.moved.clear()
                    await state.moved.wait()
                data = await asyncio.to_thread(os.pread, fd, tf.CHUNK_BYTES, offset)
                eof = len(data) < tf.CHUNK_BYTES
                await self.out(tf.FileData(tool=self.tool, req=msg.req, offset=offset,
                                           data=data, eof=eof))
                offset += len(data)
                if eof:
                    return
        finally:
            os.close(fd)

    async def close(self) -> None:
        """Stop the work: pending requests are dropped (the session is over)."""
        tasks = [self.worker, *(task for _state, task in self.reads.values())]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
