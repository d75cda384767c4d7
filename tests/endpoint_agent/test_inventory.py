"""The endpoint inventory: pure parsers on fixture text, digests, and a real collection."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from endpoint_agent import __version__
from endpoint_agent.inventory import SECTIONS, collect, memories, power, section_digests, software
from endpoint_agent.inventory.__main__ import main
from endpoint_agent.inventory.cpus import cpus_from_cpuinfo, nominal_speed, parse_cpuinfo
from endpoint_agent.inventory.hardware import bios_section, detect_vmsystem, hardware_section
from endpoint_agent.inventory.memories import MemoryTableError, parse_memory_device
from endpoint_agent.inventory.network import (
    default_gateways,
    nameservers,
    network_entries,
    parse_if_inet6,
    stable_ipv6,
)
from endpoint_agent.inventory.power import battery_entry, parse_uevent
from endpoint_agent.inventory.software import parse_dpkg_status, parse_rpm_query
from endpoint_agent.inventory.storage import (
    Mount,
    drive_entry,
    may_block,
    parse_mounts,
    real_mounts,
    round_free_mb,
    storage_entry,
)
from endpoint_agent.inventory.system import os_section, parse_os_release, pick_fqdn
from endpoint_agent.inventory.users import users_section

MB = 1024 * 1024

DPKG_STATUS = """\
Package: adduser
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 686
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 3.134
Depends: passwd (>= 1:4.11.1+dfsg1-1~)
Suggests: cron, quota
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
 /etc/deluser.conf 11a06baf8245fbfd4e4e4d6ab8a4d5a8
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands for creating
 and removing users.
 .
 Package: not-a-package
Homepage: https://salsa.debian.org/debian/adduser

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12988
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: nano
Status: deinstall ok config-files
Priority: important
Section: editors
Installed-Size: 2830
Maintainer: Jordi Mallach <jordi@debian.org>
Architecture: amd64
Version: 7.2-1
Config-Version: 7.2-1
Conffiles:
 /etc/nanorc 0a1d3e4b0fd3a3e6b6a4b4f7c4b9c1d2
Description: small, friendly text editor inspired by Pico

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12720
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: i386
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: vim-tiny
Status: hold ok installed
Priority: important
Section: editors
Installed-Size: 1761
Maintainer: Debian Vim Maintainers <team+vim@tracker.debian.org>
Architecture: amd64
Source: vim
Version: 2:9.0.1378-2
Description: Vi IMproved - enhanced vi editor - compact version

Package: half-done
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.0-1
Maintainer: Nobody <nobody@example.org>
Description: a package whose unpacking was interrupted
"""

DEBIAN_OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

FEDORA_OS_RELEASE = """\
NAME="Fedora Linux"
VERSION="39 (Workstation Edition)"
ID=fedora
VERSION_ID=39
VERSION_CODENAME=""
PLATFORM_ID="platform:f39"
PRETTY_NAME="Fedora Linux 39 (Workstation Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:39"
# a comment, then a single-quoted value with an escaped quote
HOME_URL='https://fedoraproject.org/'
SUPPORT_END=2024-11-12
VARIANT="Workstation Edition"
VARIANT_ID=workstation
"""

_INTEL_BLOCK = """\
processor\t: {n}
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 142
model name\t: Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz
stepping\t: 10
microcode\t: 0xf4
cpu MHz\t\t: {mhz}
cache size\t: 8192 KB
physical id\t: 0
siblings\t: 8
core id\t\t: {core}
cpu cores\t: 4
apicid\t\t: {n}
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr
bogomips\t: 3999.93

"""
INTEL_CPUINFO = "".join(
    _INTEL_BLOCK.format(n=n, core=n % 4, mhz=1800 + 137 * n) for n in range(8))

ARM_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

processor\t: 1
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

Hardware\t: BCM2835
Revision\t: c03111
Model\t\t: Raspberry Pi 4 Model B Rev 1.1
"""


