"""The ``batteries`` section: the system's batteries, from /sys/class/power_supply.

Capacities are in mWh and voltage in mV, as in GLPI's format.  Only what describes the
battery is reported, not its charge level or status, which change by the minute (the
health checks watch those).  ``real_capacity`` is rounded down to 100 mWh because the
firmware re-estimates it slightly on every charge cycle.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from endpoint_agent.inventory.sysfs import read_text

POWER_SUPPLY = Path("/sys/class/power_supply")
PREFIX = "POWER_SUPPLY_"
REAL_CAPACITY_STEP = 100  # mWh


def parse_uevent(text: str) -> dict[str, str]:
    """Return a power supply's uevent file as a dict, without the POWER_SUPPLY_ prefix."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.removeprefix(PREFIX)] = value.strip()
    return values


def _int(values: Mapping[str, str], key: str) -> int | None:
    try:
        return int(values[key])
    except (KeyError, ValueError):
        return None


def _mwh(values: Mapping[str, str], energy: str, charge: str) -> int | None:
    """Return a capacity in mWh from µWh, or from µAh times the design voltage (µV)."""
    micro_wh = _int(values, energy)
    if micro_wh:
        return micro_wh // 1000
    micro_ah, micro_v = _int(values, charge), _int(values, "VOLTAGE_MIN_DESIGN")
    if micro_ah and micro_v:
        return micro_ah * micro_v // 10**9
    return None


def battery_entry(values: Mapping[str, str]) -> dict[str, Any] | None:
    """Return the ``batteries`` entry of one power supply, None if it is no system battery."""
    # Scope "Device" marks the batteries of mice, keyboards and headsets.
    if values.get("TYPE") != "Battery" or values.get("SCOPE") == "Device":
        return None
    entry: dict[str, Any] = {}
    for field, key in (("name", "MODEL_NAME"), ("manufacturer", "MANUFACTURER"),
                       ("serial", "SERIAL_NUMBER"), ("chemistry", "TECHNOLOGY")):
        if values.get(key):
            entry[field] = values[key]
    capacity = _mwh(values, "ENERGY_FULL_DESIGN", "CHARGE_FULL_DESIGN")
    if capacity:
        entry["capacity"] = capacity
    real = _mwh(values, "ENERGY_FULL", "CHARGE_FULL")
    if real:
        entry["real_capacity"] = real // REAL_CAPACITY_STEP * REAL_CAPACITY_STEP
    voltage = _int(values, "VOLTAGE_MIN_DESIGN")
    if voltage:
        entry["voltage"] = voltage // 1000
    year, month, day = (_int(values, f"MANUFACTURE_{p}") for p in ("YEAR", "MONTH", "DAY"))
    if year and month and day:
        with contextlib.suppress(ValueError):  # firmware sometimes reports day 0
            entry["date"] = dt.date(year, month, day).isoformat()
    return entry


def collect_batteries() -> list[dict[str, Any]]:
    """Collect the ``batteries`` section of this machine."""
    try:
        names = sorted(os.listdir(POWER_SUPPLY))
    except FileNotFoundError:
        return []
    batteries: list[dict[str, Any]] = []
    for name in names:
        entry = battery_entry(parse_uevent(read_text(POWER_SUPPLY / name / "uevent") or ""))
        if entry is not None:
            batteries.append({"name": name} | entry)
    return batteries
