"""The ``operatingsystem`` section: distribution, kernel, boot time, time zone and FQDN.

Times follow GLPI's inventory format: ``boot_time`` is local time as
``YYYY-MM-DD HH:MM:SS`` and ``timezone`` holds the zone's abbreviation and its UTC
offset as ``+HHMM``, so the two together say exactly when the machine booted.
"""

from __future__ import annotations

import datetime as dt
import platform
import shlex
import socket
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import psutil

from endpoint_agent.inventory.sysfs import read_text

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")  # os-release(5) lookup order
FQDN_TIMEOUT = 0.5  # seconds; a broken resolver must not stall the whole inventory
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_os_release(text: str) -> dict[str, str]:
    """Return the variables of an os-release(5) file, unquoted."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:  # unbalanced quote: keep what is there
            words = [raw.strip().strip("\"'")]
        values[key.strip()] = " ".join(words)
    return values


def pick_fqdn(hostname: str, canonical_names: Iterable[str]) -> str:
    """Return the first dotted canonical name that is not localhost, else the host name."""
    for name in canonical_names:
        name = name.rstrip(".")
        if "." in name and not name.startswith("localhost"):
            return name
    return hostname


def timezone_of(now: dt.datetime) -> dict[str, str]:
    """Return GLPI's ``timezone`` object (abbreviation, ``+HHMM`` offset) of an aware time."""
    return {"name": now.tzname() or "", "offset": now.strftime("%z") or "+0000"}


def os_section(
    os_release: Mapping[str, str],
    *,
    kernel_name: str,
    kernel_version: str,
    arch: str,
    boot_time: dt.datetime | None,
    now: dt.datetime,
    fqdn: str,
) -> dict[str, Any]:
    """Build the ``operatingsystem`` section from already-read values."""
    name = os_release.get("NAME") or kernel_name.capitalize()
    version = os_release.get("VERSION") or os_release.get("VERSION_ID") or ""
    full_name = os_release.get("PRETTY_NAME") or " ".join(p for p in (name, version) if p)
    section: dict[str, Any] = {
        "arch": arch,
        "fqdn": fqdn,
        "full_name": full_name,
        "kernel_name": kernel_name.lower(),
        "kernel_version": kernel_version,
        "name": name,
        "timezone": timezone_of(now),
        "version": version,
    }
    if boot_time is not None:
        section["boot_time"] = boot_time.strftime(DATETIME_FORMAT)
    if "." in fqdn:
        section["dns_domain"] = fqdn.split(".", 1)[1]
    return section


def resolve_fqdn(hostname: str, *, timeout: float = FQDN_TIMEOUT) -> str:
    """Return the host's fully qualified name, or the bare name if none comes in time."""
    names: list[str] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(hostname, None, flags=socket.AI_CANONNAME)
        except (OSError, UnicodeError):
            return
        names.extend(info[3] for info in infos if info[3])

    # getaddrinfo has no timeout of its own; a daemon thread lets us give up on it.
    worker = threading.Thread(target=lookup, name="inventory-fqdn", daemon=True)
    worker.start()
    worker.join(timeout)
    return pick_fqdn(hostname, list(names) if not worker.is_alive() else [])


def short_hostname() -> str:
    """Return this machine's host name without its domain."""
    return socket.gethostname().split(".", 1)[0]


def read_os_release() -> dict[str, str]:
    """Return the parsed os-release file, or an empty mapping where there is none."""
    for path in OS_RELEASE_PATHS:
        text = read_text(path)
        if text is not None:
            return parse_os_release(text)
    return {}


def collect_operatingsystem() -> dict[str, Any]:
    """Collect the ``operatingsystem`` section of this machine."""
    uname = platform.uname()
    return os_section(
        read_os_release(),
        kernel_name=uname.system,
        kernel_version=uname.release,
        arch=uname.machine,
        boot_time=dt.datetime.fromtimestamp(psutil.boot_time()),
        now=dt.datetime.now().astimezone(),
        fqdn=resolve_fqdn(socket.gethostname()),
    )