def _memory_device(*, size: int, extended: int = 0, strings: list[bytes] | None = None,
                   form: int = 0x0D, kind: int = 0x1A, speed: int = 3200) -> bytes:
    """Build an SMBIOS 2.8 type 17 structure (0x28 bytes of fields, then strings)."""
    raw = bytearray(0x28)
    raw[0], raw[1] = 17, 0x28
    struct.pack_into("<HHHHHH", raw, 2, 0x0040, 0x003E, 0xFFFE, 64, 64, size)
    raw[0x0E], raw[0x10], raw[0x11], raw[0x12] = form, 1, 2, kind
    struct.pack_into("<H", raw, 0x15, speed)
    raw[0x17], raw[0x18], raw[0x19], raw[0x1A] = 3, 4, 0, 5
    struct.pack_into("<I", raw, 0x1C, extended)
    texts = strings if strings is not None else [
        b"ChannelA-DIMM0", b"BANK 0", b"Samsung", b"12345678", b"M471A1K43DB1-CWE  "]
    return bytes(raw) + b"\x00".join(texts) + b"\x00\x00"


# --- software ---------------------------------------------------------------------


def test_dpkg_status_lists_installed_packages_only() -> None:
    """Packages removed with their config files kept, or half-installed, are not listed."""
    packages = parse_dpkg_status(DPKG_STATUS)
    assert [(p["name"], p["arch"]) for p in packages] == [
        ("adduser", "all"), ("libc6", "amd64"), ("libc6", "i386"), ("vim-tiny", "amd64")]


def test_dpkg_status_fields_follow_glpi() -> None:
    """A dpkg package gives GLPI's name, version, arch, publisher, size in bytes and origin."""
    adduser = parse_dpkg_status(DPKG_STATUS)[0]
    assert adduser == {
        "name": "adduser", "version": "3.134", "arch": "all", "from": "dpkg",
        "publisher": "Debian Adduser Developers", "filesize": 686 * 1024,
        "system_category": "admin", "comments": "add and remove users and groups",
    }
    vim = parse_dpkg_status(DPKG_STATUS)[-1]
    assert vim["version"] == "2:9.0.1378-2"  # the epoch is part of the version


def test_dpkg_install_dates_come_from_the_lookup() -> None:
    """The install-date lookup is asked with each package's name and architecture."""
    asked: list[tuple[str, str]] = []

    def lookup(name: str, arch: str) -> str | None:
        asked.append((name, arch))
        return "2024-05-01" if name == "adduser" else None

    packages = parse_dpkg_status(DPKG_STATUS, install_date=lookup)
    assert packages[0]["install_date"] == "2024-05-01"
    assert "install_date" not in packages[1]
    assert ("libc6", "i386") in asked and ("nano", "amd64") not in asked


