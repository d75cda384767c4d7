"""Input injection through the X11 XTEST extension (python-xlib), on its own thread."""

from __future__ import annotations

from typing import Any

from shared import screen

# DOM MouseEvent.buttons bit -> X button number.
BUTTONS = ((1, 1), (2, 3), (4, 2), (8, 8), (16, 9))
WHEEL_UP, WHEEL_DOWN, WHEEL_LEFT, WHEEL_RIGHT = 4, 5, 6, 7
SHIFT_L = 0xFFE1


def keysym_for(char: str) -> int:
    """Return the X keysym of one character (Latin-1 directly, others as Unicode keysyms)."""
    code = ord(char)
    if char == "\n":
        return 0xFF0D  # Return
    if char == "\t":
        return 0xFF09  # Tab
    return code if 0x20 <= code <= 0xFF else 0x01000000 + code


class Injector:
    """Replays a controlling technician's input on one X display."""

    def __init__(self, display: str) -> None:
        from Xlib import display as xdisplay

        self._d: Any = xdisplay.Display(display)
        if not self._d.has_extension("XTEST"):
            self._d.close()
            raise RuntimeError("the X server has no XTEST extension")
        self._buttons = 0
        self.injected = 0

    def close(self) -> None:
        """Release held buttons and the connection."""
        from Xlib import X
        from Xlib.ext import xtest

        for bit, button in BUTTONS:
            if self._buttons & bit:
                xtest.fake_input(self._d, X.ButtonRelease, button)
        self._buttons = 0
        self._d.sync()
        self._d.close()

    def apply(self, event: screen.InputEvent, origin: tuple[int, int]) -> None:
        """Inject one event; coordinates are relative to the streamed monitor at ``origin``."""
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d
        if isinstance(event, (screen.PointerEvent, screen.WheelEvent)):
            xtest.fake_input(d, X.MotionNotify, x=origin[0] + event.x, y=origin[1] + event.y)
        if isinstance(event, screen.PointerEvent):
            for bit, button in BUTTONS:
                was, now = self._buttons & bit, event.buttons & bit
                if now and not was:
                    xtest.fake_input(d, X.ButtonPress, button)
                elif was and not now:
                    xtest.fake_input(d, X.ButtonRelease, button)
            self._buttons = event.buttons
        elif isinstance(event, screen.WheelEvent):
            for steps, neg, pos in ((event.dy, WHEEL_UP, WHEEL_DOWN),
                                    (event.dx, WHEEL_LEFT, WHEEL_RIGHT)):
                button = pos if steps > 0 else neg
                for _ in range(abs(steps)):
                    xtest.fake_input(d, X.ButtonPress, button)
                    xtest.fake_input(d, X.ButtonRelease, button)
        elif isinstance(event, screen.KeyEvent):
            keycode = d.keysym_to_keycode(event.keysym)
            if keycode:
                xtest.fake_input(d, X.KeyPress if event.down else X.KeyRelease, keycode)
        elif isinstance(event, screen.TextEvent):
            for char in event.text:
                self._type(keysym_for(char))
        d.sync()
        self.injected += 1

    def _type(self, keysym: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d
        codes = list(d.keysym_to_keycodes(keysym))
        if not codes:
            return  # no key makes this character on this keyboard map
        keycode, index = codes[0]
        shift = d.keysym_to_keycode(SHIFT_L) if index % 2 == 1 else 0
        if shift:
            xtest.fake_input(d, X.KeyPress, shift)
        xtest.fake_input(d, X.KeyPress, keycode)
        xtest.fake_input(d, X.KeyRelease, keycode)
        if shift:
            xtest.fake_input(d, X.KeyRelease, shift)
