"""SQL for users, groups and the audit log (functions over a Connection)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold, with_key
from server.db.schema import audit_events, group_members, groups, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.users.schemas import USERNAME_PATTERN, Group, User

USERNAME_RE = re.compile(USERNAME_PATTERN)
# The server's own accounts: system:<name> (health monitoring) and unknown:<device uid>
# (a device's unknown user); the ":" keeps them outside every user-name pattern.
SYSTEM_USERNAME_RE = re.compile(r"(system|unknown):[a-z0-9][a-z0-9._-]{0,56}")


def is_system_username(username: str) -> bool:
    """Tell whether a user name is the server's own account (health monitoring, a device's
    unknown user): their ':' is outside every user-name pattern, so no person has one.

    Nobody logs in as such an account and it receives no mail.
    """
    return ":" in username


def record(conn: Connection, *, actor_id: int | None, action: str, target_type: str,
           target_id: int | None, now: dt.datetime, **detail: Any) -> None:
    """Append one event to the audit log."""
    conn.execute(audit_events.insert().values(
        at=now, actor_id=actor_id, action=action, target_type=target_type,
        target_id=target_id, detail=detail,
    ))


# Hot statements built once, with bind parameters: building a statement costs more CPU
# than running it (SQLAlchemy then finds the compiled form in its cache by the key).
_GROUP_IDS = (sa.select(group_members.c.user_id, group_members.c.group_id)
              .where(group_members.c.user_id.in_(sa.bindparam("user_ids", expanding=True)))
              .order_by(group_members.c.group_id))
_ONE_USER = sa.select(users).where(users.c.id == sa.bindparam("user_id"))


def _group_ids(conn: Connection, user_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if user_ids:
        for user_id, group_id in conn.execute(_GROUP_IDS, {"user_ids": user_ids}):
            found[user_id].append(group_id)
    return found


def _user(row: Any, group_ids: list[int]) -> User:
    return User(id=row.id, username=row.username, display_name=row.display_name,
                email=row.email, role=row.role, active=row.active, group_ids=group_ids,
                created_at=row.created_at, time_zone=row.time_zone, language=row.language)


_user_pages: dict[tuple[bool, ...], sa.Select[Any]] = {}


def _user_page(group: bool, ids: bool, role: bool, active: bool, q: bool) -> sa.Select[Any]:
    """Return the page query for this combination of filters, built once per combination."""
    key = (group, ids, role, active, q)
    query = _user_pages.get(key)
    if query is not None:
        return query
    query = (sa.select(users).where(users.c.id > sa.bindparam("after"))
             .order_by(users.c.id).limit(sa.bindparam("limit")))
    if group:
        query = query.where(users.c.id.in_(sa.select(group_members.c.user_id).where(
            group_members.c.group_id == sa.bindparam("group_id"))))
    if ids:
        query = query.where(users.c.id.in_(sa.bindparam("ids", expanding=True)))
    if role:
        query = query.where(users.c.role == sa.bindparam("role"))
    if active:
        query = query.where(users.c.active == sa.bindparam("active"))
    if q:
        pattern: sa.BindParameter[str] = sa.bindparam("pattern")
        query = query.where(sa.or_(
            sa.func.lower(users.c.username).like(pattern, escape="\\"),
            sa.func.lower(users.c.display_name).like(pattern, escape="\\"),
            sa.func.lower(users.c.email).like(pattern, escape="\\"),
        ))
    _user_pages[key] = query
    return query


def list_users(conn: Connection, *, after: int, limit: int, role: str | None = None,
               q: str | None = None, active: bool | None = None,
               group_id: int | None = None, ids: list[int] | None = None) -> list[User]:
    """Return up to ``limit`` users with id greater than ``after``."""
    query = _user_page(group_id is not None, ids is not None, role is not None,
                       active is not None, bool(q))
    params: dict[str, Any] = {"after": after, "limit": limit, "group_id": group_id,
                              "ids": ids, "role": role, "active": active}
    if q:
        params["pattern"] = "%" + q.lower().replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(query, {k: v for k, v in params.items() if v is not None}).all()
    memberships = _group_ids(conn, [r.id for r in rows])
    return [_user(r, memberships[r.id]) for r in rows]


def get_user(conn: Connection, user_id: int) -> User:
    """Return one user.

    Raises:
        NotFound: no such user.
    """
    row = conn.execute(_ONE_USER, {"user_id": user_id}).one_or_none()
    if row is None:
        raise NotFound("no user with id {user_id}", user_id=user_id)
    return _user(row, _group_ids(conn, [user_id])[user_id])


def find_login(conn: Connection, username: str) -> Any:
    """Return (id, password_hash, active, role) of a user name, or None."""
    return conn.execute(
        sa.select(users.c.id, users.c.password_hash, users.c.active, users.c.role)
        .where(users.c.username == username)
    ).one_or_none()


def find_login_by_id(conn: Connection, user_id: int) -> Any:
    """Return (id, username, password_hash, active) of a user id, or None."""
    return conn.execute(
        sa.select(users.c.id, users.c.username, users.c.password_hash, users.c.active)
        .where(users.c.id == user_id)
    ).one_or_none()


def count_users(conn: Connection) -> int:
    """Return how many users exist."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


