"""The endpoint's X11 clipboard during a remote session, through python-xlib.

Two jobs on one thread with its own X connection (python-xlib connections are not
shared between threads):

- **Own** ``CLIPBOARD`` and ``PRIMARY`` with the technician's text and answer other
  clients' ``SelectionRequest`` events for ``TARGETS``, ``UTF8_STRING``, ``TEXT``,
  ``STRING`` (Latin-1) and ``TIMESTAMP`` until another client takes the selection
  (ICCCM section 2, "Peer-to-Peer Communication by Means of Selections").
- **Watch** ``CLIPBOARD`` with XFixes (``SelectSelectionInput``): when another client
  becomes its owner (the user copied something), convert it to ``UTF8_STRING`` (or
  ``STRING``), read the property (``INCR`` transfers included) and pass the text on.

Texts are checked with :func:`shared.clipboard.text_size` (size, UTF-8, no NUL); what
fails is dropped and counted, and only its size is logged, never its content.
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
from dataclasses import dataclass
from typing import Any

from shared import clipboard

log = logging.getLogger("deskmate.agent.clipboard")

CONVERT_TIMEOUT = 3.0  # seconds an owner has to answer (or to send the next INCR chunk)


@dataclass
class _Convert:
    """A conversion of the CLIPBOARD we asked another client for."""

    at: int  # the X timestamp of the request (its SelectionNotify carries it back)
    target: int
    deadline: float
    incr: bytearray | None = None  # set while an INCR transfer runs
    incr_type: int = 0
    too_large: bool = False


class ClipboardBridge:
    """Owns and watches the X clipboard on ``display`` for one remote session."""

    def __init__(self, display: str, *, on_copy: Callable[[str], None]) -> None:
        self.display_name = display
        self._on_copy = on_copy  # called on the bridge's thread
        self._commands: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        # Commands come from the event loop: writing the wake-up byte must never block.
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread: threading.Thread | None = None
        self._d: Any = None
        self._text: str | None = None  # what we serve while we own a selection
        self._next: str | None = None  # waiting for a timestamp to take ownership with
        self._owned: set[int] = set()
        self._owned_at = 0
        self._watching = False
        self._retired = False
        self._stop = False
        self._closed = False
        self._convert: _Convert | None = None
        self._atoms: dict[str, int] = {}
        self._win: Any = None
        self._max_data = 0
        self.can_watch = False  # the X server has XFIXES
        # Counters (tests, logs): foreign owner changes seen, texts passed on, texts
        # refused (too large, not text), selection requests answered with our text.
        self.seen = 0
        self.reported = 0
        self.refused = 0
        self.served = 0
        self.offers = 0

    # --- any thread ---------------------------------------------------------------

    def start(self) -> None:
        """Connect to the display and start the thread (raises if X cannot be reached)."""
        from Xlib import X, Xatom
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.display_name)
        try:
            d.set_error_handler(self._x_error)
            self._atoms = {name: d.intern_atom(name) for name in (
                "CLIPBOARD", "TARGETS", "UTF8_STRING", "TEXT", "TIMESTAMP", "INCR",
                "DESKMATE_CLIPBOARD", "DESKMATE_STAMP")}
            self._atoms["PRIMARY"] = Xatom.PRIMARY
            self._atoms["STRING"] = Xatom.STRING
            root = d.screen().root
            self._win = root.create_window(0, 0, 1, 1, 0, 0, window_class=X.InputOnly,
                                           event_mask=X.PropertyChangeMask)
            self._win.set_wm_name("Deskmate clipboard")
            if d.has_extension("XFIXES"):
                from Xlib.ext import xfixes

                d.xfixes_query_version()
                d.xfixes_select_selection_input(root, self._atoms["CLIPBOARD"],
                                                xfixes.XFixesSetSelectionOwnerNotifyMask)
                self.can_watch = True
            else:
                log.warning("the X server has no XFIXES extension: text copied on the "
                            "endpoint cannot be sent to the technician")
            # One request of ours must carry the largest text (no INCR when serving).
            self._max_data = d.display.info.max_request_length * 4 - 64
            d.flush()
        except Exception:
            d.close()
            raise
        self._d = d
        self._thread = threading.Thread(target=self._run, daemon=True, name="clipboard")
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Tell whether the thread still runs."""
        return self._thread is not None and self._thread.is_alive()

    def offer(self, text: str) -> None:
        """Put ``text`` on the endpoint's CLIPBOARD and PRIMARY (already checked)."""
        self._command("offer", text)

    def watch(self, on: bool) -> None:
        """Report the user's copies (True) or ignore them (False)."""
        self._command("watch", on)

    def retire(self) -> None:
        """Stop watching; keep serving the text until another client takes the selections."""
        self._command("retire", None)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread now (our selections go away with our X connection).

        Call it once, after the last command: the wake-up pipe is closed here, not by
        the thread, so that a command never writes to a file descriptor number that was
        closed and given to another file.
        """
        self._command("stop", None)
        self._closed = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # stuck in X: leave the pipe to the process's end
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _command(self, name: str, value: Any) -> None:
        if self._closed:
            return
        self._commands.put((name, value))
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    # --- the bridge's thread --------------------------------------------------------

    def _run(self) -> None:
        d = self._d
        try:
            while not self._stop:
                self._apply_commands()
                while not self._stop and d.pending_events():
                    self._handle(d.next_event())
                if self._stop or (self._retired and not self._owned and self._next is None):
                    break
                convert = self._convert
                if convert is not None and time.monotonic() > convert.deadline:
                    log.info("clipboard owner did not answer in time; nothing sent")
                    self._convert = None
                d.flush()
                if d.pending_events():
                    continue  # python-xlib reads while it flushes: never sleep on a queue
                # Asleep until X or a command wakes us; a pending conversion has a deadline.
                wait = None if self._convert is None else \
                    max(0.0, self._convert.deadline - time.monotonic())
                ready, _w, _x = select.select([d, self._wake_r], [], [], wait)
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
        except Exception as exc:
            from Xlib.error import ConnectionClosedError

            if isinstance(exc, ConnectionClosedError):
                log.warning("the X display closed the clipboard connection")
            else:
                log.exception("the clipboard thread failed")
        finally:
            self._text = None
            self._owned.clear()
            try:
                d.close()  # the X server gives our selections up with the connection
            except Exception:  # noqa: S110 - the display may already be gone
                pass

    def _apply_commands(self) -> None:
        from Xlib import X

        while True:
            try:
                name, value = self._commands.get_nowait()
            except queue.Empty:
                return
            if name == "offer":
                self.offers += 1
                self._next = value
                self._retired = False
                # ICCCM: own a selection with the time of an event, not CurrentTime; a
                # zero-length append to our own property yields a PropertyNotify with one.
                self._win.change_property(self._atoms["DESKMATE_STAMP"],
                                          self._atoms["STRING"], 8, b"",
                                          mode=X.PropModeAppend)
            elif name == "watch":
                self._watching = bool(value) and self.can_watch
                if not self._watching:
                    self._convert = None
            elif name == "retire":
                self._watching = False
                self._convert = None
                self._retired = True
            elif name == "stop":
                self._stop = True

    def _handle(self, ev: Any) -> None:
        from Xlib import X

        d = self._d
        kind = ev.type
        if kind == X.SelectionRequest:
            self._answer(ev)
        elif kind == X.SelectionClear:
            if ev.window.id == self._win.id:
                self._owned.discard(ev.atom)
                if not self._owned:
                    self._text = None
        elif kind == X.PropertyNotify and ev.window.id == self._win.id:
            if ev.atom == self._atoms["DESKMATE_STAMP"] and ev.state == X.PropertyNewValue:
                self._take_ownership(ev.time)
            elif (ev.atom == self._atoms["DESKMATE_CLIPBOARD"]
                  and ev.state == X.PropertyNewValue and self._convert is not None
                  and self._convert.incr is not None):
                self._incr_chunk(self._convert)
        elif kind == X.SelectionNotify and ev.requestor.id == self._win.id:
            self._converted(ev)
        elif self.can_watch and (kind, getattr(ev, "sub_code", None)) == \
                d.extension_event.SetSelectionOwnerNotify:
            self._owner_changed(ev)

    def _x_error(self, error: Any, request: Any) -> None:
        # Requestors may vanish between their request and our answer (BadWindow).
        log.debug("X error on the clipboard connection: %s", error)

    # owning ----------------------------------------------------------------------------

    def _take_ownership(self, at: int) -> None:
        text, self._next = self._next, None
        if text is None:
            return
        win, d = self._win, self._d
        self._text, self._owned_at = text, at
        self._owned.clear()
        for name in ("CLIPBOARD", "PRIMARY"):
            atom = self._atoms[name]
            win.set_selection_owner(atom, at)
            owner = d.get_selection_owner(atom)
            if getattr(owner, "id", owner) == win.id:
                self._owned.add(atom)
        if not self._owned:
            log.warning("could not take the X clipboard")
            self._text = None
        else:
            log.info("clipboard: serving %d bytes from the technician",
                     len(text.encode("utf-8")))

    def _answer(self, ev: Any) -> None:
        from Xlib import X, Xatom
        from Xlib.protocol import event

        a = self._atoms
        prop = ev.property or ev.target  # ICCCM: obsolete clients send None
        text = self._text
        ok = False
        kind = 0
        if text is not None and ev.selection in self._owned and (
                ev.time == X.CurrentTime or ev.time >= self._owned_at):
            requestor = ev.requestor
            data: bytes | None = None
            if ev.target == a["TARGETS"]:
                requestor.change_property(prop, Xatom.ATOM, 32, [
                    a["TARGETS"], a["TIMESTAMP"], a["UTF8_STRING"], a["TEXT"], a["STRING"]])
                ok = True
            elif ev.target == a["TIMESTAMP"]:
                requestor.change_property(prop, Xatom.INTEGER, 32, [self._owned_at])
                ok = True
            elif ev.target in (a["UTF8_STRING"], a["TEXT"]):
                data, kind = text.encode("utf-8"), a["UTF8_STRING"]
            elif ev.target == a["STRING"]:
                data, kind = text.encode("latin-1", "replace"), a["STRING"]
            if data is not None and len(data) <= self._max_data:
                requestor.change_property(prop, kind, 8, data)
                ok = True
                self.served += 1
        notify = event.SelectionNotify(time=ev.time, requestor=ev.requestor,
                                       selection=ev.selection, target=ev.target,
                                       property=prop if ok else X.NONE)
        ev.requestor.send_event(notify, event_mask=0)
        self._d.flush()

    # watching --------------------------------------------------------------------------

    def _owner_changed(self, ev: Any) -> None:
        if ev.selection != self._atoms["CLIPBOARD"]:
            return
        owner = getattr(ev.owner, "id", ev.owner)
        if owner == self._win.id or not owner:
            return  # our own text, or nobody owns it any more
        self.seen += 1
        if not self._watching:
            return
        self._request(ev.timestamp, self._atoms["UTF8_STRING"])

    def _request(self, at: int, target: int) -> None:
        self._convert = _Convert(at=at, target=target,
                                 deadline=time.monotonic() + CONVERT_TIMEOUT)
        self._win.convert_selection(self._atoms["CLIPBOARD"], target,
                                    self._atoms["DESKMATE_CLIPBOARD"], at)

    def _converted(self, ev: Any) -> None:
        from Xlib import X

        convert = self._convert
        if convert is None or ev.time != convert.at or ev.target != convert.target:
            return  # an answer to a request we gave up on
        a = self._atoms
        if ev.property == X.NONE:
            if convert.target == a["UTF8_STRING"]:
                self._request(convert.at, a["STRING"])  # an older client may offer that
            else:
                self._refuse("the copied data is not text", 0)
            return
        win = self._win
        head = win.get_property(a["DESKMATE_CLIPBOARD"], X.AnyPropertyType, 0, 0)
        if head is None:
            self._refuse("the clipboard owner wrote nothing", 0)
            return
        if head.property_type == a["INCR"]:
            # ICCCM 2.7.2: deleting the property starts the transfer; each chunk is a new
            # value we read and delete; a zero-length chunk ends it.
            convert.incr = bytearray()
            convert.deadline = time.monotonic() + CONVERT_TIMEOUT
            win.delete_property(a["DESKMATE_CLIPBOARD"])
            return
        size = head.bytes_after
        if size > clipboard.MAX_TEXT_BYTES * 4:  # even as four-byte items it cannot fit
            win.delete_property(a["DESKMATE_CLIPBOARD"])
            self._refuse("the copied text is too large", size)
            return
        got = win.get_full_property(a["DESKMATE_CLIPBOARD"], X.AnyPropertyType)
        win.delete_property(a["DESKMATE_CLIPBOARD"])
        if got is None or got.format != 8:
            self._refuse("the copied data is not text", 0)
            return
        self._deliver(bytes(got.value), got.property_type)

    def _incr_chunk(self, convert: _Convert) -> None:
        from Xlib import X

        name = self._atoms["DESKMATE_CLIPBOARD"]
        got = self._win.get_full_property(name, X.AnyPropertyType)
        self._win.delete_property(name)
        assert convert.incr is not None
        convert.deadline = time.monotonic() + CONVERT_TIMEOUT
        if got is None:
            return
        chunk = bytes(got.value) if got.format == 8 else b""
        if not chunk:  # the end
            if convert.too_large:
                self._refuse("the copied text is too large", len(convert.incr))
            else:
                self._deliver(bytes(convert.incr), convert.incr_type)
            return
        convert.incr_type = got.property_type
        if convert.too_large:
            return  # drain the transfer so the owner can finish; keep nothing
        if len(convert.incr) + len(chunk) > clipboard.MAX_TEXT_BYTES:
            convert.too_large = True
            convert.incr.clear()
            return
        convert.incr += chunk

    def _deliver(self, data: bytes, kind: int) -> None:
        self._convert = None
        data = data.rstrip(b"\x00")  # some clients end their text with NUL
        try:
            if kind == self._atoms["STRING"]:
                text = data.decode("latin-1")
            else:
                text = data.decode("utf-8")
        except UnicodeDecodeError:
            self._refuse("the copied text is not valid UTF-8", len(data))
            return
        try:
            size = clipboard.text_size(text)
        except clipboard.ClipboardError as exc:
            self._refuse(exc.code.replace("_", " "), len(data))
            return
        if not self._watching:
            return  # view only since we asked
        self.reported += 1
        log.info("clipboard: %d bytes copied on the endpoint, sending", size)
        self._on_copy(text)

    def _refuse(self, why: str, size: int) -> None:
        self._convert = None
        self.refused += 1
        log.info("clipboard: not sent (%s; %d bytes)", why, size)
