"""Small readers for /proc, /sys and /etc files that treat unreadable as absent."""

from __future__ import annotations

import os
from pathlib import Path

MB = 1024 * 1024  # GLPI's "MB" is a mebibyte: the agent divides bytes by 1024 twice


def read_text(path: str | os.PathLike[str]) -> str | None:
    """Return a file's text, or None when it is missing, unreadable or not text."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def read_value(path: str | os.PathLike[str]) -> str | None:
    """Return a one-line attribute file stripped, or None when absent or empty."""
    text = read_text(path)
    if text is None:
        return None
    value = text.strip().replace("\x00", "")
    return value or None


def read_bytes(path: str | os.PathLike[str]) -> bytes | None:
    """Return a binary file's bytes, or None when it is missing or unreadable."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def read_int(path: str | os.PathLike[str]) -> int | None:
    """Return an integer attribute file, or None when absent or not an integer."""
    value = read_value(path)
    if value is None:
        return None
    try:
        return int(value, 0) if value.startswith("0x") else int(value)
    except ValueError:
        return None


def to_mb(size_bytes: int) -> int:
    """Return a byte count in whole MB (2**20 bytes), rounded down."""
    return size_bytes // MB
