"""The scheduled directory sync: one background task per server (cleanup_ctx).

Every enabled directory with ``sync_minutes`` > 0 is synced that often, the first time
shortly after start-up. On several nodes each node runs its own schedule; a sync that
finds nothing to change writes nothing, so the duplicates cost only LDAP reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server.directory import client, sync
from server.directory.tables import directories
from server.keys import DATABASE

log = logging.getLogger("deskmate.directory")
TICK_SECONDS = 30.0
FIRST_DELAY_SECONDS = 5.0
LAST_RUN: web.AppKey[dict[int, float]] = web.AppKey("directory_last_run")


async def run_due(app: web.Application, *, now: float) -> list[int]:
    """Sync every directory whose interval has passed; return their ids."""
    def scheduled(conn: Any) -> list[tuple[int, int]]:
        return [(r.id, r.sync_minutes) for r in conn.execute(
            sa.select(directories.c.id, directories.c.sync_minutes)
            .where(directories.c.enabled.is_(True), directories.c.sync_minutes > 0))]

    last = app[LAST_RUN]
    ran = []
    for directory_id, minutes in await app[DATABASE].read(scheduled):
        if now - last.get(directory_id, -1e18) < minutes * 60:
            continue
        last[directory_id] = now
        ran.append(directory_id)
        try:
            await sync.run(app, directory_id, preview=False, actor_id=None)
        except client.DirectoryError as exc:
            log.warning("scheduled sync of directory %d failed: %s", directory_id, exc)
        except Exception:
            log.exception("scheduled sync of directory %d failed", directory_id)
    return ran


async def _loop(app: web.Application) -> None:
    await asyncio.sleep(FIRST_DELAY_SECONDS)
    while True:
        await run_due(app, now=time.monotonic())
        await asyncio.sleep(TICK_SECONDS)


async def directory_sync_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the scheduled syncs while the application runs."""
    app[LAST_RUN] = {}
    task = asyncio.create_task(_loop(app), name="directory-sync")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
