"""One sync of a directory: read it (on an LDAP thread), plan, and write the changes.

A preview reads and plans the same way and writes nothing. A sync that finds nothing to
change writes nothing either (not even its own status: the last run is kept in memory
for the console, and written only with changes or a failure). A directory that returns
no users at all while accounts exist is taken for a misconfigured filter: nobody is
deactivated then.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.db.schema import utcnow
from server.directory import client, plan, store
from server.directory.schemas import SyncReport, UserChange
from server.directory.signin import _ldap_threads
from server.directory.tables import directories
from server.keys import DATABASE
from server.users import store as user_store

log = logging.getLogger("deskmate.directory")
CHANGES_SHOWN = 500  # a preview lists at most this many user changes


@dataclass(frozen=True)
class Snapshot:
    """What the directory holds, as read for one sync."""

    users: list[client.DirectoryUser]
    disabled: set[str]
    granted: dict[str, tuple[str, set[int]]]
    groups_seen: int
    skipped: list[str]


def granted_for(conn: Any, cfg: client.Config, found: list[client.DirectoryUser]
                ) -> tuple[dict[str, tuple[str, set[int]]], int]:
    """Return the role and mapped groups of each user (by DN) and how many groups were
    read (blocking)."""
    mapped = [str(m["group_dn"]).lower() for m in cfg.group_mappings]
    in_chain = None
    groups_seen = 0
    expanded: dict[str, set[str]] = {}
    if cfg.nested_groups == "in_chain":
        in_chain = {dn: client.in_chain_members(conn, cfg, dn) for dn in mapped}
        groups_seen = len(mapped)
    else:
        all_groups = client.groups(conn, cfg)
        groups_seen = len(all_groups)
        if cfg.nested_groups == "off":
            expanded = {dn: {m for m in all_groups.get(dn, set()) if m not in all_groups}
                        for dn in mapped}
        else:
            expanded = plan.expand_groups(all_groups, mapped)
    return plan.memberships(found, expanded, cfg.group_mappings, cfg.default_role,
                            in_chain), groups_seen


def read_directory(cfg: client.Config) -> Snapshot:
    """Read users, disabled users and group memberships (blocking)."""
    conn = client.service_connection(cfg)
    try:
        found, disabled, skipped = client.users(conn, cfg)
        granted, groups_seen = granted_for(conn, cfg, found)
    finally:
        conn.unbind()
    return Snapshot(users=found, disabled=disabled, granted=granted,
                    groups_seen=groups_seen, skipped=skipped)


def _report(change: plan.Plan, snap: Snapshot, counts: dict[str, int], *,
            preview: bool) -> SyncReport:
    changes = ([UserChange(username=u.login, action="create") for u, _r in change.create]
               + [UserChange(username=name, action="update",
                             fields=sorted(values) + sorted(account))
                  for _i, name, values, account in change.update]
               + [UserChange(username=name, action="deactivate")
                  for _i, name in change.deactivate]
               + [UserChange(username=name, action="reactivate")
                  for _i, name in change.reactivate])
    return SyncReport(preview=preview, users_seen=len(snap.users), groups_seen=snap.groups_seen,
                      created=len(change.create), updated=len(change.update),
                      deactivated=len(change.deactivate), reactivated=len(change.reactivate),
                      memberships_added=counts.get("memberships_added", 0),
                      memberships_removed=counts.get("memberships_removed", 0),
                      writes=counts.get("writes", 0), changes=changes[:CHANGES_SHOWN],
                      skipped=(snap.skipped + change.skipped)[:CHANGES_SHOWN])


async def run(app: web.Application, directory_id: int, *, preview: bool,
              actor_id: int | None) -> SyncReport:
    """Sync (or preview) one directory and return what changed.

    Raises:
        client.DirectoryError: the directory could not be read.
    """
    db = app[DATABASE]
    row = await db.read(lambda c: store.get_row(c, directory_id))
    cfg = client.Config.from_row(row)
    try:
        snap = await asyncio.get_running_loop().run_in_executor(
            _ldap_threads, read_directory, cfg)
    except (client.DirectoryError, client.LdapFailure) as exc:
        error = f"directory {row.name!r}: {exc}" if isinstance(exc, client.LdapFailure) \
            else str(exc)
        if not preview:
            await db.write(lambda c: _failed(c, directory_id, error, actor_id))
        raise client.DirectoryError(error) from exc

    def decide(conn: Any) -> plan.Plan:
        stored = store.stored_accounts(conn, directory_id)
        change = plan.plan(snap.users, snap.disabled, stored, snap.granted,
                           store.taken_usernames(conn, directory_id))
        if not snap.users and stored:
            change.deactivate.clear()
            change.skipped.append("the directory returned no users: nobody was deactivated "
                                  "(check user_base and user_filter)")
        return change

    if preview:
        change = await db.read(decide)
        wanted = _membership_delta(await db.read(
            lambda c: store.directory_groups(c, directory_id)), change, await db.read(
            lambda c: store.stored_accounts(c, directory_id)))
        return _report(change, snap, wanted, preview=True)

    def write(conn: Any) -> tuple[plan.Plan, dict[str, int]]:
        change = decide(conn)
        now = utcnow()
        with conn.begin_nested():
            counts = store.apply(conn, directory_id, change, now=now, actor_id=actor_id)
        if counts["writes"]:
            conn.execute(directories.update().where(directories.c.id == directory_id).values(
                last_sync_at=now, last_sync={"ok": True, **counts}))
            user_store.record(conn, actor_id=actor_id, action="directory.sync",
                              target_type="directory", target_id=directory_id, now=now,
                              users_seen=len(snap.users), **counts)
        return change, counts

    change, counts = await db.write(write)
    log.info("directory %r synced: %s", row.name, counts)
    return _report(change, snap, counts, preview=False)


def _membership_delta(have: set[tuple[int, int]], change: plan.Plan,
                      stored: list[plan.Stored]) -> dict[str, int]:
    """Count the memberships a preview's sync would add and remove (existing users)."""
    by_external = {s.external_id: s.user_id for s in stored}
    want = {(by_external[ext], gid) for ext, gids in change.groups_wanted.items()
            if ext in by_external for gid in gids}
    added = len(want - have) + sum(len(change.groups_wanted.get(u.external_id, set()))
                                   for u, _r in change.create)
    return {"memberships_added": added, "memberships_removed": len(have - want)}


def _failed(conn: Any, directory_id: int, error: str, actor_id: int | None) -> None:
    now = utcnow()
    conn.execute(directories.update().where(directories.c.id == directory_id).values(
        last_sync_at=now, last_sync={"ok": False, "error": error[:500]}))
    user_store.record(conn, actor_id=actor_id, action="directory.sync_failed",
                      target_type="directory", target_id=directory_id, now=now,
                      error=error[:500])
