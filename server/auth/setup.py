"""Start-up work of the auth package: token lifetimes and the device-cookie key."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.auth import credentials, devices
from server.db.schema import utcnow
from server.keys import DATABASE, DEVICE_KEY, SETTINGS

log = logging.getLogger("deskmate.auth")


async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hold every API token to api_token_max_days and load the device-cookie key."""
    max_age = dt.timedelta(days=app[SETTINGS].api_token_max_days)

    def run(conn: Any) -> tuple[int, bytes]:
        now = utcnow()
        # Settings change only with a restart: capping here keeps every stored expiry
        # true (tokens made without one by earlier versions, or a lowered maximum).
        return credentials.cap_token_lifetimes(conn, max_age), devices.load_key(conn, now)

    capped, app[DEVICE_KEY] = await app[DATABASE].write(run)
    if capped:
        log.info("%d API tokens now expire %d days after their creation at the latest",
                 capped, max_age.days)
    yield
