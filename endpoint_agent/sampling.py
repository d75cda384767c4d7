"""Health samples from psutil (blocking calls: run them in a thread)."""

from __future__ import annotations

import os

import psutil

from shared.protocol import Metrics


def prime() -> None:
    """Start CPU accounting so the first real sample is meaningful."""
    psutil.cpu_percent(interval=None)


def sample(disk_path: str = "/") -> Metrics:
    """Return CPU (since the last call), memory and root-disk usage."""
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return Metrics(
        cpu_percent=min(100.0, max(0.0, psutil.cpu_percent(interval=None))),
        memory_percent=psutil.virtual_memory().percent,
        disk_percent=psutil.disk_usage(disk_path).percent,
        load1=load1,
    )