def create_user(conn: Connection, *, username: str, display_name: str, role: str,
                email: str | None, password_hash: str | None, now: dt.datetime,
                system: bool = False) -> int:
    """Insert a user and return its id.

    Raises:
        ValidationFailed: the user name breaks the rules (lower case, so that user names
            are unique case-insensitively; whoever creates the user: API, CLI, sync).
            ``system`` accounts (the server's own, e.g. health monitoring) are named
            "system:<name>", which no person's name can be.
        Conflict: the user name is taken.
    """
    if system:
        if not SYSTEM_USERNAME_RE.fullmatch(username):
            raise ValueError(f"system account name {username!r} is neither system:<name> "
                             "nor unknown:<device uid>")
    elif not USERNAME_RE.fullmatch(username):
        raise ValidationFailed("user name {username!r} must be lower-case letters, digits "
                               "and . _ @ - (starting with a letter or digit)", username=username)
    exists = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
    if exists is not None:
        raise Conflict("user name {username!r} is taken", username=username)
    result = conn.execute(users.insert().values(
        username=username, display_name=display_name, role=role, email=email,
        password_hash=password_hash, active=True, created_at=now, updated_at=now,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_user(conn: Connection, user_id: int, values: dict[str, Any],
                now: dt.datetime) -> None:
    """Change stored fields of a user.

    Raises:
        NotFound: no such user.
    """
    result = conn.execute(users.update().where(users.c.id == user_id)
                          .values(**values, updated_at=now))
    if result.rowcount == 0:
        raise NotFound("no user with id {user_id}", user_id=user_id)


def count_active_admins(conn: Connection) -> int:
    """Return how many active admins exist (the last one may not be removed)."""
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(users)
        .where(users.c.role == "admin", users.c.active.is_(True))
    ).scalar_one())


def _members(conn: Connection, group_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if group_ids:
        rows = conn.execute(
            sa.select(group_members.c.group_id, group_members.c.user_id)
            .where(group_members.c.group_id.in_(group_ids))
            .order_by(group_members.c.user_id)
        )
        for group_id, user_id in rows:
            found[group_id].append(user_id)
    return found


def _group(row: Any, member_ids: list[int]) -> Group:
    return Group(id=row.id, name=row.name, description=row.description,
                 member_ids=member_ids, auto_assign=row.auto_assign, manager_id=row.manager_id,
                 created_at=row.created_at)


def list_groups(conn: Connection, *, after: int, limit: int) -> list[Group]:
    """Return up to ``limit`` groups with id greater than ``after``."""
    rows = conn.execute(
        sa.select(groups).where(groups.c.id > after).order_by(groups.c.id).limit(limit)
    ).all()
    members = _members(conn, [r.id for r in rows])
    return [_group(r, members[r.id]) for r in rows]


def get_group(conn: Connection, group_id: int) -> Group:
    """Return one group.

    Raises:
        NotFound: no such group.
    """
    row = conn.execute(sa.select(groups).where(groups.c.id == group_id)).one_or_none()
    if row is None:
        raise NotFound("no group with id {group_id}", group_id=group_id)
    return _group(row, _members(conn, [group_id])[group_id])


def _name_taken(conn: Connection, name: str, except_id: int | None = None) -> bool:
    query = sa.select(groups.c.id).where(groups.c.name_key == fold(name))
    if except_id is not None:
        query = query.where(groups.c.id != except_id)
    return conn.execute(query).first() is not None


def create_group(conn: Connection, *, name: str, description: str, now: dt.datetime,
                 auto_assign: str = "none") -> int:
    """Insert a group and return its id.

    Raises:
        Conflict: the name is taken (compared case-folded, see server.db.names).
    """
    if _name_taken(conn, name):
        raise Conflict("group name {name!r} is taken", name=name)
    result = conn.execute(groups.insert().values(name=name, description=description,
                                                 auto_assign=auto_assign, created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_group(conn: Connection, group_id: int, values: dict[str, Any]) -> None:
    """Change a group's name or description.

    Raises:
        NotFound: no such group.
        ValidationFailed: the manager is not an active user.
        Conflict: the new name is taken.
    """
    get_group(conn, group_id)
    manager_id = values.get("manager_id")
    if manager_id is not None and conn.execute(sa.select(users.c.id).where(
            users.c.id == manager_id, users.c.active.is_(True))).first() is None:
        # The manager approves the group's requests: someone who can log in.
        raise ValidationFailed("manager_id: no active user with id {manager_id}",
                               manager_id=manager_id)
    if "name" in values and _name_taken(conn, values["name"], except_id=group_id):
        raise Conflict("group name {name!r} is taken", name=values['name'])
    if values:
        conn.execute(groups.update().where(groups.c.id == group_id).values(**with_key(values)))


def delete_group(conn: Connection, group_id: int) -> None:
    """Delete a group (memberships go with it).

    Raises:
        NotFound: no such group.
    """
    if conn.execute(groups.delete().where(groups.c.id == group_id)).rowcount == 0:
        raise NotFound("no group with id {group_id}", group_id=group_id)


def add_member(conn: Connection, group_id: int, user_id: int) -> bool:
    """Add a user to a group; return False if already a member.

    Raises:
        NotFound: no such group or user.
    """
    get_group(conn, group_id)
    get_user(conn, user_id)
    exists = conn.execute(sa.select(group_members.c.user_id).where(
        group_members.c.group_id == group_id, group_members.c.user_id == user_id)).first()
    if exists is not None:
        return False
    conn.execute(group_members.insert().values(group_id=group_id, user_id=user_id))
    return True


def remove_member(conn: Connection, group_id: int, user_id: int) -> None:
    """Remove a user from a group.

    Raises:
        NotFound: the user is not a member of that group.
    """
    result = conn.execute(group_members.delete().where(
        group_members.c.group_id == group_id, group_members.c.user_id == user_id))
    if result.rowcount == 0:
        raise NotFound("user {user_id} is not a member of group {group_id}", user_id=user_id,
                       group_id=group_id)
