"""What changed between two versions of an inventory section (pure functions)."""

from __future__ import annotations

import json
from typing import Any

# How the items of a list section are told apart (GLPI section names).
ITEM_KEYS: dict[str, tuple[str, ...]] = {
    "softwares": ("name", "arch"),
    "drives": ("type",),  # GLPI puts the mount point in "type"
    "storages": ("name",),
    "networks": ("description", "ipaddress", "ipaddress6"),  # one entry per address
    "cpus": ("name", "id"),
    "memories": ("caption",),
    "batteries": ("name",),
    "users": ("login",),
}
MAX_LISTED = 200  # a change record lists at most this many items per kind


def _key(item: Any, fields: tuple[str, ...]) -> str:
    if isinstance(item, dict):
        return json.dumps([item.get(f) for f in fields], ensure_ascii=False)
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _label(item: Any, fields: tuple[str, ...]) -> Any:
    if isinstance(item, dict):
        return {f: item.get(f) for f in fields if f in item} | (
            {"version": item["version"]} if "version" in item else {})
    return item


def diff_section(section: str, before: Any, after: Any) -> dict[str, Any]:
    """Return a summary of the change from ``before`` to ``after`` (None = absent).

    Lists are matched item by item on the section's key fields; mappings field by field.
    The result is JSON-able: ``{"kind": "added"|"removed"|"changed", ...}``.
    """
    if before is None:
        return {"kind": "added"}
    if after is None:
        return {"kind": "removed"}
    if isinstance(before, list) and isinstance(after, list):
        fields = ITEM_KEYS.get(section, ())
        old = {_key(i, fields): i for i in before}
        new = {_key(i, fields): i for i in after}
        added = [_label(new[k], fields) for k in new if k not in old]
        removed = [_label(old[k], fields) for k in old if k not in new]
        changed = [
            {"item": _label(new[k], fields), "fields": _changed_fields(old[k], new[k])}
            for k in new if k in old and old[k] != new[k]
        ]
        return {"kind": "changed", "added": added[:MAX_LISTED], "removed": removed[:MAX_LISTED],
                "changed": changed[:MAX_LISTED],
                "counts": {"added": len(added), "removed": len(removed),
                           "changed": len(changed)}}
    if isinstance(before, dict) and isinstance(after, dict):
        return {"kind": "changed", "fields": _changed_fields(before, after)}
    return {"kind": "changed", "before": before, "after": after}


def _changed_fields(before: Any, after: Any) -> dict[str, Any]:
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return {"value": {"before": before, "after": after}}
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }
