"""SQL of the directory package: directories, the accounts they give, applying a sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth import credentials
from server.db.schema import group_members, groups, users
from server.directory.plan import Plan, Stored
from server.directory.schemas import Directory, DirectoryBody
from server.directory.tables import directories, directory_accounts, directory_memberships
from server.errors import Conflict, NotFound, ValidationFailed
from server.users import store as user_store


def _shown(row: Any) -> Directory:
    values = {name: getattr(row, name) for name in Directory.__struct_fields__
              if name != "bind_password_set"}
    return msgspec.convert({**values, "bind_password_set": bool(row.bind_password)},
                           Directory, from_attributes=True)


def list_directories(conn: Connection) -> list[Directory]:
    """Return every directory (without bind passwords)."""
    return [_shown(r) for r in conn.execute(sa.select(directories)
                                            .order_by(directories.c.id)).all()]


def get_row(conn: Connection, directory_id: int) -> Any:
    """Return a directories row.

    Raises:
        NotFound: no such directory.
    """
    row = conn.execute(sa.select(directories).where(directories.c.id == directory_id)
                       ).one_or_none()
    if row is None:
        raise NotFound("no directory with id {directory_id}", directory_id=directory_id)
    return row


def get_directory(conn: Connection, directory_id: int) -> Directory:
    """Return one directory as the API shows it."""
    return _shown(get_row(conn, directory_id))


def _values(conn: Connection, body: DirectoryBody) -> dict[str, Any]:
    values = msgspec.to_builtins(body)
    values.pop("bind_password", None)
    for mapping in body.group_mappings:
        if mapping.deskmate_group_id is not None and conn.execute(sa.select(groups.c.id).where(
                groups.c.id == mapping.deskmate_group_id)).first() is None:
            raise ValidationFailed("group_mappings: no group with id {group_id}",
                                   group_id=mapping.deskmate_group_id)
    return dict(values)


def _name_taken(conn: Connection, name: str, except_id: int | None = None) -> bool:
    query = sa.select(directories.c.id).where(directories.c.name == name)
    if except_id is not None:
        query = query.where(directories.c.id != except_id)
    return conn.execute(query).first() is not None


def create_directory(conn: Connection, body: DirectoryBody, now: dt.datetime) -> int:
    """Insert a directory and return its id.

    Raises:
        Conflict: the name is taken.
    """
    if _name_taken(conn, body.name):
        raise Conflict("directory name {name!r} is taken", name=body.name, field="name")
    values = _values(conn, body)
    password = body.bind_password if isinstance(body.bind_password, str) else ""
    result = conn.execute(directories.insert().values(
        **values, bind_password=password, created_at=now, updated_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_directory(conn: Connection, directory_id: int, body: DirectoryBody,
                     now: dt.datetime) -> None:
    """Replace a directory's settings (the bind password only when one is given)."""
    get_row(conn, directory_id)
    if _name_taken(conn, body.name, except_id=directory_id):
        raise Conflict("directory name {name!r} is taken", name=body.name, field="name")
    values = _values(conn, body)
    if isinstance(body.bind_password, str):
        values["bind_password"] = body.bind_password
    conn.execute(directories.update().where(directories.c.id == directory_id)
                 .values(**values, updated_at=now))


def delete_directory(conn: Connection, directory_id: int) -> int:
    """Delete a directory; its users are deactivated (they could not sign in); return
    how many."""
    get_row(conn, directory_id)
    ids = list(conn.execute(sa.select(directory_accounts.c.user_id).where(
        directory_accounts.c.directory_id == directory_id)).scalars())
    for user_id in ids:
        _deactivate(conn, user_id, dt.datetime.now(dt.UTC))
    conn.execute(directories.delete().where(directories.c.id == directory_id))
    return len(ids)


def stored_accounts(conn: Connection, directory_id: int) -> list[Stored]:
    """Return the accounts a directory gave, with what the sync compares."""
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email,
                  users.c.role, users.c.active, directory_accounts)
        .join(directory_accounts, directory_accounts.c.user_id == users.c.id)
        .where(directory_accounts.c.directory_id == directory_id)).all()
    return [Stored(user_id=r.id, external_id=r.external_id, username=r.username,
                   display_name=r.display_name, email=r.email, role=r.role, active=r.active,
                   dn=r.dn, phone=r.phone, department=r.department, manager_dn=r.manager_dn)
            for r in rows]


def taken_usernames(conn: Connection, directory_id: int) -> set[str]:
    """Return user names held by accounts that are not this directory's."""
    mine = sa.select(directory_accounts.c.user_id).where(
        directory_accounts.c.directory_id == directory_id)
    return set(conn.execute(sa.select(users.c.username).where(users.c.id.not_in(mine))
                            ).scalars())


def directory_groups(conn: Connection, directory_id: int) -> set[tuple[int, int]]:
    """Return the (user id, group id) memberships this directory gave."""
    return {(r.user_id, r.group_id) for r in conn.execute(
        sa.select(directory_memberships.c.user_id, directory_memberships.c.group_id)
        .where(directory_memberships.c.directory_id == directory_id))}


def _deactivate(conn: Connection, user_id: int, now: dt.datetime) -> None:
    user_store.update_user(conn, user_id, {"active": False}, now)
    credentials.delete_user_sessions(conn, user_id)
    credentials.delete_user_tokens(conn, user_id)


def apply(conn: Connection, directory_id: int, change: Plan, *, now: dt.datetime,
          actor_id: int | None) -> dict[str, int]:
    """Write a sync's changes in one transaction; return counts (writes: rows written)."""
    counts = {"created": 0, "updated": 0, "deactivated": 0, "reactivated": 0,
              "memberships_added": 0, "memberships_removed": 0, "writes": 0}
    if change.create:
        # In bulk: a first sync of a large directory creates thousands of users.
        created = conn.execute(users.insert().returning(users.c.id, users.c.username), [
            {"username": u.login, "display_name": u.display_name[:200], "role": role,
             "email": u.mail, "password_hash": None, "active": True, "created_at": now,
             "updated_at": now} for u, role in change.create]).all()
        ids = {r.username: r.id for r in created}
        conn.execute(directory_accounts.insert(), [
            {"user_id": ids[u.login], "directory_id": directory_id,
             "external_id": u.external_id, "dn": u.dn, "phone": u.phone,
             "department": u.department, "manager_dn": u.manager_dn, "manager_id": None,
             "synced_at": now} for u, _role in change.create])
        counts["created"] = len(created)
        counts["writes"] += 2 * len(created)
    for user_id, username, values, account in change.update:
        if "username" in values and values["username"] in taken_usernames(conn, directory_id):
            values = {k: v for k, v in values.items() if k != "username"}
        if values:
            user_store.update_user(conn, user_id, values, now)
            counts["writes"] += 1
            if "role" in values:  # rights changed: sessions start over
                credentials.delete_user_sessions(conn, user_id)
        if account:
            conn.execute(directory_accounts.update().where(
                directory_accounts.c.user_id == user_id).values(**account, synced_at=now))
            counts["writes"] += 1
        counts["updated"] += 1
        user_store.record(conn, actor_id=actor_id, action="directory.user_updated",
                          target_type="user", target_id=user_id, now=now,
                          username=username, fields=sorted(values) + sorted(account))
    for user_id, username in change.deactivate:
        _deactivate(conn, user_id, now)
        counts["deactivated"] += 1
        counts["writes"] += 1
        user_store.record(conn, actor_id=actor_id, action="directory.user_deactivated",
                          target_type="user", target_id=user_id, now=now, username=username)
    for user_id, username in change.reactivate:
        user_store.update_user(conn, user_id, {"active": True}, now)
        counts["reactivated"] += 1
        counts["writes"] += 1
        user_store.record(conn, actor_id=actor_id, action="directory.user_reactivated",
                          target_type="user", target_id=user_id, now=now, username=username)
    by_external = dict(conn.execute(
        sa.select(directory_accounts.c.external_id, directory_accounts.c.user_id)
        .where(directory_accounts.c.directory_id == directory_id)).all())
    have = directory_groups(conn, directory_id)
    want = {(by_external[ext], gid) for ext, gids in change.groups_wanted.items()
            if ext in by_external for gid in gids}
    existing_groups = set(conn.execute(sa.select(groups.c.id)).scalars())
    added = sorted(m for m in want - have if m[1] in existing_groups)
    if added:
        member_of = {(r.user_id, r.group_id) for r in conn.execute(
            sa.select(group_members.c.user_id, group_members.c.group_id)
            .where(group_members.c.group_id.in_({g for _u, g in added})))}
        conn.execute(directory_memberships.insert(), [
            {"directory_id": directory_id, "user_id": u, "group_id": g} for u, g in added])
        fresh = [{"group_id": g, "user_id": u} for u, g in added if (u, g) not in member_of]
        if fresh:
            conn.execute(group_members.insert(), fresh)
        counts["memberships_added"] = len(added)
        counts["writes"] += len(added) + len(fresh)
    for user_id, group_id in sorted(have - want):
        conn.execute(directory_memberships.delete().where(
            directory_memberships.c.directory_id == directory_id,
            directory_memberships.c.user_id == user_id,
            directory_memberships.c.group_id == group_id))
        conn.execute(group_members.delete().where(group_members.c.user_id == user_id,
                                                  group_members.c.group_id == group_id))
        counts["memberships_removed"] += 1
        counts["writes"] += 1
    _link_managers(conn, directory_id, counts)
    return counts


def _link_managers(conn: Connection, directory_id: int, counts: dict[str, int]) -> None:
    """Point each account's manager_id at the account of its manager's DN."""
    rows = conn.execute(sa.select(directory_accounts.c.user_id, directory_accounts.c.dn,
                                  directory_accounts.c.manager_dn,
                                  directory_accounts.c.manager_id)
                        .where(directory_accounts.c.directory_id == directory_id)).all()
    by_dn = {r.dn.lower(): r.user_id for r in rows}
    changed = []
    for r in rows:
        wanted = by_dn.get(r.manager_dn.lower()) if r.manager_dn else None
        if wanted != r.manager_id:
            changed.append({"account": r.user_id, "manager": wanted})
    if changed:
        conn.execute(directory_accounts.update()
                     .where(directory_accounts.c.user_id == sa.bindparam("account"))
                     .values(manager_id=sa.bindparam("manager")), changed)
        counts["writes"] += len(changed)
