"""Readings the checks need (blocking: psutil and systemctl; run them in a thread)."""

from __future__ import annotations

import shutil
import subprocess

import psutil

from shared.protocol import HealthCheck

DOWN, UP = 100.0, 0.0  # service and process checks: 100 means "not running"


class ProbeError(Exception):
    """A reading could not be taken (missing mount point, no systemd, ...)."""


def disk_percent(path: str) -> float:
    """Return how full the file system holding ``path`` is."""
    try:
        return float(psutil.disk_usage(path or "/").percent)
    except OSError as exc:
        raise ProbeError(f"cannot read disk usage of {path!r}: {exc.strerror}") from exc


def memory_percent() -> float:
    """Return the share of memory in use."""
    return float(psutil.virtual_memory().percent)


def cpu_percent() -> float:
    """Return CPU use since the previous call (the first call primes the counter)."""
    return float(min(100.0, max(0.0, psutil.cpu_percent(interval=None))))


def unit_active(unit: str) -> tuple[bool, str]:
    """Tell whether a systemd unit is active; return (active, systemd's word for it)."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise ProbeError("systemctl not found; service checks need systemd")
    name = unit if "." in unit else unit + ".service"
    try:
        done = subprocess.run([systemctl, "is-active", "--", name], capture_output=True,  # noqa: S603
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(f"systemctl failed: {exc}") from exc
    word = done.stdout.strip() or done.stderr.strip()[:100]
    if done.returncode != 0 and word not in ("inactive", "failed", "activating",
                                             "deactivating", "unknown"):
        raise ProbeError(f"systemctl cannot tell about {name!r}: {word}")
    return word == "active", word


def process_running(name: str) -> bool:
    """Tell whether a process with this name (or executable base name) runs."""
    for proc in psutil.process_iter(["name", "exe"]):
        info = proc.info
        exe = info.get("exe") or ""
        if info.get("name") == name or exe.rsplit("/", 1)[-1] == name:
            return True
    return False


def read(check: HealthCheck, *, cpu: float | None = None) -> tuple[float, str]:
    """Return the check's raw value and, for services and processes, what was seen.

    ``cpu`` is this round's CPU reading, taken once for all CPU checks (each call of
    psutil.cpu_percent restarts its interval).

    Raises:
        ProbeError: the reading cannot be taken.
    """
    if check.kind == "disk":
        return disk_percent(check.target or "/"), ""
    if check.kind == "memory":
        return memory_percent(), ""
    if check.kind == "cpu":
        return (cpu if cpu is not None else cpu_percent()), ""
    if check.kind == "service":
        active, word = unit_active(check.target)
        return (UP if active else DOWN), word
    return (UP if process_running(check.target) else DOWN), ""


def describe(check: HealthCheck, value: float | None, detail: str) -> str:
    """Return one line saying what a check saw."""
    if value is None:
        return detail or "no reading"
    window = f" (average over {check.window:g} s)" if check.window else ""
    if check.kind == "disk":
        return f"{check.target or '/'} is {value:.1f}% full{window}"
    if check.kind == "memory":
        return f"memory {value:.1f}% used{window}"
    if check.kind == "cpu":
        return f"CPU {value:.1f}% busy{window}"
    down = value >= DOWN
    if check.kind == "service":
        return f"unit {check.target} is {detail or ('not active' if down else 'active')}"
    return f"process {check.target} is {'not running' if down else 'running'}"
