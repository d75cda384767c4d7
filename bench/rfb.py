"""The baseline for bench/stream.py: x11vnc on the same display, read by a small RFB client.

The client does what noVNC does on the wire: RFB 3.8 without a password, a 32-bit
true-colour pixel format, the encodings in the order asked (Tight with JPEG quality 6 and
compression level 2 as noVNC asks, or ZRLE), then a full update request and, after each
update has arrived in full, an incremental one. It parses every rectangle far enough to
know where the next begins (no decoding: the picture is not needed for counting) and
records, per update, the arrival time and the bytes on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

RAW, COPY_RECT, TIGHT, ZRLE = 0, 1, 7, 16
LAST_RECT, DESKTOP_SIZE = -224, -223
JPEG_QUALITY_6, COMPRESS_LEVEL_2 = -26, -254  # noVNC's defaults
ENCODINGS = {
    "tight": [TIGHT, COPY_RECT, JPEG_QUALITY_6, COMPRESS_LEVEL_2, LAST_RECT, DESKTOP_SIZE],
    "zrle": [ZRLE, COPY_RECT, LAST_RECT, DESKTOP_SIZE],
}
# 32 bits a pixel, depth 24, little-endian, true colour, 8 bits a channel (Tight: 3-byte TPIXELs).
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


@dataclass
class Updates:
    """What one client received: (arrival time.perf_counter(), bytes) per update."""

    encoding: str
    updates: list[tuple[float, int]] = field(default_factory=list)
    rects: int = 0


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def x11vnc(display: str) -> AsyncIterator[int]:
    """Run Debian's x11vnc on ``display`` (loopback, no password, defaults otherwise);
    yield its port."""
    port = free_port()
    proc = await asyncio.to_thread(
        subprocess.Popen, ["x11vnc", "-display", display, "-rfbport", str(port), "-localhost",
                           "-nopw", "-shared", "-forever", "-quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    _r, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
        yield port
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Client:
    """One RFB connection that counts the bytes and arrival of every framebuffer update."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 encoding: str) -> None:
        self.reader, self.writer = reader, writer
        self.result = Updates(encoding)
        self.width = self.height = 0
        self._bytes = 0

    @classmethod
    async def connect(cls, port: int, encoding: str) -> Client:
        """Open a session (RFB 3.8, security None, shared) asking for ``encoding``."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer, encoding)
        await client._handshake()
        return client

    async def _read(self, n: int) -> bytes:
        data = await self.reader.readexactly(n)
        self._bytes += n
        return data

    async def _handshake(self) -> None:
        if not (await self._read(12)).startswith(b"RFB "):
            raise RuntimeError("not an RFB server")
        self.writer.write(b"RFB 003.008\n")
        count = (await self._read(1))[0]
        if 1 not in await self._read(count):
            raise RuntimeError("the VNC server wants a password")
        self.writer.write(b"\x01")
        if struct.unpack(">I", await self._read(4))[0] != 0:
            raise RuntimeError("security handshake failed")
        self.writer.write(b"\x01")  # shared
        self.width, self.height = struct.unpack(">HH", await self._read(4))
        await self._read(16)
        (name_length,) = struct.unpack(">I", await self._read(4))
        await self._read(name_length)
        encodings = ENCODINGS[self.result.encoding]
        self.writer.write(b"\x00\x00\x00\x00" + PIXEL_FORMAT)
        self.writer.write(struct.pack(">BxH", 2, len(encodings))
                          + struct.pack(f">{len(encodings)}i", *encodings))
        self._request(incremental=False)
        await self.writer.drain()

    def _request(self, *, incremental: bool) -> None:
        self.writer.write(struct.pack(">BBHHHH", 3, int(incremental), 0, 0, self.width,
                                      self.height))

    async def run(self) -> None:
        """Read updates until cancelled, asking for the next after each (as noVNC does)."""
        while True:
            self._bytes = 0
            kind = (await self._read(1))[0]
            if kind == 0:
                await self._update()
                self.result.updates.append((time.perf_counter(), self._bytes))
                self._request(incremental=True)
                await self.writer.drain()
            elif kind == 2:  # bell
                continue
            elif kind == 3:  # server cut text
                await self._read(3)
                await self._read(struct.unpack(">I", await self._read(4))[0])
            else:
                raise RuntimeError(f"unexpected RFB message {kind}")

    async def _update(self) -> None:
        await self._read(1)
        (count,) = struct.unpack(">H", await self._read(2))
        done = 0
        while count == 0xFFFF or done < count:
            _x, _y, w, h, encoding = struct.unpack(">HHHHi", await self._read(12))
            done += 1
            self.result.rects += 1
            if encoding == LAST_RECT:
                break
            if encoding == DESKTOP_SIZE:
                self.width, self.height = w, h
            elif encoding == RAW:
                await self._read(w * h * 4)
            elif encoding == COPY_RECT:
                await self._read(4)
            elif encoding == ZRLE:
                await self._read(struct.unpack(">I", await self._read(4))[0])
            elif encoding == TIGHT:
                await self._tight(w, h)
            else:
                raise RuntimeError(f"unexpected encoding {encoding}")

    async def _compact(self) -> int:
        value = 0
        for shift in (0, 7, 14):
            byte = (await self._read(1))[0]
            value |= (byte & (0x7F if shift < 14 else 0xFF)) << shift
            if shift < 14 and not byte & 0x80:
                break
        return value

    async def _tight(self, w: int, h: int) -> None:
        control = (await self._read(1))[0] >> 4
        if control == 0x08:  # fill: one 3-byte pixel
            await self._read(3)
            return
        if control == 0x09:  # JPEG
            await self._read(await self._compact())
            return
        if control > 0x09:
            raise RuntimeError("unexpected Tight compression")
        size = w * h * 3
        if control & 0x04:  # explicit filter
            kind = (await self._read(1))[0]
            if kind == 1:  # palette
                colours = (await self._read(1))[0] + 1
                await self._read(colours * 3)
                size = (w + 7) // 8 * h if colours == 2 else w * h
        if size < 12:
            await self._read(size)
        else:
            await self._read(await self._compact())

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def baseline(display: str, env: dict[str, str], seconds: float,
                   ) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Measure x11vnc on the scenes compared (``stream_scenes.SCENES``), Tight then ZRLE.

    Returns {scene: {encoding: (updates/s, bytes per update, bytes/s)}}. Each encoding
    gets its own connection; the first second (the full first update) is not counted.
    """
    from bench.stream_scenes import SCENES, command, environment

    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    async with x11vnc(display) as port:
        for name, kind, compared in SCENES:
            if not compared or kind is None:
                continue
            proc = await asyncio.to_thread(subprocess.Popen, command(kind),
                                           env=environment(env), stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
            try:
                await asyncio.sleep(1.5)  # mapped and drawing
                for encoding in ENCODINGS:
                    client = await Client.connect(port, encoding)
                    task = asyncio.create_task(client.run())
                    await asyncio.sleep(1.0)
                    start = time.perf_counter()
                    await asyncio.sleep(seconds)
                    end = time.perf_counter()
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, asyncio.IncompleteReadError,
                                             ConnectionError):
                        await task
                    await client.close()
                    sizes = [size for at, size in client.result.updates if start <= at < end]
                    results.setdefault(name, {})[encoding] = (
                        len(sizes) / (end - start), sum(sizes) / max(1, len(sizes)),
                        sum(sizes) / (end - start))
            finally:
                proc.kill()
                await asyncio.to_thread(proc.wait)
            await asyncio.sleep(0.5)
    return results
