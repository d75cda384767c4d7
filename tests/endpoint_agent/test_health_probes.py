"""The real probes on this machine: disk, memory, CPU, processes, systemd units."""

from __future__ import annotations

import shutil

import psutil
import pytest

from endpoint_agent.health import probes
from shared.protocol import HealthCheck


def check(kind: str, target: str = "") -> HealthCheck:
    return HealthCheck(id=1, name=kind, kind=kind, target=target, warning=80)  # type: ignore[arg-type]


def test_numeric_probes_read_percentages() -> None:
    """Disk, memory and CPU readings are percentages."""
    for kind, target in (("disk", "/"), ("memory", ""), ("cpu", "")):
        value, _ = probes.read(check(kind, target))
        assert 0 <= value <= 100, kind


def test_missing_mount_point_cannot_be_read() -> None:
    """A disk check of a path that does not exist raises ProbeError (state unknown)."""
    with pytest.raises(probes.ProbeError, match="/no/such/mount"):
        probes.read(check("disk", "/no/such/mount"))


def test_process_check_sees_this_process() -> None:
    """A process check finds a running process by name, and not a made-up one."""
    me = psutil.Process().name()
    assert probes.read(check("process", me))[0] == probes.UP
    assert probes.read(check("process", "no-such-process-xyz"))[0] == probes.DOWN
    assert probes.describe(check("process", "x"), probes.DOWN, "") == "process x is not running"


def test_service_check_needs_systemd() -> None:
    """Without systemctl a service check cannot be read; with it, an unknown unit is down."""
    if shutil.which("systemctl") is None:
        with pytest.raises(probes.ProbeError, match="systemd"):
            probes.read(check("service", "cups"))
        return
    try:
        value, word = probes.read(check("service", "no-such-unit-xyz"))
    except probes.ProbeError:
        return  # systemctl present but no running systemd (a container)
    assert value == probes.DOWN and word
