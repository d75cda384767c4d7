"""Lossless refinement: an exact picture on the viewers once an area rests.

Changes travel as JPEG (fast, small, but lossy). The :class:`Refiner` reads every frame
the agent sends and keeps, per 64x64 tile, when the tile was last sent lossy (or copied
from a lossy area). A tile that has not changed for :data:`DELAY` seconds is sent again
as a PNG from the agent's copy of the screen (the exact pixels the JPEG approximated),
at most :data:`BUDGET` bytes per frame, and only when nothing fresh waits to be sent, so
a refinement never holds back an update. Once refined, a tile costs nothing until it
changes again: a still screen sends nothing. The same frames go to every viewer in step;
a viewer that falls out of step starts again from a (lossy) key frame, which marks the
whole screen lossy again. Pure numpy and zlib; runs on the capture thread.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

from endpoint_agent.remote import tiles
from shared import screen

DELAY = 0.2  # seconds a lossy tile rests before it is refined
BUDGET = 256 * 1024  # PNG bytes per refinement frame (the last rectangle may pass it)
BAND = 4  # refined rectangles are at most this many tile rows high
PNG_LEVEL = 6  # zlib level: text and UI compress well, a 256 KB frame stays ~10 ms

_CHUNK = struct.Struct(">I4s")


class Refiner:
    """What the viewers hold lossy, tile by tile, and the PNG frames that make it exact."""

    def __init__(self, *, delay: float = DELAY, budget: int = BUDGET) -> None:
        self.delay = delay
        self.budget = budget
        self.width = self.height = 0
        # Per tile: when it was last sent lossy (time.monotonic()), 0.0 when exact.
        self._lossy: npt.NDArray[np.float64] = np.zeros((0, 0))
        self._cursor = (-1, -1)
        self.frames = 0  # refinement frames built
        self.bytes = 0  # and their size

    # --- bookkeeping ----------------------------------------------------------------

    def note(self, frame: bytes, now: float) -> None:
        """Account for a frame the agent sent (any kind, refinements included)."""
        header = screen.read_header(frame)
        self._cursor = (header.cursor_x, header.cursor_y)
        if (header.width, header.height) != (self.width, self.height):
            self.width, self.height = header.width, header.height
            t = tiles.TILE
            self._lossy = np.zeros((-(-self.height // t), -(-self.width // t)))
        if header.key:
            # A key frame is all JPEG; with REFRESH only viewers out of step use it, but
            # they then hold a lossy picture the frames that follow must make exact.
            self._lossy[:] = now
            return
        offset = screen.HEADER.size
        for _ in range(header.tiles):
            x, y, w, h, length = screen.TILE.unpack_from(frame, offset)
            offset += screen.TILE.size
            kind = frame[offset:offset + 2]
            if kind == screen.COPY_TAG:
                _tag, sx, sy = screen.COPY.unpack_from(frame, offset)
                if self._cells(sx, sy, w, h).any():
                    self._cells(x, y, w, h)[:] = now
            elif kind == screen.JPEG_SOI:
                self._cells(x, y, w, h)[:] = now
            offset += length

    def _cells(self, x: int, y: int, w: int, h: int) -> npt.NDArray[np.float64]:
        t = tiles.TILE
        return self._lossy[y // t:-(-(y + h) // t), x // t:-(-(x + w) // t)]

    def due_in(self, now: float) -> float | None:
        """Return the seconds until a tile is due for refinement (<= 0: now), None if none."""
        owed = self._lossy[self._lossy > 0]
        if owed.size == 0:
            return None
        return float(owed.min()) + self.delay - now

    @property
    def exact(self) -> bool:
        """Tell whether the viewers in step hold the exact picture."""
        return not bool((self._lossy > 0).any())

    # --- refinement -----------------------------------------------------------------

    def frame(self, picture: npt.NDArray[np.uint8] | None, *, seq: int, captured_at: float,
              now: float) -> bytes | None:
        """Return a delta frame of PNG tiles for the rested lossy tiles (None: nothing due).

        ``picture`` is the agent's copy of the screen (BGRA, what the JPEGs approximated);
        the tiles put in the frame count as exact from here on.
        """
        if picture is None or picture.shape[:2] != (self.height, self.width):
            self._lossy[:] = 0.0  # another monitor: its key frame comes next, marking all
            return None
        due = (self._lossy > 0) & (self._lossy <= now - self.delay)
        if not due.any():
            return None
        t = tiles.TILE
        out: list[screen.Tile] = []
        size = 0
        for rect in _bands(tiles.merge(due, width=self.width, height=self.height)):
            if size >= self.budget:
                break
            x, y, w, h = rect
            data = encode_png(picture[y:y + h, x:x + w])
            out.append(screen.Tile(x, y, w, h, data))
            size += len(data)
            self._lossy[y // t:-(-(y + h) // t), x // t:-(-(x + w) // t)] = 0.0
        frame = screen.pack_frame(seq=seq, captured_at=captured_at, width=self.width,
                                  height=self.height, tiles=out, cursor=self._cursor)
        self.frames += 1
        self.bytes += len(frame)
        return frame


def _bands(rects: list[tiles.Rect]) -> list[tiles.Rect]:
    """Cut tall rectangles into bands of :data:`BAND` tile rows (a budget's granularity)."""
    step = BAND * tiles.TILE
    out = []
    for x, y, w, h in rects:
        for top in range(y, y + h, step):
            out.append((x, top, w, min(step, y + h - top)))
    return out


def encode_png(bgra: npt.NDArray[np.uint8]) -> bytes:
    """Return a PNG of a BGRA area: indexed colour when it has at most 256, else RGB.

    No gamma or colour-profile chunk, so browsers draw the pixels exactly as given.
    """
    height, width = bgra.shape[:2]
    packed = np.ascontiguousarray(bgra).view(np.uint32).reshape(height, width)
    index = _palette_index(packed & np.uint32(0xFFFFFF))  # 0x00RRGGBB
    if index is not None:
        colours, where = index
        palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255],
                           axis=1).astype(np.uint8)
        rows = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0: none
        rows[:, 1:] = where
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
        chunks = [(b"IHDR", ihdr), (b"PLTE", palette.tobytes())]
    else:
        flat = np.ascontiguousarray(bgra[:, :, 2::-1]).reshape(height, width * 3)  # RGB
        rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
        rows[:, 0] = 1  # filter Sub: each byte minus the same channel of the pixel left
        rows[:, 1:4] = flat[:, :3]
        np.subtract(flat[:, 3:], flat[:, :-3], out=rows[:, 4:])
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        chunks = [(b"IHDR", ihdr)]
    chunks.append((b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)))
    chunks.append((b"IEND", b""))
    parts = [screen.PNG_SIGNATURE]
    for tag, body in chunks:
        parts += [_CHUNK.pack(len(body), tag), body,
                  struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)]
    return b"".join(parts)


