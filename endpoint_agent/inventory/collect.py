"""Run every section collector; one that fails records its error and the rest still come."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from endpoint_agent import __version__
from endpoint_agent.inventory.cpus import collect_cpus
from endpoint_agent.inventory.hardware import collect_bios, collect_hardware
from endpoint_agent.inventory.memories import collect_memories
from endpoint_agent.inventory.network import collect_networks
from endpoint_agent.inventory.power import collect_batteries
from endpoint_agent.inventory.software import collect_softwares
from endpoint_agent.inventory.storage import collect_drives, collect_storages
from endpoint_agent.inventory.system import collect_operatingsystem
from endpoint_agent.inventory.users import collect_users

log = logging.getLogger(__name__)

Collector = Callable[[], Any]


def version_client() -> str:
    """Return the ``versionclient`` string, in GLPI's "Name_vVersion" style."""
    return f"Deskmate-Agent_v{__version__}"


# Section name (GLPI's) -> collector, in the order sections are listed and sent.
COLLECTORS: Mapping[str, Collector] = {
    "versionclient": version_client,
    "operatingsystem": collect_operatingsystem,
    "hardware": collect_hardware,
    "bios": collect_bios,
    "cpus": collect_cpus,
    "memories": collect_memories,
    "storages": collect_storages,
    "drives": collect_drives,
    "networks": collect_networks,
    "batteries": collect_batteries,
    "users": collect_users,
    "softwares": collect_softwares,
}
SECTIONS: tuple[str, ...] = tuple(COLLECTORS)


def error_entry(exc: BaseException) -> dict[str, str]:
    """Return what a failed section holds instead of its data."""
    return {"error": f"{type(exc).__name__}: {exc}"}


def collect(*, collectors: Mapping[str, Collector] | None = None) -> dict[str, Any]:
    """Return this machine's inventory as ``{section: data}`` (blocking: run in a thread)."""
    inventory: dict[str, Any] = {}
    for name, collector in (collectors if collectors is not None else COLLECTORS).items():
        try:
            inventory[name] = collector()
        except Exception as exc:  # one broken section must not cost the others
            log.warning("inventory section %s failed: %s", name, exc,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            inventory[name] = error_entry(exc)
    return inventory
