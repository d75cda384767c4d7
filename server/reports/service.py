"""The reports' background work: build the roll-ups at start, mail weekly summaries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from server.db.schema import utcnow
from server.keys import DATABASE, SETTINGS
from server.reports import rollup

log = logging.getLogger("deskmate.reports")
WEEKLY_CHECK_SECONDS = 3600


def zone_name(app: web.Application) -> str:
    """Return the time zone the roll-ups count days in."""
    s = app[SETTINGS]
    return s.report_time_zone or s.default_time_zone


async def build_if_needed(app: web.Application) -> None:
    """Build the roll-ups when they were never built, or in another time zone."""
    n = await app[DATABASE].write(functools.partial(
        rollup.ensure_built, tz=zone_name(app), now=utcnow()))
    if n is not None:
        log.info("built the report roll-ups over %d tickets (%s days)", n, zone_name(app))


async def _weekly(app: web.Application) -> None:
    from server.reports import weekly  # the mail part imports the mail package

    while True:
        try:
            await weekly.send_due(app, now=utcnow())
        except Exception:
            log.exception("weekly report summary failed")
        await asyncio.sleep(WEEKLY_CHECK_SECONDS)


async def reports_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the roll-ups before serving; run the weekly summary check in the background."""
    await build_if_needed(app)
    task = (asyncio.create_task(_weekly(app), name="report-weekly")
            if app[SETTINGS].report_weekly_summary else None)
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

