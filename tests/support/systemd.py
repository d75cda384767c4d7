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
import itertools
import os
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MANAGER = "/lib/systemd/systemd"
JOURNALD = "/lib/systemd/systemd-journald"

# The manager starts in cgroups of its own (in each hierarchy systemd uses here). Left in
# the cgroup the test runs in, it took that cgroup for its units', and stopping them
# killed every process in it, the test's worker included.
_COUNT = itertools.count()
CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"),
                Path("/sys/fs/cgroup"))

_SCRIPT = """
set -e
for root in {cgroup_roots}; do
  if [ -e "$root/cgroup.procs" ] && [ -w "$root" ]; then
    mkdir -p "$root/{cgroup}"
    echo $$ > "$root/{cgroup}/cgroup.procs"
  fi
done
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
    proc: asyncio.subprocess.Process

    @property
    def environ(self) -> dict[str, str]:
        """Return what systemctl --user needs to reach this manager."""
        return {"XDG_RUNTIME_DIR": str(self.runtime), "XDG_CONFIG_HOME": str(self.config),
                "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime}/bus"}

    async def write_unit(self, name: str, text: str) -> None:
        """Install a unit file and have the manager read it."""
        units = self.config / "systemd" / "user"
        await asyncio.to_thread(units.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread((units / name).write_text, text)
        await self.systemctl("daemon-reload")

    async def systemctl(self, *args: str) -> str:
        """Run systemctl --user against this manager; return its output."""
        proc = await asyncio.create_subprocess_exec(
            "systemctl", "--user", "--no-pager", *args, env={**os.environ, **self.environ},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        return out.decode()

    async def show(self, unit: str, prop: str) -> str:
        """Return one property of a unit."""
        return (await self.systemctl("show", f"--property={prop}", "--value", "--",
                                     unit)).strip()


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
    # A slice's name: journald then finds each unit's name in its cgroup's path.
    cgroup = f"deskmatetest{os.getpid()}n{next(_COUNT)}.slice"
    script = _SCRIPT.format(journald=JOURNALD, manager=MANAGER, cgroup=cgroup,
                            cgroup_roots=" ".join(str(r) for r in CGROUP_ROOTS))
    proc = await asyncio.create_subprocess_exec(
        "unshare", "--mount", "--propagation", "private", "sh", "-c", script, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)
    manager = UserManager(runtime=runtime, config=config, journal=journal, proc=proc)
    try:
        async with asyncio.timeout(20):
            private = runtime / "systemd" / "private"
            while True:
                if await asyncio.to_thread(private.exists):
                    break
                if proc.returncode is not None:
                    err = await proc.stderr.read() if proc.stderr else b""
                    pytest.fail(f"systemd --user did not start: {err.decode()[-500:]}")
                await asyncio.sleep(0.05)
            # ("is-system-running" says "offline" outside a booted system: ask for jobs.)
            while True:
                if "No jobs" in await manager.systemctl("list-jobs"):
                    break
                await asyncio.sleep(0.05)
        yield manager
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the manager, journald and their units
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        await asyncio.to_thread(_remove_cgroups, cgroup)


def _remove_cgroups(name: str) -> None:
    """Remove the manager's cgroups, deepest first (rmdir of an empty cgroup)."""
    for root in CGROUP_ROOTS:
        top = root / name
        if not top.is_dir():
            continue
        inner = sorted((p for p in top.rglob("*") if p.is_dir()),
                       key=lambda p: len(p.parts), reverse=True)
        for path in [*inner, top]:
            with contextlib.suppress(OSError):
                path.rmdir()
