"""Lossless refinement: an exact picture on the viewers once an area rests.

Changes with many colours travel as JPEG (fast, small, but lossy); text and UI go as
PNG already (:mod:`endpoint_agent.remote.pngtile`). The :class:`Refiner` reads every
frame the agent sends and keeps, per 64x64 tile, when the tile was last sent lossy (or
copied from a lossy area); a PNG tile makes the tiles it covers whole exact. A tile that
has not changed for :data:`DELAY` seconds is sent again as a PNG from the agent's copy
of the screen (the exact pixels the JPEG approximated), at most :data:`BUDGET` bytes per
frame, and only when nothing fresh waits to be sent, so a refinement never holds back an
update. Once refined, a tile costs nothing until it changes again: a still screen sends
nothing. The same frames go to every viewer in step; a viewer that falls out of step
starts again from a key frame, which marks the whole screen lossy again (but for its PNG
tiles). Pure numpy and zlib; runs on the capture thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from endpoint_agent.remote import tiles
from endpoint_agent.remote.pngtile import decode_png, encode_png
from shared import screen

DELAY = 0.2  # seconds a lossy tile rests before it is refined
BUDGET = 256 * 1024  # PNG bytes per refinement frame (the last rectangle may pass it)
BAND = 4  # refined rectangles are at most this many tile rows high

__all__ = ["Refiner", "decode_png", "encode_png"]


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
            # A key frame's JPEG tiles are lossy; with REFRESH only viewers out of step use
            # it, but they then hold a lossy picture the frames that follow must make exact.
            self._lossy[:] = now
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
            else:  # a PNG tile (text, UI): exact, but only the cells it covers whole
                self._covered(x, y, w, h)[:] = 0.0
            offset += length

    def _cells(self, x: int, y: int, w: int, h: int) -> npt.NDArray[np.float64]:
        t = tiles.TILE
        return self._lossy[y // t:-(-(y + h) // t), x // t:-(-(x + w) // t)]

    def _covered(self, x: int, y: int, w: int, h: int) -> npt.NDArray[np.float64]:
        """Return the cells a rectangle covers whole (a cell cut by the screen's edge ends
        there)."""
        t = tiles.TILE
        right = self.width if x + w >= self.width else x + w
        bottom = self.height if y + h >= self.height else y + h
        return self._lossy[-(-y // t):(-(-bottom // t) if bottom == self.height else bottom // t),
                           -(-x // t):(-(-right // t) if right == self.width else right // t)]

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
