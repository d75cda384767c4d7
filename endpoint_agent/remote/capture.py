"""Screen capture and frame encoding on one worker thread (mss, numpy, libjpeg-turbo).

Everything here runs on the capture thread: mss and Xlib connections belong to the
thread that opened them. :meth:`Capturer.step` grabs the chosen monitor, compares it
with the previous grab tile by tile, JPEG-encodes the changed rectangles straight from
the BGRA buffer (never ``shot.rgb``: a 33 ms conversion) and packs the frame(s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import mss
import numpy as np
import numpy.typing as npt
import simplejpeg

from endpoint_agent.remote import pngtile, tiles
from shared import screen

KEY_BAND = 4 * tiles.TILE  # a key frame is cut into bands this high, each encoded apart


@dataclass
class StepResult:
    """What one capture step produced: frames to send (delta first) and what they hold."""

    frames: list[bytes]
    changed: bool
    captured_at: float
    encode_seconds: float


class Capturer:
    """Grabs one monitor of an X display and turns changes into frames."""

    def __init__(self, display: str) -> None:
        self.display = display
        self._mss: Any = None
        self._xlib: Any = None
        self._root: Any = None
        self.monitor = 0
        self._screen: npt.NDArray[np.uint8] | None = None  # the picture viewers have
        self._prev_cursor: tuple[int, int] = (-1, -1)
        # The viewers take PNG tiles (the session's ``lossless``): areas of few colours
        # (text, UI) go as indexed-colour PNG, exact; the rest as JPEG.
        self.lossless = False
        self.png_tiles = self.jpeg_tiles = 0  # rectangles encoded each way so far

    def open(self) -> list[dict[str, int]]:
        """Connect to the display; return its monitors (root-window pixels)."""
        from Xlib import display as xdisplay

        self._mss = mss.MSS(display=self.display)
        self._xlib = xdisplay.Display(self.display)
        self._root = self._xlib.screen().root
        return self.monitors()

    def monitors(self) -> list[dict[str, int]]:
        """Return the monitors mss sees (the combined desktop left out)."""
        found = self._mss.monitors[1:] or self._mss.monitors[:1]
        return [{"x": m["left"], "y": m["top"], "width": m["width"], "height": m["height"]}
                for m in found][:16]

    def close(self) -> None:
        """Release the display connections."""
        if self._mss is not None:
            self._mss.close()
            self._mss = None
        if self._xlib is not None:
            self._xlib.close()
            self._xlib = None

    @property
    def picture(self) -> npt.NDArray[np.uint8] | None:
        """Return the picture the viewers were last sent (BGRA; None before a key frame)."""
        return self._screen

    def forget(self) -> None:
        """Drop the picture: the next step sends a plain key frame."""
        self._screen = None

    def select(self, index: int) -> None:
        """Stream another monitor from the next step (a key frame follows)."""
        if index != self.monitor:
            self.monitor = index
            self._screen = None

    def cursor(self, area: dict[str, int]) -> tuple[int, int]:
        """Return the pointer position relative to the monitor, or (-1, -1) outside it."""
        pointer = self._root.query_pointer()
        x, y = pointer.root_x - area["x"], pointer.root_y - area["y"]
        if 0 <= x < area["width"] and 0 <= y < area["height"]:
            return x, y
        return -1, -1

    def step(self, *, seq: int, quality: int, key: bool, check_pixels: bool = True,
             region: tuple[int, int, int, int] | None = None) -> StepResult:
        """Capture once; return the delta (and a key frame if asked or needed).

        ``region`` (root-window x, y, width, height) limits the grab to what X reported
        as drawn; None grabs the whole monitor.
        """
        monitors = self.monitors()
        area = monitors[min(self.monitor, len(monitors) - 1)]
        cursor = self.cursor(area)
        started = time.perf_counter()
        captured_at = time.time()
        width, height = area["width"], area["height"]
        picture = self._screen
        first = picture is None or picture.shape[:2] != (height, width)
        if not first and not key:
            box = (0, 0, width, height) if region is None else _tile_box(region, area)
            if not check_pixels or box is None:
                return self._cursor_only(seq, captured_at, started, cursor, width, height)
        else:
            box = (0, 0, width, height)
        cur = self.grab(area, box)
        frames: list[bytes] = []
        if first:
            self._screen = picture = cur  # backed by the grab's own bytearray: writable
        else:
            assert picture is not None
            frames += self._delta(picture, cur, box, seq=seq, captured_at=captured_at,
                                  quality=quality, cursor=cursor)
        if first or key:
            assert picture is not None
            full = [self._encode(picture, (0, top, width, min(KEY_BAND, height - top)),
                                 quality) for top in range(0, height, KEY_BAND)] \
                if self.lossless else [self._encode(picture, (0, 0, width, height), quality)]
            frames.append(screen.pack_frame(
                seq=seq, captured_at=captured_at, width=width, height=height, tiles=full,
                key=True, refresh=not first and bool(frames), cursor=cursor))
        self._prev_cursor = cursor
        return StepResult(frames=frames, changed=bool(frames), captured_at=captured_at,
                          encode_seconds=time.perf_counter() - started)

    def grab(self, area: dict[str, int], box: tuple[int, int, int, int],
             ) -> npt.NDArray[np.uint8]:
        """Return the pixels of ``box`` on the monitor ``area`` as a writable BGRA array."""
        x0, y0, x1, y1 = box
        shot = self._mss.grab({"left": area["x"] + x0, "top": area["y"] + y0,
                               "width": x1 - x0, "height": y1 - y0})
        return np.frombuffer(shot.raw, dtype=np.uint8,
                             count=shot.width * shot.height * 4).reshape(shot.height,
                                                                         shot.width, 4)

    def _cursor_only(self, seq: int, captured_at: float, started: float,
                     cursor: tuple[int, int], width: int, height: int) -> StepResult:
        frames = []
        if cursor != self._prev_cursor:
            frames.append(screen.pack_frame(seq=seq, captured_at=captured_at, width=width,
                                            height=height, tiles=[], cursor=cursor))
            self._prev_cursor = cursor
        return StepResult(frames=frames, changed=bool(frames), captured_at=captured_at,
                          encode_seconds=time.perf_counter() - started)

    def _delta(self, picture: npt.NDArray[np.uint8], cur: npt.NDArray[np.uint8],
               box: tuple[int, int, int, int], *, seq: int, captured_at: float,
               quality: int, cursor: tuple[int, int]) -> list[bytes]:
        """Return the delta frame for ``cur`` grabbed at ``box``, updating ``picture``."""
        x0, y0, x1, y1 = box
        height, width = picture.shape[:2]
        prev = picture[y0:y1, x0:x1]  # a view: writing it updates the picture
        prev32 = prev.view(np.uint32).reshape(prev.shape[:2])
        cur32 = cur.view(np.uint32).reshape(cur.shape[:2])
        out: list[screen.Tile] = []
        if prev.shape[0] >= 128:
            scroll = tiles.find_scroll(prev32, cur32)
            if scroll is not None:
                a, b, dy = scroll
                out.append(screen.Tile(x0, y0 + a, x1 - x0, b - a, src=(x0, y0 + a + dy)))
                prev[a:b] = prev[a + dy:b + dy].copy()  # what viewers will have after it
        grid = tiles.changed_tiles(prev32, cur32)
        for rect in tiles.merge(grid, width=x1 - x0, height=y1 - y0):
            exact = tiles.trim(prev32, cur32, rect)
            if exact is None:
                continue
            rx, ry, rw, rh = exact
            tile = self._encode(cur, exact, quality)
            out.append(screen.Tile(x0 + rx, y0 + ry, rw, rh, tile.jpeg))
        prev[:] = cur
        if not out and cursor == self._prev_cursor:
            return []
        return [screen.pack_frame(seq=seq, captured_at=captured_at, width=width,
                                  height=height, tiles=out, cursor=cursor)]

    def _encode(self, bgra: npt.NDArray[np.uint8], rect: tiles.Rect, quality: int,
                ) -> screen.Tile:
        """Encode one rectangle: PNG when lossless tiles are on and it has few colours."""
        x, y, w, h = rect
        if self.lossless:
            found = pngtile.palette(bgra[y:y + h, x:x + w])
            if found is not None:
                self.png_tiles += 1
                return screen.Tile(x, y, w, h, pngtile.encode_png(bgra[y:y + h, x:x + w], found))
        self.jpeg_tiles += 1
        jpeg = simplejpeg.encode_jpeg(bgra[y:y + h, x:x + w], quality=quality,
                                      colorspace="BGRA", colorsubsampling="420",
                                      fastdct=True)
        return screen.Tile(x, y, w, h, jpeg)


class DamageWatcher:
    """Tells when anything on the display was drawn (X DAMAGE), so a still screen costs nothing."""

    def __init__(self, display: str) -> None:
        from Xlib import display as xdisplay
        from Xlib.ext import damage

        self._display = xdisplay.Display(display)
        if not self._display.has_extension("DAMAGE"):
            self._display.close()
            raise RuntimeError("the X server has no DAMAGE extension")
        self._display.damage_query_version()
        root = self._display.screen().root
        self._damage = root.damage_create(damage.DamageReportDeltaRectangles)
        self._notify = self._display.extension_event.DamageNotify
        self._display.flush()

    def wait(self, timeout: float) -> tuple[int, int, int, int] | None:
        """Block up to ``timeout`` s for damage; return the bounding box drawn, or None."""
        import select

        display = self._display
        if not display.pending_events():
            ready, _, _ = select.select([display.fileno()], [], [], timeout)
            if not ready:
                return None
        box: list[int] | None = None
        while display.pending_events():
            event = display.next_event()
            if event.type != self._notify:
                continue
            a = event.area
            if box is None:
                box = [a.x, a.y, a.x + a.width, a.y + a.height]
            else:
                box = [min(box[0], a.x), min(box[1], a.y), max(box[2], a.x + a.width),
                       max(box[3], a.y + a.height)]
        if box is None:
            return None
        display.damage_subtract(self._damage)
        display.flush()
        return box[0], box[1], box[2] - box[0], box[3] - box[1]

    def close(self) -> None:
        """Release the connection."""
        self._display.close()


def _tile_box(region: tuple[int, int, int, int], area: dict[str, int],
              ) -> tuple[int, int, int, int] | None:
    """Return a root-window region as a tile-aligned box on the monitor (None: off it)."""
    t = tiles.TILE
    rx, ry, rw, rh = region
    x0 = max(0, (rx - area["x"]) // t * t)
    y0 = max(0, (ry - area["y"]) // t * t)
    x1 = min(area["width"], -(-(rx + rw - area["x"]) // t) * t)
    y1 = min(area["height"], -(-(ry + rh - area["y"]) // t) * t)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1
