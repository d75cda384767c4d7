"""The ``cpus`` section: one entry per physical processor package, from /proc/cpuinfo.

GLPI fields: ``core`` is the cores of the package, ``thread`` its hardware threads
(logical CPUs), ``speed`` the nominal frequency in MHz.  The nominal frequency comes
from the model name ("@ 2.30GHz") or cpufreq's maximum, never from the current clock,
which moves all the time.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psutil

from endpoint_agent.inventory.sysfs import read_int, read_text

CPUINFO = "/proc/cpuinfo"
MAX_FREQ = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"  # kHz

VENDORS = {
    "GenuineIntel": "Intel",
    "AuthenticAMD": "AMD",
    "HygonGenuine": "Hygon",
    "CentaurHauls": "Centaur",
    "  Shanghai  ": "Zhaoxin",
}
# "CPU implementer" codes of ARM cores (Arm ARM, MIDR_EL1.Implementer).
ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "Applied Micro",
    0x51: "Qualcomm",
    0x53: "Samsung",
    0x61: "Apple",
    0x69: "Intel",
    0xC0: "Ampere",
}
_NOMINAL = re.compile(r"@\s*([0-9]+(?:\.[0-9]+)?)\s*([GM])Hz", re.IGNORECASE)


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """Return /proc/cpuinfo as one dict per block (keys lower-case, values stripped)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip().lower()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def nominal_speed(model_name: str) -> int | None:
    """Return the MHz stated in a model name such as "... CPU @ 2.30GHz", if any."""
    match = _NOMINAL.search(model_name)
    if match is None:
        return None
    value = float(match.group(1))
    return round(value * 1000 if match.group(2).upper() == "G" else value)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        return None


def _manufacturer(block: Mapping[str, str]) -> str | None:
    vendor = block.get("vendor_id")
    if vendor is not None:
        return VENDORS.get(vendor, vendor.strip() or None)
    implementer = _int(block.get("cpu implementer"))
    return ARM_IMPLEMENTERS.get(implementer) if implementer is not None else None


def cpus_from_cpuinfo(
    blocks: Sequence[Mapping[str, str]], *, arch: str, max_freq_mhz: int | None = None
) -> list[dict[str, Any]]:
    """Group /proc/cpuinfo processor blocks by physical package into ``cpus`` entries."""
    processors = [b for b in blocks if "processor" in b and _int(b["processor"]) is not None]
    # ARM kernels put the board name in a trailing block without "processor".
    extra = next((b for b in blocks if "processor" not in b), {})
    packages: dict[int, list[Mapping[str, str]]] = {}
    for block in processors:
        packages.setdefault(_int(block.get("physical id")) or 0, []).append(block)
    cpus: list[dict[str, Any]] = []
    for package_id in sorted(packages):
        members = packages[package_id]
        first = members[0]
        name = (first.get("model name") or first.get("cpu model") or first.get("cpu")
                or extra.get("hardware") or extra.get("model") or arch)
        core_ids = {b["core id"] for b in members if "core id" in b}
        cores = _int(first.get("cpu cores")) or len(core_ids) or len(members)
        threads = _int(first.get("siblings")) or len(members)
        speed = nominal_speed(name) or max_freq_mhz
        if speed is None and "cpu mhz" in first:
            try:
                speed = round(float(first["cpu mhz"]))
            except ValueError:
                speed = None
        cpu: dict[str, Any] = {"arch": arch, "core": cores, "name": " ".join(name.split()),
                               "thread": threads}
        if speed:
            cpu["speed"] = speed
        manufacturer = _manufacturer(first)
        if manufacturer:
            cpu["manufacturer"] = manufacturer
        if "cpu family" in first:
            cpu["familynumber"] = first["cpu family"]
        if "model" in first and "model name" in first:  # x86: "model" is a number
            cpu["model"] = first["model"]
        stepping = _int(first.get("stepping"))
        if stepping is not None:
            cpu["stepping"] = stepping
        cpus.append(cpu)
    return cpus


def collect_cpus() -> list[dict[str, Any]]:
    """Collect the ``cpus`` section of this machine."""
    arch = platform.machine()
    max_khz = read_int(MAX_FREQ)
    max_mhz = round(max_khz / 1000) if max_khz else None
    text = read_text(CPUINFO)
    cpus = cpus_from_cpuinfo(parse_cpuinfo(text), arch=arch, max_freq_mhz=max_mhz) if text else []
    if cpus:
        return cpus
    # No /proc/cpuinfo (or nothing usable in it): psutil still knows the counts.
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    cpu: dict[str, Any] = {"arch": arch, "core": psutil.cpu_count(logical=False) or logical,
                           "name": platform.processor() or arch, "thread": logical}
    if max_mhz:
        cpu["speed"] = max_mhz
    return [cpu]
