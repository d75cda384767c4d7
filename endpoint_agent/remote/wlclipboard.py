"""The endpoint's clipboard on GNOME/Wayland, through the Mutter RemoteDesktop session.

Mutter's session offers the clipboard as GNOME Remote Desktop uses it
(``org.gnome.Mutter.RemoteDesktop.Session``): ``EnableClipboard``; ``SetSelection`` makes
the session the owner of the desktop's clipboard with a list of MIME types, after which
each paste arrives as a ``SelectionTransfer(mime, serial)`` signal, answered by writing
the text to the pipe ``SelectionWrite(serial)`` returns and ``SelectionWriteDone``;
``SelectionOwnerChanged`` tells when an application copied something, and
``SelectionRead(mime)`` returns a pipe that yields it. Mutter bridges this clipboard to
Xwayland's selections, so X applications take part too.

:class:`MutterClipboard` has the interface of the X11
:class:`~endpoint_agent.remote.clipboard.ClipboardBridge` (start, offer, watch, retire,
close) and the same rules: texts are checked with :func:`shared.clipboard.text_size`,
what fails is dropped and counted, only its size is logged. The calls must come from the
connection that created the session: it shares the input's :class:`~endpoint_agent.
remote.mutter.Router`. The session's text goes away when the session stops (Mutter
drops the session's selection), where on X11 it stays until another client copies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from jeepney import HeaderFields, MatchRule

from endpoint_agent.remote.mutter import RD_NAME, MutterError, MutterSession, add_match, call
from shared import clipboard

log = logging.getLogger("deskmate.agent.clipboard")

SESSION = RD_NAME + ".Session"
# What the session offers when it owns the clipboard, and what it reads, best first.
OFFERED = ("text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT")
READ = ("text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT")
LATIN1 = ("STRING", "TEXT")  # X11's STRING is Latin-1 (ICCCM)
READ_TIMEOUT = 3.0  # seconds an application has to hand its copied text over


class MutterClipboard:
    """Owns and watches the GNOME clipboard through one RemoteDesktop session."""

    def __init__(self, session: MutterSession, *, on_copy: Callable[[str], None]) -> None:
        self.session = session
        self._on_copy = on_copy  # called on the bridge's thread
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=256)  # signals and commands
        self._filters: list[Any] = []
        self._thread: threading.Thread | None = None
        self._text: str | None = None  # what we serve while the session owns the clipboard
        self._watching = False
        self._last_copy: str | None = None  # the last text passed on
        self._closed = False
        self.can_watch = True
        # Counters (tests, logs): foreign owner changes seen, texts passed on, texts
        # refused (too large, not text), pastes answered with our text.
        self.seen = 0
        self.reported = 0
        self.refused = 0
        self.served = 0

    def _call(self, method: str, signature: str | None = None,
              body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        return call(self.session.bus, RD_NAME, self.session.rd_session, SESSION, method,
                    signature, body)

    def start(self) -> None:
        """Enable the session's clipboard and start the thread (MutterError if refused)."""
        bus = self.session.bus
        for member in ("SelectionOwnerChanged", "SelectionTransfer"):
            rule = MatchRule(type="signal", interface=SESSION, member=member,
                             path=self.session.rd_session)
            add_match(bus, rule)
            handle = bus.filter(rule, queue=self._queue)
            handle.__enter__()
            self._filters.append(handle)
        self._call("EnableClipboard", "a{sv}", ({},))
        self._thread = threading.Thread(target=self._run, daemon=True, name="clipboard")
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Tell whether the thread still runs."""
        return self._thread is not None and self._thread.is_alive()

    def offer(self, text: str) -> None:
        """Make ``text`` the desktop's clipboard (already checked)."""
        self._command("offer", text)

    def watch(self, on: bool) -> None:
        """Report the user's copies (True) or ignore them (False)."""
        self._command("watch", on)

    def retire(self) -> None:
        """Stop watching; serve the text while the session lasts."""
        self._command("watch", False)

    def close(self, timeout: float = 2.0) -> None:
        """Disable the session's clipboard and stop the thread."""
        self._command("stop", None)
        self._closed = True
        if self._thread is not None:
            self._thread.join(timeout)
        for handle in self._filters:
            with contextlib.suppress(Exception):
                handle.__exit__(None, None, None)
        self._filters.clear()

    def _command(self, name: str, value: Any) -> None:
        if not self._closed:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait((name, value))

    # --- the bridge's thread --------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if isinstance(item, tuple):
                    name, value = item
                    if name == "stop":
                        break
                    if name == "watch":
                        self._watching = bool(value)
                    elif name == "offer":
                        self._offer(value)
                    continue
                member = item.header.fields.get(HeaderFields.member)
                if member == "SelectionTransfer":
                    self._transfer(str(item.body[0]), int(item.body[1]))
                elif member == "SelectionOwnerChanged":
                    self._owner_changed(dict(item.body[0]))
        except MutterError as exc:  # the session ended under us
            log.debug("clipboard: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                self._call("DisableClipboard")

    def _offer(self, text: str) -> None:
        self._text = self._last_copy = text
        self._call("SetSelection", "a{sv}", ({"mime-types": ("as", list(OFFERED))},))

    def _transfer(self, mime: str, serial: int) -> None:
        """Write our text into the pipe Mutter gives for one paste."""
        text = self._text
        if text is None or mime not in OFFERED:
            self._call("SelectionWriteDone", "ub", (serial, False))
            return
        data = text.encode("latin-1", "replace") if mime in LATIN1 else text.encode()
        ok = False
        try:
            (fd,) = self._call("SelectionWrite", "u", (serial,))
            with fd.to_file("wb") as pipe:
                pipe.write(data)
            ok = True
            self.served += 1
        except (OSError, MutterError) as exc:
            log.info("clipboard: a paste was not served: %s", exc)
        finally:
            with contextlib.suppress(MutterError):
                self._call("SelectionWriteDone", "ub", (serial, ok))

    def _owner_changed(self, options: dict[str, Any]) -> None:
        """Another application copied: read its text and pass it on (when watching)."""
        if options.get("session-is-owner", ("b", False))[1]:
            return  # our own offer
        self._text = None
        self.seen += 1
        log.debug("clipboard: new owner offering %s (watching: %s)", _mime_types(options),
                  self._watching)
        if not self._watching:
            return
        offered = _mime_types(options)
        mime = next((m for m in READ if m in offered), None)
        if mime is None:
            return  # no text (an image, files): nothing to send
        try:
            (fd,) = self._call("SelectionRead", "s", (mime,))
            data = _read_all(fd.to_raw_fd(), clipboard.MAX_TEXT_BYTES)
        except (OSError, MutterError) as exc:
            log.info("clipboard: the copied text could not be read: %s", exc)
            return
        if data is None:
            self._refuse("too large", clipboard.MAX_TEXT_BYTES + 1)
            return
        try:
            text = data.decode("latin-1") if mime in LATIN1 else data.decode()
            clipboard.text_size(text)
        except (UnicodeDecodeError, clipboard.ClipboardError):
            self._refuse("not text", len(data))
            return
        if text == self._last_copy:
            return  # Mutter announces one X application's copy more than once
        self._last_copy = text
        self.reported += 1
        self._on_copy(text)

    def _refuse(self, why: str, size: int) -> None:
        self.refused += 1
        log.info("clipboard: a copied text was not sent (%s, %d bytes)", why, size)


def _mime_types(options: dict[str, Any]) -> list[str]:
    """Return the MIME types of a SelectionOwnerChanged (Mutter 43 sends them as ``(as)``)."""
    signature, value = options.get("mime-types", ("as", []))
    if signature == "(as)":
        value = value[0]
    return [str(m) for m in value]


def _read_all(fd: int, limit: int) -> bytes | None:
    """Read a pipe to its end (None: more than ``limit`` bytes); closes ``fd``."""
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + READ_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise OSError("the application did not hand its text over in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    finally:
        os.close(fd)
