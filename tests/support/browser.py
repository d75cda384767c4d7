"""Headless Chromium driven by Playwright, using Debian's /usr/bin/chromium."""

from __future__ import annotations

from pathlib import Path

from tests.support.tools import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """Return Chromium's path, or skip/fail when it is not installed."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed")
    return str(CHROMIUM)
