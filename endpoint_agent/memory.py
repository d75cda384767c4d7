"""Give memory back to the system after a burst (an inventory, a remote session).

A full inventory or a session's frame buffers take megabytes for a moment; CPython
frees them, but glibc keeps the freed pages in its heap. ``malloc_trim(0)`` returns
them, so the agent's resident size falls back to its idle level instead of staying at
its peak (docs/performance.md, "Agent memory").
"""

from __future__ import annotations

import ctypes

_libc: ctypes.CDLL | None = None


def release() -> None:
    """Hand freed heap pages back to the system (glibc only).

    No ``gc.collect()`` here: it would hold the GIL over the whole heap, and the
    inventory's objects are freed by reference counting anyway. ctypes lets go of the
    GIL while ``malloc_trim`` runs.
    """
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None)  # the process's own symbols, libc's among them
        except OSError:
            return
    trim = getattr(_libc, "malloc_trim", None)
    if trim is not None:  # musl and other libcs have none
        trim(0)
