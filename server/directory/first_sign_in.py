"""A directory user's first sign-in by bind: the account is made then, when allowed.

A directory with ``create_on_sign_in`` lets a person whose account the scheduled sync has
not made yet sign in at once: the directory checks the password (a bind, nothing
cached), the disabled filter and the group mappings, and the account is created with
the role and groups the next sync would give it (``default_role`` unless a mapping says
otherwise). Without the setting such a person waits for the sync.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server.auth import guard
from server.db.schema import group_members, groups, users, utcnow
from server.directory import client, sync
from server.directory.signin import _ldap_threads
from server.directory.tables import directories, directory_accounts, directory_memberships
from server.errors import Forbidden, ServiceUnavailable, Unauthorized
from server.keys import CLIENT_IP, DATABASE, LOGIN_THROTTLE, METRICS
from server.users import store as user_store

log = logging.getLogger("deskmate.directory")


@dataclass(frozen=True)
class Found:
    """What a directory said about a login and password."""

    outcome: str  # ok, wrong, gone or disabled
    user: client.DirectoryUser | None = None
    role: str = "requester"
    group_ids: frozenset[int] = frozenset()


def _check(cfg: client.Config, login: str, password: str) -> Found:
    """Find, bind as, and map one user (blocking)."""
    conn = client.service_connection(cfg)
    try:
        user = client.find_user(conn, cfg, login)
        if user is None:
            return Found("gone")
        ok, diagnostic = client.user_bind(cfg, user.dn, password)
        if not ok:
            return Found("disabled" if any(d in diagnostic for d in client.AD_DISABLED)
                         else "wrong")
        if client.is_disabled(conn, cfg, user.dn):
            return Found("disabled")
        granted, _seen = sync.granted_for(conn, cfg, [user])
        role, ids = granted.get(user.dn.lower(), (cfg.default_role, set()))
        return Found("ok", user, role, frozenset(ids))
    finally:
        conn.unbind()


def _create(conn: Any, *, directory_id: int, login: str, found: Found) -> int | None:
    """Make the account (unless the name was taken meanwhile); return its id."""
    user = found.user
    assert user is not None
    if conn.execute(sa.select(users.c.id).where(users.c.username == login)).first() \
            is not None or conn.execute(sa.select(directory_accounts.c.user_id).where(
                directory_accounts.c.directory_id == directory_id,
                directory_accounts.c.external_id == user.external_id)).first() is not None:
        return None
    now = utcnow()
    user_id = int(conn.execute(users.insert().values(
        username=login, display_name=user.display_name[:200], role=found.role,
        email=user.mail, password_hash=None, active=True, created_at=now,
        updated_at=now)).inserted_primary_key[0])
    conn.execute(directory_accounts.insert().values(
        user_id=user_id, directory_id=directory_id, external_id=user.external_id,
        dn=user.dn, phone=user.phone, department=user.department, manager_dn=user.manager_dn,
        manager_id=None, synced_at=now))
    existing = set(conn.execute(sa.select(groups.c.id).where(
        groups.c.id.in_(sorted(found.group_ids)))).scalars()) if found.group_ids else set()
    for group_id in sorted(existing):
        conn.execute(directory_memberships.insert().values(
            directory_id=directory_id, user_id=user_id, group_id=group_id))
        conn.execute(group_members.insert().values(group_id=group_id, user_id=user_id))
    user_store.record(conn, actor_id=None, action="directory.user_created",
                      target_type="user", target_id=user_id, now=now, username=login,
                      role=found.role, group_ids=sorted(existing), source="sign_in",
                      directory_id=directory_id)
    return user_id


async def sign_in_new(request: web.Request, login: str, password: str) -> int | None:
    """Sign in a directory user who has no account yet and create it; return its id, or
    None when no directory that allows it knows the login.

    Raises:
        Unauthorized: wrong password (invalid_credentials).
        Forbidden: the directory account is disabled or locked.
        ServiceUnavailable: no directory that allows it could be reached.
        TooManyRequests: the login throttle says wait.
    """
    app = request.app
    db = app[DATABASE]
    rows = await db.read(lambda c: c.execute(sa.select(directories).where(
        directories.c.enabled.is_(True), directories.c.create_on_sign_in.is_(True))
        .order_by(directories.c.id)).all())
    if not rows or not user_store.USERNAME_RE.fullmatch(login):
        return None
    throttle = app[LOGIN_THROTTLE]
    attempt = guard.attempt_for(request, login, None)
    if throttle.retry_after(attempt) > 0:
        return None  # the local path answers 429 with its wait
    throttle.begin(attempt)
    unreachable = False
    for row in rows:
        cfg = client.Config.from_row(row)
        try:
            found = await asyncio.get_running_loop().run_in_executor(
                _ldap_threads, _check, cfg, login, password)
        except (client.DirectoryError, client.LdapFailure) as exc:
            log.warning("directory %r: first sign-in of %r not checked: %s", row.name,
                        login, exc)
            unreachable = True
            continue
        if found.outcome == "gone":
            continue
        if found.outcome == "ok":
            user_id = await db.write(functools.partial(_create, directory_id=row.id,
                                                       login=login, found=found))
            if user_id is None:
                break
            throttle.succeeded(attempt)
            log.info("directory %r: created %r on first sign-in", row.name, login)
            return user_id
        app[METRICS].auth_failures.labels("password").inc()
        await db.write(functools.partial(
            user_store.record, actor_id=None, action="auth.login_failed", target_type="user",
            target_id=None, now=utcnow(), username=login, ip=request[CLIENT_IP],
            directory=row.name, reason=found.outcome))
        if found.outcome == "disabled":
            raise Forbidden("your directory account is disabled or locked; ask your IT team",
                            code="directory_account_disabled")
        raise Unauthorized("wrong user name or password", code="invalid_credentials")
    # Refund only (never wipe a trusted device's slate): the local check that follows
    # counts this attempt.
    throttle.succeeded(dataclasses.replace(attempt, device=None))
    if unreachable:
        raise ServiceUnavailable("the directory cannot be reached; try again later, or ask "
                                 "an administrator", code="directory_unavailable")
    return None


