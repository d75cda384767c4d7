"""Which way this desktop can serve remote sessions, chosen when the agent starts.

Two backends, both behind the same capturer/injector/damage-watcher interfaces:

- ``x11``: an X display (mss + XTest + X DAMAGE; :mod:`capture`, :mod:`inject`);
- ``gnome-wayland``: GNOME on Wayland through Mutter's RemoteDesktop and ScreenCast
  interfaces on the session bus (:mod:`mutter`, :mod:`wayland`).

On a Wayland session the X display (Xwayland) sees only the X applications, so X11 capture
is never chosen there. The agent's own windows (consent dialog, indicator) are Tk, an X11
toolkit: on Wayland they show through Xwayland, which GNOME starts for X applications.
When no backend can work, :func:`choose` says why, as a short code the console translates.
Nothing heavy is imported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

X11 = "x11"
GNOME_WAYLAND = "gnome-wayland"
BACKENDS = (X11, GNOME_WAYLAND)

# Why no backend works (reported as capability "remote_unavailable:<code>").
NO_DISPLAY = "no_display"  # no graphical session (a service without a desktop)
LOGIN_SCREEN = "login_screen"  # the session is the display manager's greeter
NO_SESSION_BUS = "no_session_bus"  # Wayland, but no D-Bus session bus to reach GNOME
NOT_GNOME = "wayland_not_gnome"  # Wayland without Mutter's interfaces (KDE, wlroots...)
NO_XWAYLAND = "no_xwayland"  # GNOME on Wayland without Xwayland: no consent dialog
DISABLED = "disabled"  # the agent was started with --no-remote
REASONS = (NO_DISPLAY, LOGIN_SCREEN, NO_SESSION_BUS, NOT_GNOME, NO_XWAYLAND, DISABLED)


@dataclass(frozen=True)
class Choice:
    """The backend to use (None: none works, see ``reason``) and the X display for dialogs."""

    backend: str | None
    display: str = ""
    reason: str = ""
    detail: str = ""  # for the log: what exactly failed


def is_wayland(env: Mapping[str, str]) -> bool:
    """Tell whether the user's session is a Wayland session."""
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"


def choose(display: str, *, wanted: str = "auto", env: Mapping[str, str] | None = None,
           probe: Callable[[str | None], str | None] | None = None) -> Choice:
    """Return the backend for this session (``wanted``: auto or one of :data:`BACKENDS`)."""
    env = os.environ if env is None else env
    if env.get("XDG_SESSION_CLASS") == "greeter":
        return Choice(None, display, LOGIN_SCREEN, "the session is a login screen")
    wayland = wanted == GNOME_WAYLAND or (wanted == "auto" and is_wayland(env))
    if not wayland:
        if not display:
            return Choice(None, "", NO_DISPLAY, "no X display and no Wayland session")
        return Choice(X11, display)
    if probe is None:
        from endpoint_agent.remote.mutter import probe as mutter_probe

        probe = mutter_probe
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    if not address and not env.get("XDG_RUNTIME_DIR"):
        return Choice(None, display, NO_SESSION_BUS, "no D-Bus session bus")
    problem = probe(address or None)
    if problem is not None:
        code = NO_SESSION_BUS if "session bus" in problem and "not on" not in problem \
            else NOT_GNOME
        return Choice(None, display, code, problem)
    if not display:
        return Choice(None, "", NO_XWAYLAND, "no Xwayland display for the consent dialog")
    return Choice(GNOME_WAYLAND, display)
