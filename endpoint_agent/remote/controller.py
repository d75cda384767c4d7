"""The agent's remote-session controller: consent, indicator, streaming and input.

One session at a time. The server's session messages arrive through
:meth:`RemoteSupport.on_message`; frames and answers leave through the connection's
send function. Latency first: a frame is captured only when the viewers have drawn all
but :data:`WINDOW` of the frames already sent, so frames never queue up anywhere; the
screen is grabbed only when X reports damage (or the pointer moved), so a still screen
costs next to nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from endpoint_agent.i18n import PersonLanguages
from endpoint_agent.remote import ui
from endpoint_agent.remote.refine import Refiner
from shared import clipboard as clip
from shared import protocol as p
from shared import screen

log = logging.getLogger("deskmate.agent.remote")

WINDOW = 2  # frames sent but not yet acknowledged by a viewer
ACK_TIMEOUT = 1.0  # an unacknowledged window is given up after this (viewer gone)
CURSOR_POLL = 0.1  # seconds between pointer checks on a still screen
FALLBACK_POLL = 0.1  # grab interval without the DAMAGE extension
AUTO_QUALITY = (25, 60, 80)  # lowest, starting, highest JPEG quality when adaptive
INPUT_QUEUE = 512

Send = Callable[[str | bytes], Awaitable[None]]


@dataclass(eq=False)
class AgentSession:
    """The agent's state of one session."""

    id: int
    technician: str
    ticket: str
    mode: str
    recorded: bool = False  # the server records the session: the user is told
    # What the first consent dialog showed: a request for control shows it again.
    title: str = ""
    reason: str = ""
    consent_seconds: float = 30.0  # the server's time to answer (remote_consent_seconds)
    active: bool = False
    seq: int = 0
    acked: int = -1
    last_send: float = 0.0
    sent_at: dict[int, float] = field(default_factory=dict)
    dirty: bool = True
    region: tuple[int, int, int, int] | None = None  # drawn since the last grab (root px)
    key_wanted: bool = False
    quality_setting: int = 0
    quality: int = AUTO_QUALITY[1]
    monitor: int = 0
    monitors: list[dict[str, int]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    inputs: asyncio.Queue[screen.InputEvent] = field(
        default_factory=lambda: asyncio.Queue(maxsize=INPUT_QUEUE))
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    indicator: asyncio.subprocess.Process | None = None
    ignored_inputs: int = 0
    injected: int = 0
    clipboard_in: int = 0  # texts from the technician put on the endpoint's clipboard
    clipboard_out: int = 0  # texts the user copied, sent to the technician
    ignored_clipboard: int = 0  # texts from the server refused (view only, invalid)
    frames_sent: int = 0
    bytes_sent: int = 0
    rtts: list[float] = field(default_factory=list)
    refiner: Refiner | None = None  # the server takes lossless (PNG) refinements
    lossless: bool = False  # the server takes PNG tiles: few-colour areas go as PNG

    def poke(self) -> None:
        """Wake the streaming loop."""
        self.wake.set()


class RemoteSupport:
    """Serves remote sessions on one screen (an X display, or GNOME on Wayland)."""

    def __init__(self, display: str, *, python: str = sys.executable, max_fps: float = 60.0,
                 ui_env: dict[str, str] | None = None, clipboard: bool = True,
                 backend: str = "x11", bus_address: str | None = None,
                 refine: bool = True, palette_tiles: bool = True,
                 languages: PersonLanguages | None = None) -> None:
        self.display = display  # the X display: the screen (x11) or the dialogs' (Xwayland)
        self.backend = backend  # one of backends.BACKENDS
        self.bus_address = bus_address  # the session bus (gnome-wayland; None: from env)
        self.python = python
        self.max_fps = max_fps
        self.ui_env = ui_env or {}
        # The languages of the people bound to logins here: the windows speak the one of
        # the person at the desktop (the Agent sets it; None: the desktop's locale).
        self.languages = languages
        self.clipboard = clipboard  # offer clipboard text both ways in control mode
        self.refine = refine  # make resting areas exact (when the server takes PNG tiles)
        self.palette_tiles = palette_tiles  # text and UI as PNG (when the server takes it)
        self._clipboard: Any = None  # the ClipboardBridge of the current (or last) session
        self.session: AgentSession | None = None
        self._send: Send | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._capture_pool = ThreadPoolExecutor(1, thread_name_prefix="capture")
        self._input_pool = ThreadPoolExecutor(1, thread_name_prefix="input")
        self._capturer: Any = None
        self._injector: Any = None
        self._damage: Any = None
        self._damage_thread: threading.Thread | None = None
        self._damage_stop = threading.Event()
        self.history: list[AgentSession] = []  # ended sessions, for tests and status
        self.finished = asyncio.Event()  # set when a session has ended
        self._dialog: asyncio.subprocess.Process | None = None  # a consent dialog on screen

    # --- wiring -------------------------------------------------------------------

    def bind(self, send: Send) -> None:
        """Use ``send`` for frames and answers (one connection at a time)."""
        self._send = send

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    async def _out(self, message: p.Message | bytes) -> None:
        if self._send is None:
            return
        with contextlib.suppress(Exception):  # the connection loop notices a dead socket
            await self._send(message if isinstance(message, bytes) else p.encode(message))

    def on_message(self, message: p.ServerMessage) -> None:
        """Act on one session message from the server (called by the reader, never blocks)."""
        s = self.session
        if isinstance(message, p.SessionRequest):
            self._spawn(self._request(message), f"session-{message.session}")
            return
        if s is None or getattr(message, "session", None) != s.id:
            return  # a message for a session that is already over here
        if isinstance(message, p.SessionEnd):
            self._spawn(self._finish(s, tell=None), f"session-{s.id}-end")
        elif isinstance(message, p.SessionKeyFrame):
            s.key_wanted = True
            s.poke()
        elif isinstance(message, p.FrameAcked):
            self._acked(s, message.seq)
        elif isinstance(message, p.SessionSettings):
            s.quality_setting = message.quality
            if message.quality:
                s.quality = message.quality
            if message.monitor != s.monitor and message.monitor < max(1, len(s.monitors)):
                s.monitor = message.monitor
                s.key_wanted = True
            s.poke()
        elif isinstance(message, p.SessionMode):
            self._spawn(self._mode(s, message), f"session-{s.id}-mode")
        elif isinstance(message, p.SessionInput):
            if s.mode != "control" or not s.active:
                s.ignored_inputs += 1  # view only: input is dropped here too
                return
            try:
                s.inputs.put_nowait(message.event)
            except asyncio.QueueFull:
                s.ignored_inputs += 1
        elif isinstance(message, p.SessionClipboard):
            self._clipboard_in(s, message.text)

    async def connection_lost(self) -> None:
        """The server link broke: a session cannot outlive it."""
        if self.session is not None:
            await self._finish(self.session, tell=None)

    async def close(self) -> None:
        """End any session and stop the worker threads."""
        await self.connection_lost()
        if self._tasks:  # a session may be ending (closing its X connections): let it
            await asyncio.wait(set(self._tasks), timeout=5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        bridge, self._clipboard = self._clipboard, None
        if bridge is not None:
            await asyncio.to_thread(bridge.close)
        self._capture_pool.shutdown(wait=False)
        self._input_pool.shutdown(wait=False)

    # --- consent --------------------------------------------------------------------

    def _ui_command(self, window: str, *, recorded: bool = False, **options: str) -> list[str]:
        command = [self.python, ui.__file__, window]
        for key, value in options.items():
            command += [f"--{key}", value]
        return command + (["--recorded"] if recorded else [])

    def _ui_environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.ui_env)
        env["DISPLAY"] = self.display
        if self.languages is not None:
            env.update(self.languages.environ())
        return env

    async def ask(self, *, kind: str, technician: str, ticket: str, title: str, reason: str,
                  mode: str, seconds: float, recorded: bool = False) -> str:
        """Show the consent dialog; return allow, deny or timeout (errors count as deny)."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._ui_command("consent", technician=technician, ticket=ticket,
                                  title=title, reason=reason, mode=mode, kind=kind,
                                  timeout=str(seconds), recorded=recorded),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self._ui_environ())
        except OSError:
            log.exception("could not show the consent dialog")
            return "error"
        answer = "timeout"
        said = False  # the dialog printed its answer
        self._dialog = proc
        try:
            async with asyncio.timeout(seconds + 5):
                assert proc.stdout is not None
                async for line in proc.stdout:
                    word = line.decode(errors="replace").strip()
                    if word in ("allow", "deny", "timeout"):
                        answer, said = word, True
        except TimeoutError:
            answer = "timeout"
        finally:
            self._dialog = None
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            _out, err = await proc.communicate()
            # An answer the dialog printed stands whatever its exit status says: asyncio
            # reports 255 when something else in the process reaped the child first.
            if proc.returncode not in (0, -9) and not said:
                log.warning("consent dialog failed: %s", err.decode(errors="replace")[-500:])
                answer = "error"
        return answer

    async def _request(self, msg: p.SessionRequest) -> None:
        if self.session is not None:
            await self._out(p.SessionAnswer(session=msg.session, allowed=False, reason="busy"))
            return
        s = AgentSession(id=msg.session, technician=msg.technician, ticket=msg.ticket,
                         mode=msg.mode, recorded=msg.record, title=msg.title,
                         reason=msg.reason, consent_seconds=msg.timeout,
                         refiner=Refiner() if msg.lossless and self.refine else None,
                         lossless=msg.lossless and self.palette_tiles)
        self.session = s
        self.finished.clear()
        try:
            monitors = await self._open()
        except Exception:
            log.exception("cannot open the %s screen for a remote session", self.backend)
            self.session = None
            await self._out(p.SessionAnswer(session=msg.session, allowed=False,
                                            reason="unavailable"))
            return
        s.monitors = monitors
        if msg.consent:
            answer = await self.ask(kind="session", technician=msg.technician,
                                    ticket=msg.ticket, title=msg.title, reason=msg.reason,
                                    mode=msg.mode, seconds=msg.timeout, recorded=msg.record)
        else:
            answer = "unattended"
        if self.session is not s:  # ended while we were asking
            return
        log.info("remote session %d requested by %s: %s", s.id, msg.technician, answer)
        if answer not in ("allow", "unattended"):
            self.session = None
            await self._close_display()
            reason = {"deny": "denied", "timeout": "timeout"}.get(answer, "unavailable")
            await self._out(p.SessionAnswer(session=s.id, allowed=False,
                                            reason=reason))  # type: ignore[arg-type]
            return
        s.active = True
        if self.clipboard:
            await self._open_clipboard(s)
        await self._out(p.SessionAnswer(
            session=s.id, allowed=True, reason="allowed" if answer == "allow" else "unattended",
            monitors=[p.Monitor(**m) for m in monitors]))
        s.tasks = [
            self._spawn(self._indicator(s), f"session-{s.id}-indicator"),
            self._spawn(self._stream(s), f"session-{s.id}-stream"),
            self._spawn(self._inject(s), f"session-{s.id}-input"),
        ]

    async def _mode(self, s: AgentSession, msg: p.SessionMode) -> None:
        if msg.mode == "control" and msg.consent:
            answer = await self.ask(kind="control", technician=s.technician, ticket=s.ticket,
                                    title=s.title, reason=s.reason, mode="control",
                                    seconds=s.consent_seconds, recorded=s.recorded)
            if self.session is not s:
                return
            if answer != "allow":
                reason = {"deny": "denied", "timeout": "timeout"}.get(answer, "unavailable")
                await self._out(p.ModeAnswer(session=s.id, mode="control", allowed=False,
                                             reason=reason))  # type: ignore[arg-type]
                return
            s.mode = "control"
            await self._out(p.ModeAnswer(session=s.id, mode="control", allowed=True,
                                         reason="allowed"))
        else:
            s.mode = msg.mode
        if self._clipboard is not None:
            self._clipboard.watch(s.mode == "control")
        await self._tell_indicator(s, f"mode {s.mode}\n")

    # --- visibility -----------------------------------------------------------------

    async def _indicator(self, s: AgentSession) -> None:
        """Keep the indicator up; the user's End (or its failure) ends the session."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._ui_command("indicator", technician=s.technician, ticket=s.ticket,
                                  mode=s.mode, recorded=s.recorded),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env=self._ui_environ())
        except OSError:
            log.exception("could not show the session indicator")
            await self._finish(s, tell=("agent", "the session indicator could not be shown"))
            return
        s.indicator = proc
        ended_by_user = False
        assert proc.stdout is not None
        async for line in proc.stdout:
            if line.strip() == b"end":
                ended_by_user = True
                break
        if s.active:
            if ended_by_user:
                await self._finish(s, tell=("user", "the user ended the session"))
            else:
                await self._finish(s, tell=("agent", "the session indicator closed"))

    async def _tell_indicator(self, s: AgentSession, line: str) -> None:
        proc = s.indicator
        if proc is not None and proc.stdin is not None and proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                proc.stdin.write(line.encode())
                await proc.stdin.drain()

    # --- streaming ------------------------------------------------------------------

    async def _open(self) -> list[dict[str, int]]:
        loop = asyncio.get_running_loop()
        if self.backend == "gnome-wayland":
            from endpoint_agent.remote.wayland import open_session

            self._injector, self._capturer, self._damage = await loop.run_in_executor(
                self._input_pool, open_session, self.bus_address, self._ui_environ())
            return list(self._capturer.monitors())
        from endpoint_agent.remote.capture import Capturer, DamageWatcher
        from endpoint_agent.remote.inject import Injector

        self._capturer = Capturer(self.display)
        monitors = await loop.run_in_executor(self._capture_pool, self._capturer.open)
        self._injector = await loop.run_in_executor(self._input_pool, Injector, self.display)
        try:
            self._damage = await asyncio.to_thread(DamageWatcher, self.display)
        except Exception as exc:
            log.warning("no X damage reports (%s); polling the screen instead", exc)
            self._damage = None
        return list(monitors)

    async def _close_display(self) -> None:
        loop = asyncio.get_running_loop()
        self._damage_stop.set()
        if self._damage_thread is not None:
            await asyncio.to_thread(self._damage_thread.join, 2)  # it closes the watcher
        elif self._damage is not None:
            await asyncio.to_thread(self._damage.close)
        self._damage_thread = self._damage = None
        if self._capturer is not None:
            await loop.run_in_executor(self._capture_pool, self._capturer.close)
            self._capturer = None
        if self._injector is not None:
            await loop.run_in_executor(self._input_pool, self._injector.close)
            self._injector = None

    def _watch_damage(self, s: AgentSession, loop: asyncio.AbstractEventLoop) -> None:
        """Thread: turn X damage reports into wake-ups of the streaming loop."""
        watcher = self._damage
        try:
            while not self._damage_stop.is_set() and s.active:
                box = watcher.wait(0.25)
                if box is not None:
                    loop.call_soon_threadsafe(_mark_dirty, s, box)
        finally:
            watcher.close()

    def _acked(self, s: AgentSession, seq: int) -> None:
        if seq <= s.acked:
            return
        s.acked = seq
        sent = s.sent_at.pop(seq, None)
        for old in [k for k in s.sent_at if k < seq]:
            del s.sent_at[old]
        if sent is not None:
            rtt = time.monotonic() - sent
            s.rtts.append(rtt)
            del s.rtts[:-1000]
            if not s.quality_setting:
                low, _start, high = AUTO_QUALITY
                if rtt > 0.25:
                    s.quality = max(low, s.quality - 10)
                elif rtt < 0.08:
                    s.quality = min(high, s.quality + 1)
        s.poke()

    async def _stream(self, s: AgentSession) -> None:
        loop = asyncio.get_running_loop()
        self._damage_stop.clear()
        if self._damage is not None:
            self._damage_thread = threading.Thread(
                target=self._watch_damage, args=(s, loop), daemon=True, name="damage")
            self._damage_thread.start()
        interval = 1.0 / self.max_fps
        last = 0.0
        capturer = self._capturer
        shown_monitor = 0
        capturer.lossless = s.lossless
        while s.active:
            now = time.monotonic()
            in_flight = s.seq - 1 - s.acked
            if in_flight >= WINDOW and not s.key_wanted:
                if now - s.last_send < ACK_TIMEOUT:
                    s.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(s.wake.wait(), ACK_TIMEOUT)
                    continue
                s.acked = s.seq - 1  # nobody is drawing: give the window back
            if not (s.dirty or s.key_wanted):
                poll = CURSOR_POLL if self._damage is not None else FALLBACK_POLL
                due = None if s.refiner is None else s.refiner.due_in(now)
                if due is not None and due <= 0:  # nothing fresh to send: refine
                    await self._refine(s, capturer)
                    continue
                if due is not None:
                    poll = min(poll, due)
                s.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(s.wake.wait(), poll)
                if not s.active:
                    break
                if self._damage is None:
                    s.dirty = True
            pause = last + interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            if not s.active:
                break
            key, dirty, region = s.key_wanted, s.dirty, s.region
            s.key_wanted = s.dirty = False
            s.region = None
            if s.monitor != shown_monitor:
                shown_monitor = s.monitor
                await loop.run_in_executor(self._capture_pool, capturer.select, s.monitor)
            last = time.monotonic()
            result = await loop.run_in_executor(
                self._capture_pool, functools.partial(
                    capturer.step, seq=s.seq, quality=s.quality, key=key, check_pixels=dirty,
                    region=region))
            if not result.frames or not s.active:
                continue
            if any(len(data) > screen.MAX_FRAME_BYTES for data in result.frames):
                # The server would close the link over it: start again from a plain key
                # frame at the lowest quality instead.
                log.warning("frame over %d bytes dropped; lowering quality",
                            screen.MAX_FRAME_BYTES)
                s.quality = AUTO_QUALITY[0]
                await loop.run_in_executor(self._capture_pool, capturer.forget)
                s.dirty = True
                continue
            await self._send_frames(s, result.frames)

    async def _send_frames(self, s: AgentSession, frames: list[bytes]) -> None:
        """Send one step's frames (they share a sequence number) and account for them."""
        now = time.monotonic()
        for data in frames:
            await self._out(data)
            s.bytes_sent += len(data)
            if s.refiner is not None:
                s.refiner.note(data, now)
        s.frames_sent += 1
        s.sent_at[s.seq] = time.monotonic()
        s.last_send = s.sent_at[s.seq]
        s.seq = (s.seq + 1) & 0xFFFFFFFF

    async def _refine(self, s: AgentSession, capturer: Any) -> None:
        """Send the rested lossy tiles again as PNG (endpoint_agent/remote/refine.py)."""
        refiner = s.refiner
        assert refiner is not None
        seq = s.seq

        def build() -> bytes | None:  # on the capture thread, which owns the picture
            return refiner.frame(capturer.picture, seq=seq, captured_at=time.time(),
                                 now=time.monotonic())

        frame = await asyncio.get_running_loop().run_in_executor(self._capture_pool, build)
        if frame is not None and s.active:
            await self._send_frames(s, [frame])

    async def _inject(self, s: AgentSession) -> None:
        loop = asyncio.get_running_loop()
        injector = self._injector
        while s.active:
            event = await s.inputs.get()
            if s.mode != "control" or not s.active:
                s.ignored_inputs += 1
                continue
            monitors = s.monitors or [{"x": 0, "y": 0}]
            area = monitors[min(s.monitor, len(monitors) - 1)]
            await loop.run_in_executor(self._input_pool, injector.apply, event,
                                       (area["x"], area["y"]))
            s.injected += 1

    # --- clipboard ------------------------------------------------------------------

    async def _open_clipboard(self, s: AgentSession) -> None:
        """Start the session's clipboard bridge (without it, the session goes on)."""
        from endpoint_agent.remote.clipboard import ClipboardBridge

        old, self._clipboard = self._clipboard, None
        if old is not None:  # still serving an earlier session's text
            await asyncio.to_thread(old.close)
        loop = asyncio.get_running_loop()

        def copied(text: str) -> None:  # on the bridge's thread
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(self._clipboard_out, s, text)

        bridge: Any
        if self.backend == "gnome-wayland":  # through the RemoteDesktop session
            from endpoint_agent.remote.wlclipboard import MutterClipboard

            if self._injector is None:
                return
            bridge = MutterClipboard(self._injector.session, on_copy=copied)
        else:
            bridge = ClipboardBridge(self.display, on_copy=copied)
        try:
            await asyncio.to_thread(bridge.start)
        except Exception as exc:
            log.warning("no clipboard for remote session %d: %s", s.id, exc)
            await asyncio.to_thread(bridge.close)
            return
        self._clipboard = bridge
        if self.session is not s or not s.active:
            bridge.retire()  # the session ended while the bridge started
            return
        bridge.watch(s.mode == "control")

    def _clipboard_in(self, s: AgentSession, text: str) -> None:
        """Put the technician's text on the endpoint's clipboard, in control mode only."""
        bridge = self._clipboard
        if s.mode != "control" or not s.active or bridge is None:
            s.ignored_clipboard += 1  # view only: the clipboard is left alone here too
            return
        try:
            clip.text_size(text)  # checked when decoded; direct callers are checked too
        except clip.ClipboardError:
            s.ignored_clipboard += 1
            return
        bridge.offer(text)
        s.clipboard_in += 1

    def _clipboard_out(self, s: AgentSession, text: str) -> None:
        """Send text the user copied to the technician, if the session still controls."""
        if self.session is not s or not s.active or s.mode != "control":
            return
        s.clipboard_out += 1
        self._spawn(self._out(p.SessionClipboard(session=s.id, text=text)),
                    f"session-{s.id}-clipboard")

    # --- ending ---------------------------------------------------------------------

    async def _finish(self, s: AgentSession, *, tell: tuple[str, str] | None) -> None:
        """End a session once: stop streaming and input, close the indicator."""
        if self.session is not s:
            return
        self.session = None
        s.active = False
        s.poke()
        dialog = self._dialog
        if dialog is not None and dialog.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                dialog.kill()  # the request was withdrawn: take the question off the screen
        current = asyncio.current_task()
        for task in s.tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in s.tasks if t is not current),
                             return_exceptions=True)
        proc = s.indicator
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await self._close_display()
        if self._clipboard is not None:
            # Stop watching; the technician's text stays until the user copies anything.
            self._clipboard.retire()
        self.history.append(s)
        self.finished.set()
        log.info("remote session %d ended (%s); %d frames, %d input events, %d ignored, "
                 "clipboard %d in, %d out", s.id, tell[1] if tell else "by the server",
                 s.frames_sent, s.injected, s.ignored_inputs, s.clipboard_in, s.clipboard_out)
        if tell is not None:
            await self._out(p.SessionEnded(session=s.id, by=tell[0],  # type: ignore[arg-type]
                                           reason=tell[1]))


def _mark_dirty(s: AgentSession, box: tuple[int, int, int, int] | None = None) -> None:
    if box is not None and (s.region is not None or not s.dirty):
        if s.region is None:
            s.region = box
        else:
            x0, y0 = min(s.region[0], box[0]), min(s.region[1], box[1])
            x1 = max(s.region[0] + s.region[2], box[0] + box[2])
            y1 = max(s.region[1] + s.region[3], box[1] + box[3])
            s.region = (x0, y0, x1 - x0, y1 - y0)
    elif box is None:
        s.region = None  # unknown extent: grab everything
    s.dirty = True
    s.poke()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("remote task %s failed", task.get_name(), exc_info=task.exception())
