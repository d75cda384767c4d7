"""The ``drives`` (mounted file systems) and ``storages`` (physical disks) sections.

Sizes are in MB (2**20 bytes), as in GLPI's format.  ``free`` is rounded down to whole
GB (multiples of 1024 MB) on volumes of 10 GB or more, and to whole MB below that, so
everyday writes do not change the inventory; ``total`` is exact to the MB.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from endpoint_agent.inventory.sysfs import MB, read_int, read_text, read_value, to_mb

MOUNTS = "/proc/self/mounts"
SYS_BLOCK = Path("/sys/block")
DISK_BY = Path("/dev/disk")
GB_ROUNDING_FROM = 10 * 1024  # MB: volumes at least this large report free space in GB
# Kernel and memory file systems, snap images and desktop helpers: not drives.
VIRTUAL_FS = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devfs",
    "devpts", "devtmpfs", "efivarfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal",
    "fuse.snapfuse", "fusectl", "hugetlbfs", "mqueue", "nfsd", "nsfs", "proc", "pstore",
    "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs",
    "tracefs",
})
# stat on a dead server (or a hung FUSE daemon) blocks for minutes: these are listed
# without sizes.  "fuseblk" (ntfs-3g, exfat) sits on a local disk and is measured.
NETWORK_FS = frozenset({
    "9p", "afs", "ceph", "cifs", "fuse.sshfs", "glusterfs", "ncpfs", "nfs", "nfs4", "smb3",
    "smbfs",
})
_OCTAL = re.compile(r"\\([0-7]{3})")
_UDEV_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")


class Mount(NamedTuple):
    """One line of /proc/self/mounts."""

    device: str
    mountpoint: str
    fstype: str


def _unescape(field: str) -> str:
    # The kernel escapes space, tab, newline and backslash as \ooo (fs/proc_namespace.c).
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    """Return /proc/self/mounts entries, with octal escapes decoded."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
    return mounts


def real_mounts(mounts: Iterable[Mount]) -> list[Mount]:
    """Keep file systems that hold data; of mounts stacked on one point, the visible one."""
    visible: dict[str, Mount] = {}
    for mount in mounts:
        if mount.fstype not in VIRTUAL_FS:
            visible[mount.mountpoint] = mount
        else:
            visible.pop(mount.mountpoint, None)  # hidden under a virtual mount
    return [visible[point] for point in sorted(visible)]


def may_block(fstype: str) -> bool:
    """Return whether measuring a file system of this type could hang (network, FUSE)."""
    return fstype in NETWORK_FS or fstype.startswith("fuse.")


def round_free_mb(free_bytes: int, total_bytes: int) -> int:
    """Return free space in MB, rounded down to whole GB on volumes of 10 GB or more."""
    free = to_mb(free_bytes)
    if to_mb(total_bytes) >= GB_ROUNDING_FROM:
        return free // 1024 * 1024
    return free


def drive_entry(
    mount: Mount,
    *,
    total_bytes: int | None,
    free_bytes: int | None,
    serial: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Build one ``drives`` entry (GLPI: ``type`` is the mount point, ``volumn`` the device)."""
    entry: dict[str, Any] = {"filesystem": mount.fstype, "type": mount.mountpoint,
                             "volumn": mount.device}
    if total_bytes is not None and free_bytes is not None:
        entry["total"] = to_mb(total_bytes)
        entry["free"] = round_free_mb(free_bytes, total_bytes)
    if serial:
        entry["serial"] = serial
    if label:
        entry["label"] = label
    return entry


def bus_of(sysfs_path: str) -> str | None:
    """Return the bus a block device hangs on, from its resolved /sys path."""
    for needle, bus in (("/nvme", "NVMe"), ("/usb", "USB"), ("/virtio", "virtio"),
                        ("/mmc", "MMC"), ("/ata", "SATA"), ("/host", "SCSI")):
        if needle in sysfs_path:
            return bus
    return None


def storage_entry(
    name: str, attrs: Mapping[str, str], *, sectors: int, sysfs_path: str
) -> dict[str, Any]:
    """Build one ``storages`` entry from a /sys/block device's attribute values."""
    entry: dict[str, Any] = {
        "disksize": sectors * 512 // MB,  # /sys/block/*/size counts 512-byte sectors
        "name": name,
        "type": "cdrom" if attrs.get("device/type") == "5" else "disk",
    }
    bus = bus_of(sysfs_path)
    if bus:
        entry["description"] = bus
        if bus in ("USB", "SATA", "SCSI"):  # the values GLPI's schema allows
            entry["interface"] = bus
    for field, keys in (("model", ("device/model",)), ("serial", ("device/serial", "serial")),
                        ("firmware", ("device/firmware_rev", "device/rev"))):
        value = next((attrs[k] for k in keys if attrs.get(k)), None)
        if value:
            entry[field] = value
    vendor = attrs.get("device/vendor")
    if vendor and not vendor.startswith("0x"):  # virtio and PCI give a numeric id
        entry["manufacturer"] = vendor
    return entry


def _links(kind: str) -> dict[str, str]:
    """Return device path -> name from /dev/disk/by-uuid or by-label."""
    folder = DISK_BY / kind
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    links: dict[str, str] = {}
    for name in names:
        target = os.path.realpath(folder / name)
        # udev escapes unsafe characters of labels as \xHH.
        links.setdefault(target, _UDEV_HEX.sub(lambda m: chr(int(m.group(1), 16)), name))
    return links


def collect_drives() -> list[dict[str, Any]]:
    """Collect the ``drives`` section of this machine."""
    uuids, labels = _links("by-uuid"), _links("by-label")
    drives: list[dict[str, Any]] = []
    for mount in real_mounts(parse_mounts(read_text(MOUNTS) or "")):
        if may_block(mount.fstype):
            drives.append(drive_entry(mount, total_bytes=None, free_bytes=None))
            continue
        if not os.path.isdir(mount.mountpoint):  # files bind-mounted into containers
            continue
        try:
            stat = os.statvfs(mount.mountpoint)
        except OSError:
            continue
        total, free = stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize
        if total == 0:
            continue
        device = os.path.realpath(mount.device) if mount.device.startswith("/dev/") else ""
        drives.append(drive_entry(mount, total_bytes=total, free_bytes=free,
                                  serial=uuids.get(device), label=labels.get(device)))
    return drives


def collect_storages() -> list[dict[str, Any]]:
    """Collect the ``storages`` section: block devices backed by hardware."""
    try:
        names = sorted(os.listdir(SYS_BLOCK))
    except OSError:
        return []
    storages: list[dict[str, Any]] = []
    for name in names:
        base = SYS_BLOCK / name
        if not (base / "device").exists():  # loop, ram, zram, dm-*, md*: no hardware
            continue
        attrs: dict[str, str] = {}
        for key in ("device/model", "device/vendor", "device/serial", "serial",
                    "device/firmware_rev", "device/rev", "device/type"):
            value = read_value(base / key)
            if value:
                attrs[key] = value
        storages.append(storage_entry(name, attrs, sectors=read_int(base / "size") or 0,
                                      sysfs_path=os.path.realpath(base)))
    return storages