def test_dpkg_install_date_is_the_file_list_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package's install date is its dpkg file list's mtime, for multi-arch names too."""
    monkeypatch.setattr(software, "DPKG_INFO", tmp_path)
    stamp = dt.datetime(2024, 5, 1, 12, 0).timestamp()
    for name in ("adduser.list", "libc6:amd64.list"):
        (tmp_path / name).write_text("/.\n")
        os.utime(tmp_path / name, (stamp, stamp))
    assert software.dpkg_install_date("adduser", "all") == "2024-05-01"
    assert software.dpkg_install_date("libc6", "amd64") == "2024-05-01"
    assert software.dpkg_install_date("nano", "amd64") is None


def test_rpm_query_output_is_parsed_without_placeholders() -> None:
    """rpm rows become entries; "(none)" values and gpg-pubkey pseudo-packages are dropped."""
    stamp = int(dt.datetime(2023, 11, 20, 12, 0).timestamp())
    text = (
        f"bash\t5.2.26-1.fc39\tx86_64\tFedora Project\t8273960\t{stamp}\tUnspecified\t"
        "The GNU Bourne Again shell\n"
        f"gpg-pubkey\t18b8e74c-62f2920f\t(none)\t(none)\t0\t{stamp}\tPublic Keys\tgpg(Fedora)\n"
        f"local-tool\t1:2.0-3\tnoarch\t(none)\t1024\t{stamp}\t(none)\tA local tool\n"
        "truncated line\n"
    )
    assert parse_rpm_query(text) == [
        {"from": "rpm", "name": "bash", "version": "5.2.26-1.fc39", "arch": "x86_64",
         "publisher": "Fedora Project", "filesize": 8273960, "install_date": "2023-11-20",
         "system_category": "Unspecified", "comments": "The GNU Bourne Again shell"},
        {"from": "rpm", "name": "local-tool", "version": "1:2.0-3", "arch": "noarch",
         "filesize": 1024, "install_date": "2023-11-20", "comments": "A local tool"},
    ]


# --- operating system -------------------------------------------------------------


def test_debian_os_release_gives_name_version_and_full_name() -> None:
    """Debian's os-release gives GLPI's name, version and full_name."""
    release = parse_os_release(DEBIAN_OS_RELEASE)
    section = os_section(release, kernel_name="Linux", kernel_version="6.1.0-18-amd64",
                         arch="x86_64", boot_time=dt.datetime(2024, 3, 1, 8, 30, 5),
                         now=dt.datetime(2024, 3, 2, tzinfo=dt.timezone(dt.timedelta(hours=1),
                                                                         "CET")),
                         fqdn="desk42.corp.example")
    assert section == {
        "arch": "x86_64", "boot_time": "2024-03-01 08:30:05", "dns_domain": "corp.example",
        "fqdn": "desk42.corp.example", "full_name": "Debian GNU/Linux 12 (bookworm)",
        "kernel_name": "linux", "kernel_version": "6.1.0-18-amd64",
        "name": "Debian GNU/Linux", "timezone": {"name": "CET", "offset": "+0100"},
        "version": "12 (bookworm)",
    }


def test_fedora_os_release_quotes_comments_and_empty_values() -> None:
    """Fedora's os-release is unquoted, comments are skipped and empty values stay empty."""
    release = parse_os_release(FEDORA_OS_RELEASE)
    assert release["NAME"] == "Fedora Linux"
    assert release["VERSION_ID"] == "39"
    assert release["VERSION_CODENAME"] == ""
    assert release["HOME_URL"] == "https://fedoraproject.org/"
    assert release["CPE_NAME"] == "cpe:/o:fedoraproject:fedora:39"
    section = os_section(release, kernel_name="Linux", kernel_version="6.7.5-200.fc39.x86_64",
                         arch="x86_64", boot_time=None, now=dt.datetime.now(dt.UTC), fqdn="f39")
    assert (section["name"], section["version"], section["full_name"]) == (
        "Fedora Linux", "39 (Workstation Edition)", "Fedora Linux 39 (Workstation Edition)")
    assert "boot_time" not in section and "dns_domain" not in section


def test_fqdn_prefers_a_dotted_canonical_name() -> None:
    """The FQDN is the first dotted canonical name that is not localhost, else the host name."""
    assert pick_fqdn("desk42", ["localhost.localdomain", "desk42.corp.example."]) == (
        "desk42.corp.example")
    assert pick_fqdn("desk42", ["desk42"]) == "desk42"


# --- processors -------------------------------------------------------------------


def test_cpuinfo_groups_logical_cpus_into_one_package() -> None:
    """Eight logical CPUs of one package make one cpu with 4 cores, 8 threads, nominal MHz."""
    cpus = cpus_from_cpuinfo(parse_cpuinfo(INTEL_CPUINFO), arch="x86_64", max_freq_mhz=4000)
    assert cpus == [{
        "arch": "x86_64", "core": 4, "thread": 8, "speed": 1800, "manufacturer": "Intel",
        "name": "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz", "familynumber": "6",
        "model": "142", "stepping": 10,
    }]


def test_cpuinfo_of_two_sockets_gives_two_cpus() -> None:
    """Logical CPUs with different physical ids are reported as separate processors."""
    second = INTEL_CPUINFO.replace("physical id\t: 0", "physical id\t: 1")
    blocks = parse_cpuinfo(INTEL_CPUINFO) + parse_cpuinfo(second)
    assert len(cpus_from_cpuinfo(blocks, arch="x86_64")) == 2


