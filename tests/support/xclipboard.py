"""A second X client for clipboard tests (python-xlib): read a selection, or own one.

This is what any application on the endpoint does when the user pastes (it converts
the selection and reads the property) or copies (it owns the selection and answers
requests, here also through ICCCM's INCR protocol in small chunks on request).
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Converted:
    """What the selection's owner answered: the property type's name and the data."""

    type: str
    data: bytes
    atoms: list[str]  # for TARGETS: the names of the offered targets


def read_selection(display: str, selection: str = "CLIPBOARD", target: str = "UTF8_STRING",
                   *, wait: float = 5.0) -> Converted | None:
    """Convert ``selection`` to ``target`` and return the answer (None: refused/no owner)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        win = d.screen().root.create_window(0, 0, 1, 1, 0, 0, window_class=X.InputOnly,
                                            event_mask=X.PropertyChangeMask)
        sel, tgt = d.intern_atom(selection), d.intern_atom(target)
        prop = d.intern_atom("TEST_PASTE")
        win.convert_selection(sel, tgt, prop, X.CurrentTime)
        d.flush()
        deadline = time.monotonic() + wait
        while True:
            while d.pending_events():
                ev = d.next_event()
                if ev.type == X.SelectionNotify and ev.requestor.id == win.id:
                    if ev.property == X.NONE:
                        return None
                    got = win.get_full_property(prop, X.AnyPropertyType)
                    if got is None:
                        return None
                    kind = d.get_atom_name(got.property_type)
                    if got.property_type == Xatom.ATOM:
                        return Converted(kind, b"", [d.get_atom_name(a) for a in got.value])
                    return Converted(kind, bytes(got.value), [])
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to a conversion of {selection} to {target}")
            select.select([d], [], [], left)
    finally:
        d.close()


def paste_text(display: str, selection: str = "CLIPBOARD") -> str | None:
    """Return the selection's text as a UTF-8 aware application would paste it."""
    got = read_selection(display, selection)
    return None if got is None else got.data.decode("utf-8")


def owner_of(display: str, selection: str = "CLIPBOARD") -> int:
    """Return the window id owning ``selection`` (0: none)."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        owner = d.get_selection_owner(d.intern_atom(selection))
        return int(getattr(owner, "id", owner))
    finally:
        d.close()


class Copier:
    """An application that copies: owns ``selection`` (CLIPBOARD) with ``data`` and serves
    it on a thread while the context is open.

    ``targets`` are the types it offers (``UTF8_STRING``/``STRING`` get ``data``, any other
    target name is offered but refused, like an image a test does not draw). With
    ``incr_chunk`` it answers through INCR in chunks of that many bytes.
    """

    def __init__(self, display: str, data: bytes, *,
                 targets: tuple[str, ...] = ("UTF8_STRING", "STRING"),
                 incr_chunk: int = 0, selection: str = "CLIPBOARD") -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self.data = data
        self.incr_chunk = incr_chunk
        self.answered = 0
        self._d: Any = xdisplay.Display(display)
        d = self._d
        self._win = d.screen().root.create_window(0, 0, 1, 1, 0, 0, window_class=X.InputOnly,
                                                  event_mask=X.PropertyChangeMask)
        self._sel = d.intern_atom(selection)
        self._targets = [d.intern_atom(t) for t in targets]
        self._text_targets = {d.intern_atom("UTF8_STRING"), d.intern_atom("STRING")}
        self._incr = d.intern_atom("INCR")
        self._pending: list[tuple[Any, int, int, bytes]] = []  # INCR: requestor, prop, type
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True, name="test-copier")

    def __enter__(self) -> Copier:
        # A real timestamp, as ICCCM asks (and as toolkits do).
        from Xlib import X

        d = self._d
        self._win.change_property(d.intern_atom("TEST_STAMP"), d.intern_atom("STRING"), 8,
                                  b"", mode=X.PropModeAppend)
        d.flush()
        while True:
            ev = d.next_event()
            if ev.type == X.PropertyNotify:
                break
        self._win.set_selection_owner(self._sel, ev.time)
        d.flush()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        self._d.close()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _run(self) -> None:
        from Xlib import X, Xatom
        from Xlib.protocol import event

        d = self._d
        while True:
            while d.pending_events():
                ev = d.next_event()
                if ev.type == X.SelectionRequest:
                    prop = ev.property or ev.target
                    ok = True
                    if ev.target == d.intern_atom("TARGETS"):
                        ev.requestor.change_property(prop, Xatom.ATOM, 32, self._targets)
                    elif ev.target in self._text_targets and ev.target in self._targets:
                        if self.incr_chunk:
                            ev.requestor.change_attributes(event_mask=X.PropertyChangeMask)
                            ev.requestor.change_property(prop, self._incr, 32, [len(self.data)])
                            self._pending.append((ev.requestor, prop, ev.target, self.data))
                        else:
                            ev.requestor.change_property(prop, ev.target, 8, self.data)
                    else:
                        ok = False
                    ev.requestor.send_event(event.SelectionNotify(
                        time=ev.time, requestor=ev.requestor, selection=ev.selection,
                        target=ev.target, property=prop if ok else X.NONE), event_mask=0)
                    self.answered += 1
                elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
                    self._next_chunk(ev)
            d.flush()
            if d.pending_events():
                continue  # python-xlib reads while it flushes
            ready, _w, _x = select.select([d, self._stop_r], [], [])
            if self._stop_r in ready:
                return

    def _next_chunk(self, ev: Any) -> None:
        for i, (requestor, prop, kind, rest) in enumerate(self._pending):
            if requestor.id == ev.window.id and prop == ev.atom:
                chunk, rest = rest[:self.incr_chunk], rest[self.incr_chunk:]
                requestor.change_property(prop, kind, 8, chunk)
                if chunk:
                    self._pending[i] = (requestor, prop, kind, rest)
                else:
                    del self._pending[i]  # the zero-length chunk ended the transfer
                return
