"""The ``memories`` section: installed memory modules, from SMBIOS type 17 tables.

The kernel exports each SMBIOS structure under /sys/firmware/dmi/entries (root only).
``capacity`` is in MB as in GLPI's format; ``numslots`` is the module's slot number
(1-based, in table order); empty slots are left out.  Layout: DMTF DSP0134 (SMBIOS
3.x) section 7.18 "Memory Device (Type 17)".
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path
from typing import Any

from endpoint_agent.inventory.sysfs import read_bytes

log = logging.getLogger(__name__)

DMI_ENTRIES = Path("/sys/firmware/dmi/entries")
MEMORY_DEVICE = 17
FORM_FACTORS = {
    0x01: "Other", 0x02: "Unknown", 0x03: "SIMM", 0x04: "SIP", 0x05: "Chip", 0x06: "DIP",
    0x07: "ZIP", 0x08: "Proprietary Card", 0x09: "DIMM", 0x0A: "TSOP", 0x0B: "Row of chips",
    0x0C: "RIMM", 0x0D: "SODIMM", 0x0E: "SRIMM", 0x0F: "FB-DIMM", 0x10: "Die",
}
MEMORY_TYPES = {
    0x01: "Other", 0x02: "Unknown", 0x03: "DRAM", 0x04: "EDRAM", 0x05: "VRAM", 0x06: "SRAM",
    0x07: "RAM", 0x08: "ROM", 0x09: "Flash", 0x0A: "EEPROM", 0x0B: "FEPROM", 0x0C: "EPROM",
    0x0D: "CDRAM", 0x0E: "3DRAM", 0x0F: "SDRAM", 0x10: "SGRAM", 0x11: "RDRAM", 0x12: "DDR",
    0x13: "DDR2", 0x14: "DDR2 FB-DIMM", 0x18: "DDR3", 0x19: "FBD2", 0x1A: "DDR4",
    0x1B: "LPDDR", 0x1C: "LPDDR2", 0x1D: "LPDDR3", 0x1E: "LPDDR4",
    0x1F: "Logical non-volatile device", 0x20: "HBM", 0x21: "HBM2", 0x22: "DDR5",
    0x23: "LPDDR5",
}


class MemoryTableError(ValueError):
    """A structure is not a well-formed SMBIOS memory device."""


def smbios_strings(tail: bytes) -> list[str]:
    """Return the string set that follows a structure's formatted area."""
    end = tail.find(b"\x00\x00")
    area = tail[: end if end >= 0 else len(tail)]
    return [s.decode("latin-1").strip() for s in area.split(b"\x00")] if area else []


def parse_memory_device(raw: bytes, *, slot: int) -> dict[str, Any] | None:
    """Return the ``memories`` entry of one type 17 structure, None for an empty slot.

    Raises MemoryTableError when the bytes are not a memory device structure.
    """
    if len(raw) < 0x15 or raw[0] != MEMORY_DEVICE or raw[1] < 0x15 or len(raw) < raw[1]:
        raise MemoryTableError(f"not an SMBIOS memory device: {raw[:4].hex()!r}")
    length = raw[1]
    strings = smbios_strings(raw[length:])

    def word(offset: int) -> int | None:
        return struct.unpack_from("<H", raw, offset)[0] if offset + 2 <= length else None

    def dword(offset: int) -> int | None:
        return struct.unpack_from("<I", raw, offset)[0] if offset + 4 <= length else None

    def text(offset: int) -> str | None:
        index = raw[offset] if offset < length else 0
        return (strings[index - 1] or None) if 0 < index <= len(strings) else None

    size = word(0x0C)
    if size == 0:
        return None  # "no memory device installed in the socket"
    capacity: int | None = None
    if size == 0x7FFF:
        extended = dword(0x1C)
        capacity = extended & 0x7FFFFFFF if extended is not None else None
    elif size is not None and size != 0xFFFF:
        # Bit 15 set: the size is in KB rather than MB.
        capacity = (size & 0x7FFF) // 1024 if size & 0x8000 else size
    entry: dict[str, Any] = {"numslots": slot}
    if capacity is not None:
        entry["capacity"] = capacity
    for field, offset in (("caption", 0x10), ("manufacturer", 0x17),
                          ("serialnumber", 0x18), ("model", 0x1A)):
        value = text(offset)
        if value:
            entry[field] = value
    form = FORM_FACTORS.get(raw[0x0E])
    if form:
        entry["description"] = form
    kind = MEMORY_TYPES.get(raw[0x12])
    if kind:
        entry["type"] = kind
    speed = word(0x15)
    if speed == 0xFFFF:  # SMBIOS 3.3: the real value is in Extended Speed
        speed = dword(0x54)
    if speed:
        entry["speed"] = str(speed)  # MT/s
    return entry


def _entry_order(name: str) -> int:
    return int(name.rsplit("-", 1)[1]) if name.rsplit("-", 1)[-1].isdigit() else 0


def collect_memories() -> list[dict[str, Any]]:
    """Collect the ``memories`` section (empty where the firmware exports no SMBIOS)."""
    try:
        names = os.listdir(DMI_ENTRIES)
    except FileNotFoundError:
        return []
    devices = sorted((n for n in names if n.startswith(f"{MEMORY_DEVICE}-")), key=_entry_order)
    modules: list[dict[str, Any]] = []
    unreadable = 0
    for slot, name in enumerate(devices, start=1):
        raw = read_bytes(DMI_ENTRIES / name / "raw")
        if raw is None:
            unreadable += 1
            continue
        try:
            entry = parse_memory_device(raw, slot=slot)
        except MemoryTableError as exc:  # one bad table must not hide the other modules
            log.warning("skipping SMBIOS entry %s: %s", name, exc)
            continue
        if entry is not None:
            modules.append(entry)
    if devices and unreadable == len(devices):
        raise PermissionError(f"cannot read the SMBIOS memory tables in {str(DMI_ENTRIES)!r}"
                              " (they are readable by root only)")
    return modules
