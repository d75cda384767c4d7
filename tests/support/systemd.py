"""A real systemd user manager (and journald) for the services tool's tests.

This machine does not boot with systemd, and ``systemd --user`` refuses to start unless
``/run/systemd/system`` exists. The test starts it in its own mount namespace
(``unshare --mount``) over a private tmpfs on ``/run/systemd``, so nothing outside the
test sees a change; ``systemd-journald`` runs beside it and writes into a directory the
test reads with ``journalctl --directory``. ``systemctl --user`` reaches the manager
through ``$XDG_RUNTIME_DIR/systemd/private``, which lives under the test's own folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MANAGER = "/lib/systemd/systemd"
JOURNALD = "/lib/systemd/systemd-journald"

_SCRIPT = """
set -e
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system /run/systemd/journal /run/log/journal
mount --bind "$JOURNAL" /run/log/journal
{journald} &
i=0; while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
exec {manager} --user
"""


@dataclass
class UserManager:
    """A running user manager: the environment for systemctl and where its units go."""

    runtime: Path
    config: Path
    journal: Path
    proc: subprocess.Popen[bytes]

    @property
    def environ(self) -> dict[str, str]:
        """Return what systemctl --user needs to reach this manager."""
        return {"XDG_RUNTIME_DIR": str(self.runtime), "XDG_CONFIG_HOME": str(self.config),
                "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime}/bus"}

    def write_unit(self, name: str, text: str) -> None:
        """Install a unit file and have the manager read it."""
        units = self.config / "systemd" / "user"
        units.mkdir(parents=True, exist_ok=True)
        (units / name).write_text(text)
        self.systemctl("daemon-reload")

    def systemctl(self, *args: str) -> str:
        """Run systemctl --user against this manager; return its output."""
        done = subprocess.run(["systemctl", "--user", "--no-pager", *args],
                              env={**os.environ, **self.environ}, capture_output=True,
                              text=True, timeout=30, check=False)
        return done.stdout

    def show(self, unit: str, prop: str) -> str:
        """Return one property of a unit."""
        return self.systemctl("show", f"--property={prop}", "--value", "--", unit).strip()


@contextlib.asynccontextmanager
async def user_manager(base: Path) -> AsyncIterator[UserManager]:
    """Start systemd --user in a private mount namespace; skip where that cannot run."""
    if os.geteuid() != 0 or not all(shutil.which(c) for c in ("unshare", "systemctl")) \
            or not os.access(MANAGER, os.X_OK):
        pytest.skip("a systemd user manager needs root, unshare and systemd here")
    runtime, config, journal = base / "run", base / "config", base / "journal"
    for path in (runtime, config, journal):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(config),
           "JOURNAL": str(journal)}
    script = _SCRIPT.format(journald=JOURNALD, manager=MANAGER)
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                             script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    manager = UserManager(runtime=runtime, config=config, journal=journal, proc=proc)
    try:
        async with asyncio.timeout(20):
            while not (runtime / "systemd" / "private").exists():
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"systemd --user did not start: {err[-500:]}")
                await asyncio.sleep(0.05)
            # ("is-system-running" says "offline" outside a booted system: ask for jobs.)
            while "No jobs" not in manager.systemctl("list-jobs"):
                await asyncio.sleep(0.05)
        yield manager
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the manager, journald and their units
        try:
            await asyncio.to_thread(proc.wait, 10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.wait)
        if proc.stderr is not None:
            proc.stderr.close()
