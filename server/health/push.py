"""Send health configurations to connected agents that run checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.agents.hub import AgentLink, Hub
from server.db.database import Database
from server.db.schema import devices
from server.health import policy, store
from shared import protocol as p

CHECK_INTERVAL = 15.0  # seconds between two samples of every check on the device


async def send_config(db: Database, link: AgentLink) -> None:
    """Send a device the checks that apply to it now."""
    link.config_reads += 1
    read = link.config_reads
    rows = await db.read(lambda c: store.checks_for_device(c, link.device_id))
    if link.config_reads == read:  # else a later read (newer data) sends instead
        link.send(p.encode(policy.config_for(rows, interval=CHECK_INTERVAL)))


def _groups_and_checks(conn: Connection, device_ids: list[int]) -> tuple[dict[int, Any],
                                                                           list[Any]]:
    groups = {r.id: r.group_id for r in conn.execute(
        sa.select(devices.c.id, devices.c.group_id).where(devices.c.id.in_(device_ids)))}
    return groups, store.list_checks(conn)


async def push_configs(db: Database, hub: Hub, device_ids: Iterable[int] | None = None) -> int:
    """Send the current checks to connected capable agents (all, or these devices).

    One read for all of them; one configuration per device group. Returns how many
    agents were sent a configuration.
    """
    wanted = set(device_ids) if device_ids is not None else None
    # A link not yet welcomed is skipped: its own send_config() follows its Welcome (a
    # config before the Welcome would fail the agent's handshake).
    links = [link for link in list(hub.links.values())
             if link.welcomed and p.HEALTH_CAPABILITY in link.capabilities
             and (wanted is None or link.device_id in wanted)]
    if not links:
        return 0
    reads = {}
    for link in links:
        link.config_reads += 1
        reads[link.device_id] = link.config_reads
    groups, checks = await db.read(
        lambda c: _groups_and_checks(c, [link.device_id for link in links]))
    frames: dict[int | None, str] = {}
    for link in links:
        if link.config_reads != reads[link.device_id]:
            continue  # a later read, with newer data, sends this link its config
        group = groups.get(link.device_id)
        if group not in frames:
            frames[group] = p.encode(policy.config_for(
                policy.applicable(checks, group), interval=CHECK_INTERVAL))
        link.send(frames[group])
    return len(links)