def test_arm_cpuinfo_uses_board_name_implementer_and_cpufreq() -> None:
    """ARM cpuinfo without model name or physical id still gives name, vendor and counts."""
    cpus = cpus_from_cpuinfo(parse_cpuinfo(ARM_CPUINFO), arch="aarch64", max_freq_mhz=1500)
    assert cpus == [{"arch": "aarch64", "core": 2, "thread": 2, "speed": 1500,
                     "name": "BCM2835", "manufacturer": "ARM"}]


def test_nominal_speed_reads_ghz_and_mhz() -> None:
    """The nominal frequency is read from GHz or MHz in the model name, else None."""
    assert nominal_speed("Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz") == 2600
    assert nominal_speed("Pentium(R) III CPU @ 933MHz") == 933
    assert nominal_speed("AMD Ryzen 7 5800X 8-Core Processor") is None


# --- memory modules ---------------------------------------------------------------


def test_smbios_memory_device_gives_module_fields() -> None:
    """An SMBIOS type 17 structure gives capacity, slot, maker, serial, part, type, speed."""
    assert parse_memory_device(_memory_device(size=8192), slot=1) == {
        "numslots": 1, "capacity": 8192, "caption": "ChannelA-DIMM0",
        "manufacturer": "Samsung", "serialnumber": "12345678", "model": "M471A1K43DB1-CWE",
        "description": "SODIMM", "type": "DDR4", "speed": "3200",
    }


def test_smbios_memory_sizes_in_kb_extended_and_empty() -> None:
    """Sizes in KB and extended sizes are converted to MB; an empty slot gives None."""
    in_kb = parse_memory_device(_memory_device(size=0x8000 | 16 * 1024), slot=2)
    assert in_kb is not None and in_kb["capacity"] == 16
    extended = parse_memory_device(_memory_device(size=0x7FFF, extended=65536), slot=3)
    assert extended is not None and extended["capacity"] == 65536
    assert parse_memory_device(_memory_device(size=0, strings=[]), slot=4) is None
    with pytest.raises(MemoryTableError):
        parse_memory_device(b"\x04\x30" + bytes(0x30), slot=1)


