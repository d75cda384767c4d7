"""Capture and input on GNOME/Wayland: Mutter's ScreenCast stream and RemoteDesktop session.

The same roles as the X11 modules, with the same interfaces, so the controller cannot tell
them apart: :class:`WaylandInjector` (input, on the input thread) owns the
:class:`~endpoint_agent.remote.mutter.MutterSession`; :class:`WaylandCapturer` (capture
thread) reads the session's PipeWire stream; :class:`FrameWatcher` is its damage watcher.

Frames are read from PipeWire by GStreamer's ``pipewiresrc`` in a ``gst-launch-1.0`` child
writing raw BGRx frames to a pipe. A child process, not PyGObject in the agent: the agent
runs in its own virtual environment (any Python), where the system's ``gi`` bindings cannot
be imported, and a child that exits with the session holds no memory afterwards. Mutter
sends a buffer only when the monitor was redrawn (or the pointer moved), so a frame arriving
is the damage report: a still screen costs nothing, like X DAMAGE on X11. The cursor is drawn
into the frames by the compositor (``cursor-mode`` embedded): the cursor metadata PipeWire
offers does not pass through ``gst-launch``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from endpoint_agent.remote.capture import Capturer
from endpoint_agent.remote.inject import SHIFT_L, keysym_for
from endpoint_agent.remote.mutter import CURSOR_EMBEDDED, MutterError, MutterSession, monitors
from shared import screen

FIRST_FRAME_TIMEOUT = 30.0  # gst-launch builds its plugin registry on its very first run


def gst_command(node_id: int) -> list[str]:
    """Return the gst-launch-1.0 pipeline writing the stream's raw BGRx frames to stdout."""
    exe = shutil.which("gst-launch-1.0")
    if exe is None:
        raise MutterError("gst-launch-1.0 is not installed (gstreamer1.0-tools)")
    return [exe, "-q", "pipewiresrc", f"path={node_id}", "always-copy=true", "!",
            "videoconvert", "!", "video/x-raw,format=BGRx", "!", "fdsink", "fd=1", "sync=false"]


class WaylandInjector:
    """Replays a controlling technician's input through a Mutter RemoteDesktop session."""

    def __init__(self, address: str | None = None) -> None:
        self.session = MutterSession(address)
        self.monitor: dict[str, int] = {}
        self.injected = 0

    def open(self) -> dict[str, int]:
        """Start the session on the primary monitor; return it (layout pixels)."""
        from endpoint_agent.remote.mutter import connect

        conn = connect(self.session.address)
        try:
            found = monitors(conn)
        finally:
            conn.close()
        if not found:
            raise MutterError("the desktop has no monitor")
        primary = found[0]
        self.session.open(primary.connector, cursor=CURSOR_EMBEDDED)
        # Mutter makes the session's virtual keyboard on its first key, and the focused
        # application misses the keys that arrive before it has the keyboard's map: a
        # modifier tap now makes the first typed characters arrive.
        self.session.key(SHIFT_L, True)
        self.session.key(SHIFT_L, False)
        width, height = self.session.size if self.session.size[0] else (primary.width,
                                                                         primary.height)
        self.monitor = {"x": primary.x, "y": primary.y, "width": width, "height": height}
        return self.monitor

    def close(self) -> None:
        """Release held buttons and stop the session (its stream ends with it)."""
        self.session.close()

    def apply(self, event: screen.InputEvent, origin: tuple[int, int]) -> None:
        """Inject one event; coordinates are relative to the streamed monitor."""
        session = self.session
        if isinstance(event, (screen.PointerEvent, screen.WheelEvent)):
            # Relative to the stream: origin not needed. Before a button, wait for it.
            session.motion(event.x, event.y, wait=isinstance(event, screen.WheelEvent)
                           or event.buttons != session.held)
        if isinstance(event, screen.PointerEvent):
            session.buttons(event.buttons)
        elif isinstance(event, screen.WheelEvent):
            session.wheel(event.dx, event.dy)
        elif isinstance(event, screen.KeyEvent):
            session.key(event.keysym, event.down)
        elif isinstance(event, screen.TextEvent):
            for char in event.text:
                keysym = keysym_for(char)
                session.key(keysym, True)
                session.key(keysym, False)
        self.injected += 1


