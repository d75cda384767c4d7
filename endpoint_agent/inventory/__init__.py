"""The endpoint's inventory in GLPI's section layout, as plain JSON-able data.

``collect()`` returns ``{section: data}`` for every name in ``SECTIONS``;
``section_digests()`` gives each section's SHA-256 so only changed sections are sent.
Field names and units follow GLPI's inventory format (glpi-project/inventory_format):
sizes in MB (2**20 bytes), frequencies in MHz, dates as ``YYYY-MM-DD``, times as local
``YYYY-MM-DD HH:MM:SS``.  A section whose collector fails holds ``{"error": "..."}``.
"""

from __future__ import annotations

from endpoint_agent.inventory.collect import SECTIONS, collect
from shared.digests import section_digests

__all__ = ["SECTIONS", "collect", "section_digests"]
