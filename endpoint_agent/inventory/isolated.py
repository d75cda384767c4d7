"""Collect the inventory in a child process, so the agent's own heap never holds it.

Reading the package database and /sys builds tens of thousands of short-lived objects.
CPython frees them, but the memory they took stays in the agent's allocator arenas, part
used: ~1 MB RSS more after every collection for the agent's whole life
(docs/performance.md, "Agent memory"). A child collects, prints each section's canonical
JSON on a line of its own (``name<TAB>json``), and exits; the agent keeps the sections
as ``msgspec.Raw`` (sent as they are; their digest is that of the bytes) and never
decodes them. If the child fails, the agent collects in its own process, as before.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import msgspec

log = logging.getLogger("deskmate.agent.inventory")

TIMEOUT = 300.0  # a slow package database on a loaded machine


def collect_isolated() -> dict[str, Any]:
    """Return ``{section: msgspec.Raw(canonical JSON)}`` collected by a child (blocking)."""
    try:
        out = subprocess.run([sys.executable, "-m", __name__], capture_output=True,  # noqa: S603
                             check=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL).stdout
        sections: dict[str, Any] = {}
        for line in out.splitlines():
            name, _, data = line.partition(b"\t")
            sections[name.decode()] = msgspec.Raw(data)
        if not sections:
            raise ValueError("the child printed no section")
        return sections
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        log.warning("inventory child failed (%s); collecting in the agent", exc)
        from endpoint_agent.inventory.collect import collect

        return collect()


def main() -> None:
    """Print every section as ``name<TAB>canonical JSON``, one per line."""
    from endpoint_agent.inventory.collect import collect
    from shared.digests import canonical_json

    out = sys.stdout.buffer
    for name, data in collect().items():
        out.write(name.encode() + b"\t" + canonical_json(data) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