def test_memory_collector_reads_entries_in_table_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Modules are read in table order; empty slots and malformed tables are skipped."""
    monkeypatch.setattr(memories, "DMI_ENTRIES", tmp_path)
    tables = {"17-0": _memory_device(size=8192), "17-1": _memory_device(size=0, strings=[]),
              "17-2": b"\x11\x02", "17-10": _memory_device(size=4096), "16-0": b"\x10"}
    for name, raw in tables.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "raw").write_bytes(raw)
    modules = memories.collect_memories()
    assert [(m["numslots"], m["capacity"]) for m in modules] == [(1, 8192), (4, 4096)]


# --- storage ----------------------------------------------------------------------


def test_mounts_keep_data_file_systems_and_decode_escapes() -> None:
    """Kernel and memory file systems are dropped and octal escapes in paths decoded."""
    text = (
        "proc /proc proc rw,nosuid 0 0\n"
        "/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n"
        "tmpfs /run tmpfs rw,nosuid 0 0\n"
        "/dev/nvme0n1p1 /boot/efi vfat rw 0 0\n"
        "/dev/loop3 /snap/core22/1122 squashfs ro 0 0\n"
        "/dev/sdb1 /media/ann/My\\040Disk exfat rw 0 0\n"
        "server:/export/home /home nfs4 rw 0 0\n"
    )
    assert [m.mountpoint for m in real_mounts(parse_mounts(text))] == [
        "/", "/boot/efi", "/home", "/media/ann/My Disk"]


def test_free_space_is_rounded_to_gb_on_large_volumes() -> None:
    """Free space is whole MB on small volumes and whole GB (in MB) from 10 GB up."""
    assert round_free_mb(700 * MB + 123_456, 975 * MB) == 700
    assert round_free_mb(11_683 * MB, 40_189 * MB) == 11 * 1024
    assert round_free_mb(11_683 * MB + 5 * MB, 40_189 * MB) == 11 * 1024


def test_drive_entry_uses_glpi_names_and_megabytes() -> None:
    """A mounted volume gives volumn, type (mount point), filesystem, total and free in MB."""
    mount = Mount("/dev/mapper/vg-root", "/", "ext4")
    assert drive_entry(mount, total_bytes=40_189 * MB, free_bytes=11_683 * MB,
                       serial="e2d02a40-829a-44ce-b863-cf765ac2c9eb") == {
        "volumn": "/dev/mapper/vg-root", "type": "/", "filesystem": "ext4",
        "total": 40_189, "free": 11 * 1024, "serial": "e2d02a40-829a-44ce-b863-cf765ac2c9eb"}
    nfs = drive_entry(Mount("srv:/home", "/home", "nfs4"), total_bytes=None, free_bytes=None)
    assert "total" not in nfs and "free" not in nfs


def test_network_and_fuse_mounts_are_not_measured() -> None:
    """Network and FUSE file systems, which can hang a stat call, are not measured."""
    assert may_block("nfs4") and may_block("cifs") and may_block("fuse.sshfs")
    assert not may_block("ext4") and not may_block("fuseblk") and not may_block("btrfs")


def test_storage_entry_reads_bus_model_and_size() -> None:
    """A block device gives its size in MB, model, serial, firmware and bus."""
    entry = storage_entry(
        "sda", {"device/model": "Samsung SSD 860", "device/vendor": "ATA",
                "device/rev": "3B6Q", "device/type": "0"},
        sectors=976_773_168,
        sysfs_path="/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/block/sda")
    assert entry == {"name": "sda", "type": "disk", "disksize": 476_940,
                     "description": "SATA", "interface": "SATA", "model": "Samsung SSD 860",
                     "firmware": "3B6Q", "manufacturer": "ATA"}


# --- network ----------------------------------------------------------------------


def test_if_inet6_skips_temporary_addresses() -> None:
    """IPv6 privacy (temporary) addresses are left out; stable ones are kept."""
    text = (
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "2a0104f8c0ffee000000000000000042 02 40 00 00   enp3s0\n"
        "2a0104f8c0ffee00b1c2d3e4f5a6b7c8 02 40 00 01   enp3s0\n"
        "fe800000000000000a0027fffe4e66a1 02 40 20 80   enp3s0\n"
    )
    assert stable_ipv6(parse_if_inet6(text)) == {
        "lo": [("::1", 128)],
        "enp3s0": [("2a01:4f8:c0ff:ee00::42", 64), ("fe80::a00:27ff:fe4e:66a1", 64)],
    }


def test_default_gateway_and_nameservers() -> None:
    """The default route's gateway is decoded per interface; resolv.conf gives servers."""
    routes = (
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "wlp2s0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "enp3s0\t00000000\t010AA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "enp3s0\t000AA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
    )
    gateways = default_gateways(routes)
    assert gateways == {"enp3s0": "192.168.10.1", "wlp2s0": "192.168.1.1"}
    assert next(iter(gateways)) == "enp3s0"  # lowest metric first
    resolv = "# generated\nnameserver 127.0.0.53\nnameserver 1.1.1.1 # backup\nsearch corp\n"
    assert nameservers(resolv) == ["127.0.0.53", "1.1.1.1"]


def test_network_entries_one_per_address() -> None:
    """An interface gives one GLPI entry per address, or one entry when it has none."""
    base = {"description": "enp3s0", "mac": "00:e0:4c:68:01:db", "status": "up",
            "speed": "1000", "virtualdev": False}
    entries = network_entries(base, ipv4=[("192.168.10.42", "255.255.255.0")],
                              ipv6=[("fe80::a00:27ff:fe4e:66a1", 64)], gateway="192.168.10.1")
    assert entries == [
        base | {"ipaddress": "192.168.10.42", "ipmask": "255.255.255.0",
                "ipsubnet": "192.168.10.0", "ipgateway": "192.168.10.1"},
        base | {"ipaddress6": "fe80::a00:27ff:fe4e:66a1", "ipmask6": "ffff:ffff:ffff:ffff::",
                "ipsubnet6": "fe80::"},
    ]
    assert network_entries(base, ipv4=[], ipv6=[]) == [base]