class WaylandCapturer(Capturer):
    """Turns the frames of a ScreenCast stream into frames, exactly as the X11 capturer."""

    def __init__(self, node_id: int, monitor: dict[str, int],
                 env: dict[str, str] | None = None) -> None:
        super().__init__(display="")
        self.node_id = node_id
        self.env = env  # the desktop session's environment (XDG_RUNTIME_DIR: PipeWire)
        self._monitor = dict(monitor)
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: Any = None  # gst-launch's stderr
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._latest: bytearray | None = None
        self.fresh = threading.Event()  # a frame arrived since the last grab
        self.ended = threading.Event()
        self.frames_read = 0

    def open(self) -> list[dict[str, int]]:
        """Start reading the stream; return its monitor once the first frame is in."""
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(gst_command(self.node_id),  # noqa: S603 - our own argv
                                      stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=self._errors,
                                      env=self.env)
        self._reader = threading.Thread(target=self._read, daemon=True, name="pipewire")
        self._reader.start()
        if not self.fresh.wait(FIRST_FRAME_TIMEOUT) or self.frames_read == 0:
            self._errors.seek(0)
            said = self._errors.read(2000).decode(errors="replace").strip()
            self.close()
            raise MutterError(f"no frame from the PipeWire stream: {said or 'no output'}")
        return self.monitors()

    def monitors(self) -> list[dict[str, int]]:
        """Return the streamed monitor (one stream, one monitor)."""
        return [dict(self._monitor)]

    def _read(self) -> None:
        """Thread: read whole frames from the pipe; keep the newest."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        size = self._monitor["width"] * self._monitor["height"] * 4
        try:
            while True:
                buf = bytearray(size)
                view = memoryview(buf)
                got = 0
                while got < size:
                    n = os.readv(fd, [view[got:]])
                    if n == 0:
                        return
                    got += n
                with self._lock:
                    self._latest = buf
                self.frames_read += 1
                self.fresh.set()
        except OSError:
            return
        finally:
            self.ended.set()
            self.fresh.set()  # wake a watcher: the stream is over

    def close(self) -> None:
        """Stop the GStreamer child."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if self._reader is not None:
            self._reader.join(2)
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def cursor(self, area: dict[str, int]) -> tuple[int, int]:
        """The compositor draws the cursor into the frames: no separate position."""
        return -1, -1

    def grab(self, area: dict[str, int], box: tuple[int, int, int, int],
             ) -> npt.NDArray[np.uint8]:
        """Return ``box`` of the newest frame as a writable BGRA array."""
        self.fresh.clear()  # before reading: a frame arriving now wakes the watcher again
        with self._lock:
            latest = self._latest
        x0, y0, x1, y1 = box
        width, height = self._monitor["width"], self._monitor["height"]
        if latest is None:
            whole = np.zeros((height, width, 4), dtype=np.uint8)
        else:
            whole = np.frombuffer(latest, dtype=np.uint8).reshape(height, width, 4)
        return np.array(whole[y0:y1, x0:x1], copy=True)


class FrameWatcher:
    """The damage watcher of a Wayland stream: a new frame means something was drawn."""

    def __init__(self, capturer: WaylandCapturer) -> None:
        self._capturer = capturer

    def wait(self, timeout: float) -> tuple[int, int, int, int] | None:
        """Block up to ``timeout`` s for a frame; return the monitor's box, or None."""
        capturer = self._capturer
        if not capturer.fresh.wait(timeout) or capturer.ended.is_set():
            return None
        capturer.fresh.clear()
        m = capturer.monitors()[0]
        return m["x"], m["y"], m["width"], m["height"]

    def close(self) -> None:
        """Nothing to release: the capturer owns the stream."""


def open_session(address: str | None = None, env: dict[str, str] | None = None,
                 ) -> tuple[Any, Any, Any]:
    """Open injector, capturer and watcher for one session (blocking; any thread)."""
    injector = WaylandInjector(address)
    monitor = injector.open()
    capturer = WaylandCapturer(injector.session.node_id, monitor, env)
    try:
        capturer.open()
    except Exception:
        injector.close()
        raise
    return injector, capturer, FrameWatcher(capturer)
