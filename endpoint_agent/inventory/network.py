"""The ``networks`` section: interfaces with their MAC, addresses, state and speed.

As in GLPI's format there is one entry per address (an interface with an IPv4 and an
IPv6 address gives two entries sharing ``description``, ``mac`` and ``status``) and one
entry for an interface without addresses.  ``speed`` is the link speed in Mbit/s, as a
string, present only when the driver reports one.  IPv6 temporary (privacy) addresses
are left out: they rotate daily by design (RFC 8981) and would churn the inventory.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from endpoint_agent.inventory.sysfs import read_int, read_text, read_value

SYS_NET = Path("/sys/class/net")
IF_INET6 = "/proc/net/if_inet6"
ROUTES = "/proc/net/route"
# Container peers and similar come and go with their containers: not inventory.
EPHEMERAL_INTERFACES = re.compile(r"^(veth|cali|tap|vnet)[0-9a-f]")
# include/uapi/linux/if_addr.h
IFA_F_TEMPORARY = 0x01
IFA_F_DADFAILED = 0x08
# include/uapi/linux/if_arp.h
ARPHRD_TYPES = {1: "ethernet", 32: "infiniband", 772: "loopback"}
RTF_GATEWAY = 0x2


class Ipv6Address(NamedTuple):
    """One line of /proc/net/if_inet6."""

    interface: str
    address: str
    prefixlen: int
    flags: int


def parse_if_inet6(text: str) -> list[Ipv6Address]:
    """Return the addresses listed in /proc/net/if_inet6."""
    found: list[Ipv6Address] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 6 or len(fields[0]) != 32:
            continue
        try:
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            found.append(Ipv6Address(fields[5], str(address), int(fields[2], 16),
                                     int(fields[4], 16)))
        except ValueError:
            continue
    return found


def stable_ipv6(addresses: Sequence[Ipv6Address]) -> dict[str, list[tuple[str, int]]]:
    """Return interface -> (address, prefix length), without temporary or failed ones."""
    by_interface: dict[str, list[tuple[str, int]]] = {}
    for entry in addresses:
        if entry.flags & (IFA_F_TEMPORARY | IFA_F_DADFAILED):
            continue
        by_interface.setdefault(entry.interface, []).append((entry.address, entry.prefixlen))
    return by_interface


def default_gateways(text: str) -> dict[str, str]:
    """Return interface -> IPv4 default gateway from /proc/net/route (lowest metric)."""
    routes: list[tuple[int, str, str]] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            destination, gateway = int(fields[1], 16), int(fields[2], 16)
            flags, metric, mask = int(fields[3], 16), int(fields[6]), int(fields[7], 16)
        except ValueError:
            continue
        if destination == 0 and mask == 0 and flags & RTF_GATEWAY:
            # The kernel prints the address in host byte order (little-endian on x86/ARM).
            routes.append((metric, fields[0], socket.inet_ntoa(struct.pack("=I", gateway))))
    gateways: dict[str, str] = {}
    for _, interface, address in sorted(routes):
        gateways.setdefault(interface, address)
    return gateways


def nameservers(text: str) -> list[str]:
    """Return the name servers of a resolv.conf, in order."""
    servers: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1])
    return servers


def interface_type(
    *, arphrd: int | None, wireless: bool, bridge: bool, bond: bool
) -> str | None:
    """Return GLPI's interface ``type`` (ethernet, wifi, bridge, ...), None if unknown."""
    if wireless:
        return "wifi"
    if bridge:
        return "bridge"
    if bond:
        return "aggregate"
    return ARPHRD_TYPES.get(arphrd) if arphrd is not None else None


def network_entries(
    interface: Mapping[str, Any],
    *,
    ipv4: Sequence[tuple[str, str]],
    ipv6: Sequence[tuple[str, int]],
    gateway: str | None = None,
) -> list[dict[str, Any]]:
    """Return the GLPI entries of one interface: one per address, or one without any."""
    entries: list[dict[str, Any]] = []
    for address, netmask in sorted(ipv4, key=lambda a: ipaddress.IPv4Address(a[0])):
        network = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
        entry = {**interface, "ipaddress": address, "ipmask": str(network.netmask),
                 "ipsubnet": str(network.network_address)}
        if gateway:
            entry["ipgateway"] = gateway
        entries.append(entry)
    for address, prefixlen in sorted(ipv6, key=lambda a: ipaddress.IPv6Address(a[0])):
        network6 = ipaddress.IPv6Network(f"{address}/{prefixlen}", strict=False)
        entries.append({**interface, "ipaddress6": address, "ipmask6": str(network6.netmask),
                        "ipsubnet6": str(network6.network_address)})
    return entries or [dict(interface)]


def _prefixlen(netmask: str) -> int:
    return bin(int(ipaddress.IPv6Address(netmask))).count("1")


def _status(name: str, isup: bool) -> str:
    operstate = read_value(SYS_NET / name / "operstate")
    if operstate == "up":
        return "up"
    if operstate in (None, "unknown"):  # loopback and many virtual devices
        return "up" if isup else "down"
    return "down"


def _describe(name: str, stats: Any, mac: str | None) -> dict[str, Any]:
    sysdir = SYS_NET / name
    device = sysdir / "device"
    interface: dict[str, Any] = {
        "description": name,
        "status": _status(name, bool(stats.isup) if stats else False),
        "virtualdev": not device.exists(),
    }
    if mac:
        interface["mac"] = mac.lower()
    kind = interface_type(
        arphrd=read_int(sysdir / "type"),
        wireless=(sysdir / "wireless").exists() or (sysdir / "phy80211").exists(),
        bridge=(sysdir / "bridge").exists(),
        bond=(sysdir / "bonding").exists(),
    )
    if kind:
        interface["type"] = kind
    if stats is not None:
        if stats.speed and stats.speed > 0:
            interface["speed"] = str(stats.speed)
        if stats.mtu:
            interface["mtu"] = stats.mtu
    driver = device / "driver"
    if driver.exists():
        interface["driver"] = os.path.basename(os.path.realpath(driver))
    return interface


def collect_networks() -> list[dict[str, Any]]:
    """Collect the ``networks`` section of this machine."""
    addresses = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    inet6_text = read_text(IF_INET6)
    ipv6 = stable_ipv6(parse_if_inet6(inet6_text)) if inet6_text is not None else None
    gateways = default_gateways(read_text(ROUTES) or "")
    entries: list[dict[str, Any]] = []
    for name in sorted(set(addresses) | set(stats)):
        if EPHEMERAL_INTERFACES.match(name):
            continue
        addrs = addresses.get(name, [])
        mac = next((a.address for a in addrs if a.family == psutil.AF_LINK), None)
        ipv4 = [(a.address, a.netmask) for a in addrs
                if a.family == socket.AF_INET and a.netmask]
        if ipv6 is not None:
            own6 = ipv6.get(name, [])
        else:  # no /proc/net/if_inet6 (IPv6 disabled, or not Linux)
            own6 = [(a.address.split("%", 1)[0], _prefixlen(a.netmask)) for a in addrs
                    if a.family == socket.AF_INET6 and a.netmask]
        entries.extend(network_entries(_describe(name, stats.get(name), mac), ipv4=ipv4,
                                       ipv6=own6, gateway=gateways.get(name)))
    return entries