# --- firmware, hardware, power, users -----------------------------------------------


def test_bios_section_maps_dmi_attributes() -> None:
    """DMI attributes map to GLPI's bios fields and the BIOS date becomes YYYY-MM-DD."""
    dmi = {"bios_date": "02/06/2016", "bios_vendor": "Dell Inc.", "bios_version": "1.4.3",
           "board_vendor": "Dell Inc.", "board_name": "07TYC2", "sys_vendor": "Dell Inc.",
           "product_name": "XPS 13 9350", "product_sku": "0704", "product_serial": "640HP72"}
    assert bios_section(dmi) == {
        "bdate": "2016-02-06", "bmanufacturer": "Dell Inc.", "bversion": "1.4.3",
        "mmanufacturer": "Dell Inc.", "mmodel": "07TYC2", "smanufacturer": "Dell Inc.",
        "smodel": "XPS 13 9350", "skunumber": "0704", "ssn": "640HP72"}


def test_vmsystem_and_hardware_section() -> None:
    """The hypervisor is named from DMI, and hardware gives memory and swap in MB."""
    assert detect_vmsystem({"sys_vendor": "QEMU", "product_name": "Standard PC"},
                           hypervisor_flag=True) == "QEMU"
    assert detect_vmsystem({}, hypervisor_flag=True) == "Virtual Machine"
    assert detect_vmsystem({}, hypervisor_flag=False) == "Physical"
    assert detect_vmsystem({}, hypervisor_flag=True, container="lxc") == "lxc"
    section = hardware_section(hostname="desk42", memory_bytes=16 * 1024 * MB + 5,
                               swap_bytes=2048 * MB, dmi={"chassis_type": "10"},
                               vmsystem="Physical", dns=["10.0.0.53", "10.0.1.53"],
                               gateway="10.0.0.1", oscomments="#1 SMP")
    assert section == {"name": "desk42", "memory": 16384, "swap": 2048, "vmsystem": "Physical",
                       "chassis_type": "Notebook", "dns": "10.0.0.53/10.0.1.53",
                       "defaultgateway": "10.0.0.1", "oscomments": "#1 SMP"}


def test_battery_uevent_gives_capacity_in_mwh() -> None:
    """A laptop battery's uevent gives its design and real capacity in mWh and volts in mV."""
    uevent = (
        "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_STATUS=Discharging\n"
        "POWER_SUPPLY_TECHNOLOGY=Li-ion\nPOWER_SUPPLY_VOLTAGE_MIN_DESIGN=11400000\n"
        "POWER_SUPPLY_ENERGY_FULL_DESIGN=57020000\nPOWER_SUPPLY_ENERGY_FULL=50571000\n"
        "POWER_SUPPLY_CAPACITY=87\nPOWER_SUPPLY_MODEL_NAME=5B10W13930\n"
        "POWER_SUPPLY_MANUFACTURER=SMP\nPOWER_SUPPLY_SERIAL_NUMBER= 1234\n"
    )
    assert battery_entry(parse_uevent(uevent)) == {
        "name": "5B10W13930", "manufacturer": "SMP", "serial": "1234", "chemistry": "Li-ion",
        "capacity": 57020, "real_capacity": 50500, "voltage": 11400}
    mouse = "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_SCOPE=Device\n"
    assert battery_entry(parse_uevent(mouse)) is None
    assert battery_entry(parse_uevent("POWER_SUPPLY_TYPE=Mains\n")) is None


