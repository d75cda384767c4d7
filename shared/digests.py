"""Per-section inventory digests, so an agent sends only the sections that changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import msgspec


def canonical_json(data: Any) -> bytes:
    """Return the canonical JSON form digests are taken over (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def section_digest(data: Any) -> str:
    """Return the SHA-256 hex digest of one section's canonical JSON.

    A ``msgspec.Raw`` section is that JSON already (the agent's inventory child).
    """
    if isinstance(data, msgspec.Raw):
        return hashlib.sha256(bytes(data)).hexdigest()
    return hashlib.sha256(canonical_json(data)).hexdigest()


def section_digests(inventory: Mapping[str, Any]) -> dict[str, str]:
    """Return the digest of every section of an inventory.

    Args:
        inventory: section name -> JSON-able data.
    """
    return {name: section_digest(data) for name, data in inventory.items()}