def _palette_index(packed: npt.NDArray[np.uint32],
                   ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]] | None:
    """Return (colours, index per pixel) when an area has at most 256 colours, else None.

    The colours of every 7th pixel are tried first (a lookup is far cheaper than sorting
    every pixel); only when they miss one is the whole area sorted.
    """
    flat = packed.ravel()
    guess = np.unique(flat[::7])
    if guess.size <= 256:
        where = np.searchsorted(guess, flat)
        np.minimum(where, guess.size - 1, out=where)
        if np.array_equal(guess[where], flat):
            return guess, where.astype(np.uint8).reshape(packed.shape)
    colours, where = np.unique(flat, return_inverse=True)
    if colours.size > 256:
        return None
    return colours, where.astype(np.uint8).reshape(packed.shape)


def decode_png(data: bytes) -> npt.NDArray[np.uint8]:
    """Return the RGB pixels of a PNG :func:`encode_png` wrote (benchmark and tests).

    Raises:
        ValueError: the data is not such a PNG.
    """
    if data[:8] != screen.PNG_SIGNATURE:
        raise ValueError("not a PNG")
    offset, chunks = 8, {}
    while offset < len(data):
        length, tag = _CHUNK.unpack_from(data, offset)
        body = data[offset + 8:offset + 8 + length]
        if struct.unpack_from(">I", data, offset + 8 + length)[0] != zlib.crc32(tag + body):
            raise ValueError(f"bad CRC in the {tag!r} chunk")
        chunks[tag] = body
        offset += 12 + length
    width, height, depth, kind = struct.unpack_from(">IIBB", chunks[b"IHDR"])
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    if depth == 8 and kind == 3:
        rows = raw.reshape(height, width + 1)
        if (rows[:, 0] != 0).any():
            raise ValueError("an indexed PNG row with a filter")
        palette = np.frombuffer(chunks[b"PLTE"], dtype=np.uint8).reshape(-1, 3)
        return palette[rows[:, 1:]]
    rows = raw.reshape(height, width * 3 + 1)
    if depth != 8 or kind != 2 or (rows[:, 0] != 1).any():
        raise ValueError("not an 8-bit RGB PNG with Sub filters")
    deltas = rows[:, 1:].reshape(height, width, 3).astype(np.uint32)
    return (np.cumsum(deltas, axis=1) % 256).astype(np.uint8)
