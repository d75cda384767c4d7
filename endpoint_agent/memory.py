"""Give memory back to the system after a burst (an inventory, a remote session).

A full inventory or a session's frame buffers take megabytes for a moment; CPython
frees them, but glibc keeps the freed pages in its heap. ``malloc_trim(0)`` returns
them, so the agent's resident size falls back to its idle level instead of staying at
its peak (docs/performance.md, "Agent memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger("deskmate.agent")

_libc: ctypes.CDLL | None = None


def release() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc only)."""
    global _libc
    gc.collect()
    if _libc is None:
        name = ctypes.util.find_library("c")
        if name is None:
            return
        try:
            _libc = ctypes.CDLL(name)
        except OSError:
            return
    trim = getattr(_libc, "malloc_trim", None)
    if trim is not None:  # musl and other libcs have none
        trim(0)
