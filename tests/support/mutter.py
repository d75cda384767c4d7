"""A headless GNOME on Wayland of its own: D-Bus session bus, PipeWire, WirePlumber, Mutter.

``mutter --headless --wayland --virtual-monitor WxH`` offers org.gnome.Mutter.RemoteDesktop
and org.gnome.Mutter.ScreenCast on the session bus, as a GNOME desktop does, and starts
Xwayland for X applications (the agent's Tk dialogs). Every process gets its own runtime
directory and bus, and is stopped by its PID.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.tools import missing, require_executable

START_TIMEOUT = 30.0


@dataclass
class GnomeDesktop:
    """Where the headless desktop is: the environment a session's programs get."""

    env: dict[str, str]  # DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, WAYLAND_DISPLAY...
    display: str  # Xwayland's X display
    xauthority: str
    width: int
    height: int

    @property
    def bus(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _xwayland_of(mutter_pid: int) -> tuple[str, str] | None:
    """Return (display, auth file) of the Xwayland that Mutter started, once it is there."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid != mutter_pid or not args[0].endswith(b"Xwayland"):
            continue
        words = [a.decode() for a in args]
        display = next((w for w in words if w.startswith(":")), "")
        auth = words[words.index("-auth") + 1] if "-auth" in words else ""
        if display:
            return display, auth
    return None


def _names_up(env: dict[str, str]) -> bool:
    from endpoint_agent.remote.mutter import probe

    return probe(env["DBUS_SESSION_BUS_ADDRESS"]) is None


@contextmanager
def gnome_desktop(*, width: int = 1280, height: int = 720) -> Iterator[GnomeDesktop]:
    """Start the headless GNOME stack; yield where it is; stop it afterwards."""
    exes = {name: require_executable(name) for name in
            ("dbus-daemon", "pipewire", "wireplumber", "mutter", "Xwayland",
             "gst-launch-1.0", "gst-inspect-1.0")}
    # GStreamer scans its plugins on its first run (seconds): done here, not in a session.
    found = subprocess.run([exes["gst-inspect-1.0"], "pipewiresrc"], capture_output=True,
                           timeout=300, check=False)
    if found.returncode != 0:
        missing("GStreamer's pipewiresrc is not installed (gstreamer1.0-pipewire)")
    with ExitStack() as stack:
        runtime = stack.enter_context(tempfile.TemporaryDirectory(prefix="deskmate-gnome-"))
        os.chmod(runtime, 0o700)
        logs = stack.enter_context(open(os.path.join(runtime, "log"), "wb"))
        read_fd, write_fd = os.pipe()
        bus = subprocess.Popen(
            [exes["dbus-daemon"], "--session", "--nofork", "--nopidfile",
             f"--print-address={write_fd}", f"--address=unix:path={runtime}/bus"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=logs)
        os.close(write_fd)
        stack.callback(_stop, bus)
        with os.fdopen(read_fd) as pipe:
            address = pipe.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")}
        env.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_RUNTIME_DIR=runtime,
                   XDG_SESSION_TYPE="wayland", GSETTINGS_BACKEND="memory",
                   NO_AT_BRIDGE="1")
        for name in ("pipewire", "wireplumber"):
            proc = subprocess.Popen([exes[name]], env=env, stdout=subprocess.DEVNULL,
                                    stderr=logs)
            stack.callback(_stop, proc)
            if name == "pipewire":
                deadline = time.monotonic() + START_TIMEOUT
                while not os.path.exists(os.path.join(runtime, "pipewire-0")):
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("pipewire did not start")
                    time.sleep(0.02)
        mutter = subprocess.Popen(
            [exes["mutter"], "--headless", "--wayland", "--wayland-display", "wayland-0",
             "--virtual-monitor", f"{width}x{height}"],
            env=env, stdout=subprocess.DEVNULL, stderr=logs)
        stack.callback(_stop, mutter)
        deadline = time.monotonic() + START_TIMEOUT
        xwayland = None
        while True:
            if mutter.poll() is not None:
                raise RuntimeError(f"mutter exited: {_tail(runtime)}")
            if xwayland is None:
                xwayland = _xwayland_of(mutter.pid)
            if xwayland is not None and _names_up(env):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the GNOME desktop did not come up: {_tail(runtime)}")
            time.sleep(0.1)
        display, auth = xwayland
        env.update(WAYLAND_DISPLAY="wayland-0", DISPLAY=display, XAUTHORITY=auth)
        yield GnomeDesktop(env=env, display=display, xauthority=auth, width=width,
                           height=height)


@contextmanager
def own_xlib_events() -> Iterator[None]:
    """Give python-xlib a fresh event table while a different X server is used.

    python-xlib keeps the extension event classes of every connection in one table per
    process, keyed by event code: once it learnt Xvfb's codes, connecting to an Xwayland
    whose extensions number their events differently fails (TypeError in
    add_extension_event). Tests that used Xvfb earlier in the same process call this.
    """
    from Xlib.protocol import display, event

    saved = display.Display.event_classes
    display.Display.event_classes = event.event_class.copy()
    try:
        yield
    finally:
        display.Display.event_classes = saved


def _tail(runtime: str) -> str:
    try:
        return Path(runtime, "log").read_text(errors="replace")[-800:]
    except OSError:
        return ""
