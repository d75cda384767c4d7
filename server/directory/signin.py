"""Sign-in by bind: a directory user's password is checked by the directory itself.

Nothing is cached: every sign-in finds the user with the service account, binds as them
with the typed password, and checks the disabled filter, so a user removed, disabled or
locked in the directory is refused at once. The password is never stored. Attempts
count in the login throttle like local password checks.
"""

from __future__ import annotations

import asyncio
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server.auth import guard
from server.db.schema import utcnow
from server.directory import client
from server.directory.tables import directories, directory_accounts
from server.errors import Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized
from server.keys import CLIENT_IP, DATABASE, LOGIN_THROTTLE, METRICS
from server.users import store

log = logging.getLogger("deskmate.directory")

# LDAP calls block; a few threads of their own keep slow directories from holding the
# password-hashing threads or the default executor.
_ldap_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ldap")


def directory_of(conn: Any, user_id: int) -> Any:
    """Return the directories row a user's account comes from, or None (a local user)."""
    return conn.execute(
        sa.select(directories).join(directory_accounts,
                                    directory_accounts.c.directory_id == directories.c.id)
        .where(directory_accounts.c.user_id == user_id)).one_or_none()


def _check(cfg: client.Config, login: str, password: str) -> str:
    """Return "ok", "wrong", "gone" or "disabled" (blocking)."""
    conn = client.service_connection(cfg)
    try:
        found = client.find_user(conn, cfg, login)
        if found is None:
            return "gone"
        ok, diagnostic = client.user_bind(cfg, found.dn, password)
        if not ok:
            return "disabled" if any(d in diagnostic for d in client.AD_DISABLED) else "wrong"
        return "disabled" if client.is_disabled(conn, cfg, found.dn) else "ok"
    finally:
        conn.unbind()


async def sign_in(request: web.Request, row: Any, directory: Any, login: str,
                  password: str) -> None:
    """Check a directory user's password by binding; return when it is right.

    Raises:
        Unauthorized: wrong password (invalid_credentials).
        Forbidden: the account is disabled, locked or no longer in the directory.
        ServiceUnavailable: the directory cannot be reached (directory_unavailable).
        TooManyRequests: the login throttle says wait.
    """
    app = request.app
    throttle = app[LOGIN_THROTTLE]
    attempt = guard.attempt_for(request, login, row.id)
    wait = throttle.retry_after(attempt)
    if wait > 0:
        app[METRICS].auth_failures.labels("rate_limited").inc()
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests("too many failed logins; try again in {seconds} seconds",
                              seconds=seconds, headers={"Retry-After": str(seconds)})
    if not directory.enabled:
        raise ServiceUnavailable(f"sign-in through the directory {directory.name!r} is "
                                 "turned off; ask an administrator",
                                 code="directory_unavailable")
    cfg = client.Config.from_row(directory)
    throttle.begin(attempt)
    try:
        outcome = await asyncio.get_running_loop().run_in_executor(
            _ldap_threads, _check, cfg, login, password)
    except (client.DirectoryError, client.LdapFailure) as exc:
        throttle.succeeded(attempt)  # the directory's fault, not a guess
        log.warning("directory %r: sign-in of %r not checked: %s", directory.name, login, exc)
        raise ServiceUnavailable(
            f"the directory {directory.name!r} cannot be reached; try again later, or ask "
            "an administrator", code="directory_unavailable") from exc
    address = request[CLIENT_IP]
    if outcome == "ok":
        throttle.succeeded(attempt)
        return
    app[METRICS].auth_failures.labels("password").inc()
    await app[DATABASE].write(lambda c: store.record(
        c, actor_id=None, action="auth.login_failed", target_type="user", target_id=row.id,
        now=utcnow(), username=login, ip=address, directory=directory.name, reason=outcome))
    if outcome == "disabled":
        raise Forbidden("your directory account is disabled or locked; ask your IT team",
                        code="directory_account_disabled")
    if outcome == "gone":
        raise Forbidden("your account is no longer in the directory; ask your IT team",
                        code="directory_account_removed")
    raise Unauthorized("wrong user name or password", code="invalid_credentials")
