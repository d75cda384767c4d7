"""The ``softwares`` section: installed packages, from dpkg's database or rpm.

dpkg's status file is parsed directly (no subprocess, a few milliseconds for thousands
of packages); rpm is asked with ``rpm -qa --queryformat`` when there is no dpkg.
``filesize`` is in bytes and ``install_date`` is ``YYYY-MM-DD``, as in GLPI's format.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from endpoint_agent.inventory.sysfs import read_text

DPKG_STATUS = Path("/var/lib/dpkg/status")
DPKG_INFO = Path("/var/lib/dpkg/info")
RPM_TIMEOUT = 60.0  # seconds; rpm takes about one on a desktop, more on a cold cache
# dpkg(1) "package states" in which the package's files are on disk.
INSTALLED_STATES = frozenset({
    "installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending",
})
RPM_FIELDS = ("name", "version", "arch", "publisher", "filesize", "install_date",
              "system_category", "comments")
RPM_QUERYFORMAT = "\t".join((
    "%{NAME}", "%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}", "%{ARCH}", "%{VENDOR}",
    "%{SIZE}", "%{INSTALLTIME}", "%{GROUP}", "%{SUMMARY}",
)) + "\n"
RPM_NONE = "(none)"


def _paragraphs(text: str) -> Iterable[dict[str, str]]:
    """Yield the fields of each deb822 paragraph (first line of multi-line values)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
                fields = {}
        elif line[0] not in " \t":
            key, sep, value = line.partition(":")
            if sep:
                fields[key] = value.strip()
    if fields:
        yield fields


def _publisher(maintainer: str) -> str:
    """Return the name part of an RFC 5322 style "Name <address>"."""
    name = maintainer.split("<", 1)[0].strip()
    return name or maintainer.strip("<> ")


def _sort_key(package: dict[str, Any]) -> tuple[str, str, str]:
    return (package["name"], package.get("arch", ""), package.get("version", ""))


def parse_dpkg_status(
    text: str, *, install_date: Callable[[str, str], str | None] | None = None
) -> list[dict[str, Any]]:
    """Return the installed packages of a dpkg status file, sorted by name and arch.

    ``install_date(package, arch)`` may supply each package's install date.
    """
    packages: list[dict[str, Any]] = []
    for fields in _paragraphs(text):
        name, status = fields.get("Package"), fields.get("Status", "").split()
        if not name or len(status) != 3 or status[2] not in INSTALLED_STATES:
            continue
        package: dict[str, Any] = {"from": "dpkg", "name": name}
        for field, key in (("version", "Version"), ("arch", "Architecture"),
                           ("system_category", "Section"), ("comments", "Description")):
            if fields.get(key):
                package[field] = fields[key]
        if fields.get("Maintainer"):
            package["publisher"] = _publisher(fields["Maintainer"])
        if fields.get("Installed-Size", "").isdigit():
            package["filesize"] = int(fields["Installed-Size"]) * 1024  # dpkg counts KiB
        if install_date is not None:
            date = install_date(name, package.get("arch", ""))
            if date:
                package["install_date"] = date
        packages.append(package)
    return sorted(packages, key=_sort_key)


def parse_rpm_query(text: str) -> list[dict[str, Any]]:
    """Return the packages of ``rpm -qa --queryformat RPM_QUERYFORMAT`` output, sorted."""
    packages: list[dict[str, Any]] = []
    for line in text.splitlines():
        values = line.split("\t")
        if len(values) != len(RPM_FIELDS):
            continue
        row = dict(zip(RPM_FIELDS, values, strict=True))
        if not row["name"] or row["name"] == "gpg-pubkey":  # imported keys, not software
            continue
        package: dict[str, Any] = {"from": "rpm"}
        for field, value in row.items():
            if not value or value == RPM_NONE:
                continue
            if field == "filesize":
                if value.isdigit():
                    package[field] = int(value)
            elif field == "install_date":
                if value.isdigit():
                    package[field] = dt.date.fromtimestamp(int(value)).isoformat()
            else:
                package[field] = value
        packages.append(package)
    return sorted(packages, key=_sort_key)


def dpkg_install_date(name: str, arch: str) -> str | None:
    """Return when dpkg last unpacked a package (its file list's mtime), as YYYY-MM-DD."""
    for list_name in (f"{name}:{arch}.list", f"{name}.list"):
        try:
            mtime = os.stat(os.path.join(DPKG_INFO, list_name)).st_mtime
        except OSError:
            continue
        return dt.date.fromtimestamp(mtime).isoformat()
    return None


def collect_softwares() -> list[dict[str, Any]]:
    """Collect the ``softwares`` section of this machine (empty without dpkg or rpm)."""
    if DPKG_STATUS.exists():
        text = read_text(DPKG_STATUS)
        if text is None:
            raise PermissionError(f"cannot read {str(DPKG_STATUS)!r}")
        packages = parse_dpkg_status(text, install_date=dpkg_install_date)
        if packages:  # an empty dpkg database next to rpm (e.g. dpkg on Fedora)
            return packages
    rpm = shutil.which("rpm")
    if rpm is None:
        return []
    # A fixed argument list, no shell: nothing here comes from outside the agent.
    result = subprocess.run(  # noqa: S603
        [rpm, "-qa", "--queryformat", RPM_QUERYFORMAT], capture_output=True, encoding="utf-8",
        errors="replace", timeout=RPM_TIMEOUT, check=True, env={**os.environ, "LC_ALL": "C"},
    )
    return parse_rpm_query(result.stdout)