def test_battery_collector_skips_mains_and_peripherals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only system batteries are listed, named by model or else by their sysfs name."""
    monkeypatch.setattr(power, "POWER_SUPPLY", tmp_path)
    supplies = {
        "AC": "POWER_SUPPLY_TYPE=Mains\nPOWER_SUPPLY_ONLINE=1\n",
        "BAT0": "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_CHARGE_FULL_DESIGN=4000000\n"
                "POWER_SUPPLY_VOLTAGE_MIN_DESIGN=7600000\n",
        "hid-mouse-battery": "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_SCOPE=Device\n",
    }
    for name, uevent in supplies.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "uevent").write_text(uevent)
    assert power.collect_batteries() == [
        {"name": "BAT0", "capacity": 30400, "voltage": 7600}]


def test_users_are_unique_sorted_logins() -> None:
    """Several sessions of one user give one entry, sorted by login."""
    assert users_section(["zoe", "ann", "zoe", ""]) == [{"login": "ann"}, {"login": "zoe"}]


# --- digests and collection ---------------------------------------------------------


def test_digest_ignores_key_order() -> None:
    """The same data built in a different key order has the same digests."""
    one = {"hardware": {"name": "desk42", "memory": 16384}, "users": [{"login": "ann"}]}
    two = {"users": [{"login": "ann"}], "hardware": {"memory": 16384, "name": "desk42"}}
    assert section_digests(one) == section_digests(two)
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in section_digests(one).values())


def test_digest_changes_only_for_the_changed_section() -> None:
    """Changing one field changes that section's digest and no other."""
    before = {"hardware": {"name": "desk42", "memory": 16384}, "users": [{"login": "ann"}],
              "operatingsystem": {"name": "Débian"}}
    after = json.loads(json.dumps(before))
    after["hardware"]["memory"] = 32768
    old, new = section_digests(before), section_digests(after)
    assert [s for s in old if old[s] != new[s]] == ["hardware"]


def test_failing_collector_records_its_error_and_others_still_come() -> None:
    """A section whose collector raises holds an error entry; the other sections are intact."""

    def broken() -> Any:
        raise PermissionError("cannot read '/var/lib/dpkg/status'")

    inventory = collect(collectors={"users": lambda: [{"login": "ann"}], "softwares": broken})
    assert inventory == {
        "users": [{"login": "ann"}],
        "softwares": {"error": "PermissionError: cannot read '/var/lib/dpkg/status'"},
    }


def test_sections_are_valid_protocol_section_names() -> None:
    """Every section name is unique and fits the wire protocol's section name pattern."""
    assert len(set(SECTIONS)) == len(SECTIONS)
    assert all(re.fullmatch(r"[a-z0-9_]+", s) for s in SECTIONS)


def test_real_collect_on_this_machine() -> None:
    """Collecting this machine's inventory gives every section, with sane values."""
    inventory = collect()
    assert tuple(inventory) == SECTIONS
    json.dumps(inventory)  # JSON-able as it is
    assert inventory["versionclient"] == f"Deskmate-Agent_v{__version__}"
    system = inventory["operatingsystem"]
    assert system["name"] and system["kernel_version"] and system["arch"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", system["boot_time"])
    assert re.fullmatch(r"[+-]\d{4}", system["timezone"]["offset"])
    assert inventory["hardware"]["name"] and system["fqdn"]
    assert inventory["hardware"]["memory"] > 0
    assert inventory["cpus"] and all(cpu["core"] >= 1 and cpu["thread"] >= cpu["core"]
                                     for cpu in inventory["cpus"])
    assert inventory["drives"] and all(d["total"] > 0 for d in inventory["drives"]
                                       if "total" in d)
    assert any(n["status"] == "up" for n in inventory["networks"])
    assert isinstance(inventory["users"], list)
    if os.path.exists("/var/lib/dpkg/status"):
        assert len(inventory["softwares"]) >= 1
        assert all(p["from"] == "dpkg" and p["name"] for p in inventory["softwares"])


def test_real_collect_is_stable_between_runs() -> None:
    """Two collections of an unchanged machine have the same digests."""
    assert section_digests(collect()) == section_digests(collect())


def test_module_main_prints_the_inventory_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m endpoint_agent.inventory`` prints every section as JSON."""
    assert main() == 0
    assert tuple(sorted(json.loads(capsys.readouterr().out))) == tuple(sorted(SECTIONS))
