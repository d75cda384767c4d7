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

from endpoint_agent.remote import tiles
from shared import screen


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
        self._prev: npt.NDArray[np.uint32] | None = None
        self._prev_cursor: tuple[int, int] = (-1, -1)

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

    def select(self, index: int) -> None:
        """Stream another monitor from the next step (a key frame follows)."""
        if index != self.monitor:
            self.monitor = index
            self._prev = None

    def cursor(self, area: dict[str, int]) -> tuple[int, int]:
        """Return the pointer position relative to the monitor, or (-1, -1) outside it."""
        pointer = self._root.query_pointer()
        x, y = pointer.root_x - area["x"], pointer.root_y - area["y"]
        if 0 <= x < area["width"] and 0 <= y < area["height"]:
            return x, y
        return -1, -1

    def step(self, *, seq: int, quality: int, key: bool, check_pixels: bool = True,
             ) -> StepResult:
        """Capture once; return the delta (and a key frame if asked or needed)."""
        monitors = self.monitors()
        area = monitors[min(self.monitor, len(monitors) - 1)]
        cursor = self.cursor(area)
        started = time.perf_counter()
        captured_at = time.time()
        if not check_pixels and not key and self._prev is not None:
            # Nothing was drawn: only the pointer may have moved.
            frames = []
            if cursor != self._prev_cursor:
                height, width = self._prev.shape
                frames.append(screen.pack_frame(seq=seq, captured_at=captured_at, width=width,
                                                height=height, tiles=[], cursor=cursor))
                self._prev_cursor = cursor
            return StepResult(frames=frames, changed=bool(frames), captured_at=captured_at,
                              encode_seconds=time.perf_counter() - started)
        shot = self._mss.grab({"left": area["x"], "top": area["y"], "width": area["width"],
                               "height": area["height"]})
        width, height = shot.width, shot.height
        pixels = tiles.as_pixels(shot.raw, width, height)
        bgra = np.frombuffer(shot.raw, dtype=np.uint8,
                             count=width * height * 4).reshape(height, width, 4)
        frames: list[bytes] = []
        prev = self._prev
        first = prev is None or prev.shape != pixels.shape
        if not first:
            assert prev is not None
            rects = tiles.merge(tiles.changed_tiles(prev, pixels), width=width, height=height)
            if rects or cursor != self._prev_cursor:
                frames.append(screen.pack_frame(
                    seq=seq, captured_at=captured_at, width=width, height=height,
                    tiles=[self._encode(bgra, r, quality) for r in rects], cursor=cursor))
        if first or key:
            full = [self._encode(bgra, (0, 0, width, height), quality)]
            frames.append(screen.pack_frame(
                seq=seq, captured_at=captured_at, width=width, height=height, tiles=full,
                key=True, refresh=not first and bool(frames), cursor=cursor))
        self._prev = pixels
        self._prev_cursor = cursor
        return StepResult(frames=frames, changed=bool(frames), captured_at=captured_at,
                          encode_seconds=time.perf_counter() - started)

    @staticmethod
    def _encode(bgra: npt.NDArray[np.uint8], rect: tiles.Rect, quality: int) -> screen.Tile:
        x, y, w, h = rect
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
        self._damage = root.damage_create(damage.DamageReportNonEmpty)
        self._notify = self._display.extension_event.DamageNotify
        self._display.flush()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for damage; True when the screen changed."""
        import select

        display = self._display
        changed = False
        if not display.pending_events():
            ready, _, _ = select.select([display.fileno()], [], [], timeout)
            if not ready:
                return False
        while display.pending_events():
            event = display.next_event()
            if event.type == self._notify:
                changed = True
        if changed:
            display.damage_subtract(self._damage)
            display.flush()
        return changed

    def close(self) -> None:
        """Release the connection."""
        self._display.close()
