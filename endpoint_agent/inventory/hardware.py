"""The ``hardware`` and ``bios`` sections: host name, memory totals, machine identity.

Sizes are in MB (2**20 bytes) as in GLPI's format.  Identity comes from the kernel's
DMI export in /sys/class/dmi/id; serial numbers and the UUID there are usually
readable by root only and are left out, silently, when they cannot be read.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from endpoint_agent.inventory.network import ROUTES, default_gateways, nameservers
from endpoint_agent.inventory.sysfs import read_text, read_value, to_mb
from endpoint_agent.inventory.system import short_hostname

DMI_ID = Path("/sys/class/dmi/id")
DMI_FILES = (
    "bios_date", "bios_vendor", "bios_version", "board_name", "board_serial",
    "board_vendor", "chassis_asset_tag", "chassis_serial", "chassis_type", "product_name",
    "product_serial", "product_sku", "product_uuid", "sys_vendor",
)
# GLPI "bios" field <- /sys/class/dmi/id attribute.
BIOS_FIELDS = {
    "assettag": "chassis_asset_tag",
    "bmanufacturer": "bios_vendor",
    "bversion": "bios_version",
    "enclosureserial": "chassis_serial",
    "mmanufacturer": "board_vendor",
    "mmodel": "board_name",
    "msn": "board_serial",
    "skunumber": "product_sku",
    "smanufacturer": "sys_vendor",
    "smodel": "product_name",
    "ssn": "product_serial",
}
# SMBIOS 3.x, 7.4.1 "System Enclosure or Chassis Types".
CHASSIS_TYPES = {
    1: "Other", 2: "Unknown", 3: "Desktop", 4: "Low Profile Desktop", 5: "Pizza Box",
    6: "Mini Tower", 7: "Tower", 8: "Portable", 9: "Laptop", 10: "Notebook",
    11: "Hand Held", 12: "Docking Station", 13: "All in One", 14: "Sub Notebook",
    15: "Space-saving", 16: "Lunch Box", 17: "Main Server Chassis", 18: "Expansion Chassis",
    19: "SubChassis", 20: "Bus Expansion Chassis", 21: "Peripheral Chassis",
    22: "RAID Chassis", 23: "Rack Mount Chassis", 24: "Sealed-case PC",
    25: "Multi-system chassis", 26: "Compact PCI", 27: "Advanced TCA", 28: "Blade",
    29: "Blade Enclosure", 30: "Tablet", 31: "Convertible", 32: "Detachable",
    33: "IoT Gateway", 34: "Embedded PC", 35: "Mini PC", 36: "Stick PC",
}
# Substrings of sys_vendor / product_name that name a hypervisor, in GLPI's spelling.
HYPERVISORS = (
    ("VMware", "VMware"), ("VirtualBox", "VirtualBox"), ("innotek", "VirtualBox"),
    ("QEMU", "QEMU"), ("KVM", "KVM"), ("Xen", "Xen"), ("Parallels", "Parallels"),
    ("Bochs", "Bochs"), ("Virtual Machine", "Hyper-V"), ("Amazon EC2", "Amazon EC2"),
    ("Google Compute Engine", "Google Compute Engine"),
)
CONTAINER_MARKERS = (("/.dockerenv", "Docker"), ("/run/.containerenv", "Podman"))
RESOLV_CONF = "/etc/resolv.conf"


def bios_date(value: str) -> str | None:
    """Return DMI's MM/DD/YYYY BIOS date as GLPI's YYYY-MM-DD, None if unparsable.

    Not ``strptime``: its module holds ~0.6 MB for the agent's whole life, for one date.
    """
    parts = value.strip().split("/")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts) \
            or len(parts[2]) != 4:
        return None
    try:
        return dt.date(int(parts[2]), int(parts[0]), int(parts[1])).isoformat()
    except ValueError:
        return None


def bios_section(dmi: Mapping[str, str]) -> dict[str, str]:
    """Build the ``bios`` section from /sys/class/dmi/id attribute values."""
    section = {field: dmi[attr] for field, attr in BIOS_FIELDS.items() if dmi.get(attr)}
    date = bios_date(dmi.get("bios_date", ""))
    if date:
        section["bdate"] = date
    return section


def chassis_name(code: str | None) -> str | None:
    """Return the SMBIOS chassis type name for a numeric code, None if unknown."""
    try:
        return CHASSIS_TYPES.get(int(code or ""))
    except ValueError:
        return None


def detect_vmsystem(
    dmi: Mapping[str, str], *, hypervisor_flag: bool, container: str | None = None
) -> str:
    """Return GLPI's ``vmsystem``: a container or hypervisor name, or "Physical"."""
    if container:
        return container
    identity = " ".join((dmi.get("sys_vendor", ""), dmi.get("product_name", "")))
    for needle, name in HYPERVISORS:
        if needle.lower() in identity.lower():
            return name
    # The CPUID "hypervisor" bit: a VM whose firmware does not say which one.
    return "Virtual Machine" if hypervisor_flag else "Physical"


def hardware_section(
    *,
    hostname: str,
    memory_bytes: int,
    swap_bytes: int,
    dmi: Mapping[str, str],
    vmsystem: str,
    dns: list[str],
    gateway: str | None,
    oscomments: str,
) -> dict[str, Any]:
    """Build the ``hardware`` section from already-read values."""
    section: dict[str, Any] = {
        "memory": to_mb(memory_bytes),
        "name": hostname,
        "swap": to_mb(swap_bytes),
        "vmsystem": vmsystem,
    }
    if oscomments:
        section["oscomments"] = oscomments
    if dmi.get("product_uuid"):
        section["uuid"] = dmi["product_uuid"]
    chassis = chassis_name(dmi.get("chassis_type"))
    if chassis:
        section["chassis_type"] = chassis
    if dns:
        section["dns"] = "/".join(dns)
    if gateway:
        section["defaultgateway"] = gateway
    return section


def read_dmi(root: Path = DMI_ID) -> dict[str, str]:
    """Return the readable, non-empty /sys/class/dmi/id attributes."""
    values: dict[str, str] = {}
    for name in DMI_FILES:
        value = read_value(root / name)
        if value:
            values[name] = value
    return values


def _container() -> str | None:
    for marker, name in CONTAINER_MARKERS:
        if Path(marker).exists():
            return name
    # systemd (and most container managers) write the manager's name here.
    return read_value("/run/systemd/container")


def _hypervisor_flag() -> bool:
    text = read_text("/proc/cpuinfo") or ""
    return any(line.startswith("flags") and " hypervisor" in line
               for line in text.splitlines()[:40])


def collect_hardware() -> dict[str, Any]:
    """Collect the ``hardware`` section of this machine."""
    dmi = read_dmi()
    gateways = default_gateways(read_text(ROUTES) or "")
    return hardware_section(
        hostname=short_hostname(),
        memory_bytes=psutil.virtual_memory().total,
        swap_bytes=psutil.swap_memory().total,
        dmi=dmi,
        vmsystem=detect_vmsystem(dmi, hypervisor_flag=_hypervisor_flag(),
                                 container=_container()),
        dns=nameservers(read_text(RESOLV_CONF) or ""),
        gateway=next(iter(gateways.values()), None),  # lowest metric first
        oscomments=platform.version(),
    )


def collect_bios() -> dict[str, str]:
    """Collect the ``bios`` section of this machine (empty where there is no DMI)."""
    return bios_section(read_dmi())
