"""Who speaks through a device: the requester an OS login it reports is bound to.

A device's key lives where its user's agent runs, so anyone at the machine can sign
messages as the device and name any login. The server therefore never takes a reported
login as a person. It keeps the login *as reported* on the ticket, and maps it to a
requester only by an explicit binding:

1. a binding made by staff for this device and exactly this login, to an active
   requester (``device_bindings``);
2. while a device has no binding at all, an active requester-role user whose user name
   is exactly the login (the interim rule until bindings come from a directory);
3. otherwise the device's "unknown user": a placeholder the server makes once per
   device, named after the device's server-assigned id, that nobody can log in as and
   that receives no mail.

A staff account, an inactive account or a system account is never the answer, and no
device message ever creates an account other than its own placeholder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import device_bindings, devices, users
from server.errors import NotFound, ValidationFailed
from server.users import store as user_store

UNKNOWN_PREFIX = "unknown:"  # ':' is outside every user-name and login pattern


@dataclass(frozen=True)
class Binding:
    """A login on a device and the requester it is (by staff's binding or by user name)."""

    login: str
    user_id: int
    username: str
    display_name: str
    created_at: dt.datetime | None  # None: found by the interim user-name rule
    source: Literal["binding", "user_name"] = "binding"


def placeholder_username(device_uid: str) -> str:
    """Return the user name of a device's unknown-user placeholder."""
    return UNKNOWN_PREFIX + device_uid


def _usable(row: Any) -> bool:
    """Tell whether a user row may be a device ticket's requester."""
    return (row is not None and row.role == "requester" and bool(row.active)
            and not user_store.is_system_username(row.username))


def _has_bindings(conn: Connection, device_id: int) -> bool:
    return conn.execute(sa.select(device_bindings.c.login)
                        .where(device_bindings.c.device_id == device_id).limit(1)).first() \
        is not None


def resolve(conn: Connection, device_id: int, login: str) -> Binding | None:
    """Return who ``login`` on the device is (rules 1 and 2), or None: the unknown user."""
    who = (users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.active)
    row = conn.execute(sa.select(*who, device_bindings.c.created_at)
                       .join(device_bindings, device_bindings.c.user_id == users.c.id)
                       .where(device_bindings.c.device_id == device_id,
                              device_bindings.c.login == login)).first()
    source: Literal["binding", "user_name"] = "binding"
    if row is None and not _has_bindings(conn, device_id):
        # Exact, case-sensitive: "Admin" is not "admin", and user names are lower-case.
        row = conn.execute(sa.select(*who, sa.null().label("created_at"))
                           .where(users.c.username == login)).first()
        source = "user_name"
    if row is None or not _usable(row):
        return None
    return Binding(login=login, user_id=row.id, username=row.username,
                   display_name=row.display_name, created_at=row.created_at, source=source)


def bound_requester(conn: Connection, device_id: int, login: str) -> int | None:
    """Return the requester ``login`` on the device is, or None (rules 1 and 2)."""
    found = resolve(conn, device_id, login)
    return found.user_id if found is not None else None


def unknown_user(conn: Connection, device_id: int, now: dt.datetime) -> int:
    """Return the device's unknown-user placeholder, creating it the first time."""
    uid = conn.execute(sa.select(devices.c.uid).where(devices.c.id == device_id)).scalar_one()
    name = placeholder_username(uid)
    found = conn.execute(sa.select(users.c.id).where(users.c.username == name)).first()
    if found is not None:
        return int(found.id)
    user_id = user_store.create_user(conn, username=name,
                                     display_name=f"Unknown user (device {uid[:8]})",
                                     role="requester", email=None, password_hash=None,
                                     now=now, system=True)
    user_store.record(conn, actor_id=None, action="user.create", target_type="user",
                      target_id=user_id, now=now, username=name, role="requester",
                      source="device_placeholder", device_id=device_id)
    return user_id


def requester_for(conn: Connection, device_id: int, login: str, now: dt.datetime) -> int:
    """Return who a ticket the device raised for ``login`` belongs to (see the module)."""
    found = bound_requester(conn, device_id, login)
    return found if found is not None else unknown_user(conn, device_id, now)


def list_bindings(conn: Connection, device_id: int) -> list[Binding]:
    """Return the device's bindings, by login."""
    rows = conn.execute(
        sa.select(device_bindings.c.login, device_bindings.c.created_at, users.c.id,
                  users.c.username, users.c.display_name)
        .join(users, users.c.id == device_bindings.c.user_id)
        .where(device_bindings.c.device_id == device_id)
        .order_by(device_bindings.c.login))
    return [Binding(login=r.login, user_id=r.id, username=r.username,
                    display_name=r.display_name, created_at=r.created_at) for r in rows]


def bind(conn: Connection, device_id: int, login: str, user_id: int, *,
         actor_id: int | None, now: dt.datetime) -> Binding:
    """Bind ``login`` on the device to a requester (replacing an earlier binding).

    Raises:
        NotFound: no such user.
        ValidationFailed: the user is not an active requester (``not_a_requester``).
    """
    row = conn.execute(sa.select(users.c.id, users.c.username, users.c.role, users.c.active)
                       .where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("no user with id {user_id}", user_id=user_id)
    if not _usable(row):
        raise ValidationFailed("user {user_id} is not an active requester; a device can "
                               "only speak for a requester", code="not_a_requester",
                               user_id=user_id)
    conn.execute(device_bindings.delete().where(device_bindings.c.device_id == device_id,
                                                device_bindings.c.login == login))
    conn.execute(device_bindings.insert().values(device_id=device_id, login=login,
                                                 user_id=user_id, created_by=actor_id,
                                                 created_at=now))
    user_store.record(conn, actor_id=actor_id, action="device.bind", target_type="device",
                      target_id=device_id, now=now, login=login, user_id=user_id)
    return next(b for b in list_bindings(conn, device_id) if b.login == login)


def unbind(conn: Connection, device_id: int, login: str, *, actor_id: int | None,
           now: dt.datetime) -> None:
    """Remove the binding of ``login`` on the device.

    Raises:
        NotFound: the login is not bound on this device.
    """
    result = conn.execute(device_bindings.delete().where(
        device_bindings.c.device_id == device_id, device_bindings.c.login == login))
    if result.rowcount == 0:
        raise NotFound("login {login!r} is not bound on device {device_id}", login=login,
                       device_id=device_id)
    user_store.record(conn, actor_id=actor_id, action="device.unbind", target_type="device",
                      target_id=device_id, now=now, login=login)
