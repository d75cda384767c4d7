"""Who speaks through a device: the requester an OS login it reports is bound to.

A device's key lives where its user's agent runs, so anyone at the machine can sign
messages as the device and name any login. The server therefore never takes a reported
login as a person. It keeps the login *as reported* on the ticket (and in the device's
logins seen, :mod:`server.devices.logins`), and maps it to a requester only by a binding
of this device and exactly this login to an active requester, made

1. by staff, who confirm it on the device page (``source`` "staff"), or
2. by an admin's rule for the device's group, "bind the first login seen", which binds
   a login to the directory account of that name (``source`` "rule").

Otherwise the login is the device's "unknown user": a placeholder the server makes once
per device, named after the device's server-assigned id, that nobody can log in as and
that receives no mail. A user whose name merely equals the login is never the answer.

A staff account, an inactive account or a system account is never bound, and no device
message ever creates an account other than its own placeholder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import audit_events, device_bindings, devices, users
from server.errors import NotFound, ValidationFailed
from server.users import store as user_store

Source = Literal["staff", "rule"]
UNKNOWN_PREFIX = "unknown:"  # ':' is outside every user-name and login pattern


@dataclass(frozen=True)
class Binding:
    """A login on a device and the requester it is bound to (by staff or by a rule)."""

    login: str
    user_id: int
    username: str
    display_name: str
    created_at: dt.datetime
    source: Source = "staff"


def placeholder_username(device_uid: str) -> str:
    """Return the user name of a device's unknown-user placeholder."""
    return UNKNOWN_PREFIX + device_uid


def _usable(row: Any) -> bool:
    """Tell whether a user row may be a device ticket's requester."""
    return (row is not None and row.role == "requester" and bool(row.active)
            and not user_store.is_system_username(row.username))


def has_bindings(conn: Connection, device_id: int) -> bool:
    """Tell whether any login on the device is bound."""
    return conn.execute(sa.select(device_bindings.c.login)
                        .where(device_bindings.c.device_id == device_id).limit(1)).first() \
        is not None


def _query() -> sa.Select[Any]:
    return (sa.select(device_bindings.c.login, device_bindings.c.created_at,
                      device_bindings.c.source, users.c.id, users.c.username,
                      users.c.display_name, users.c.role, users.c.active)
            .join(users, users.c.id == device_bindings.c.user_id))


def _binding(row: Any) -> Binding:
    return Binding(login=row.login, user_id=row.id, username=row.username,
                   display_name=row.display_name, created_at=row.created_at,
                   source="rule" if row.source == "rule" else "staff")


def resolve(conn: Connection, device_id: int, login: str) -> Binding | None:
    """Return the binding of exactly ``login`` on the device to a usable requester, or
    None: the device's unknown user."""
    row = conn.execute(_query().where(device_bindings.c.device_id == device_id,
                                      device_bindings.c.login == login)).first()
    if row is None or not _usable(row):
        return None
    return _binding(row)


def bound_requester(conn: Connection, device_id: int, login: str) -> int | None:
    """Return the requester ``login`` on the device is bound to, or None."""
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


def languages_of(conn: Connection, device_ids: list[int]) -> dict[int, dict[str, str]]:
    """Return, per device, the language chosen by the person each login there is bound to:
    only usable requesters, and only those who chose one (None is the desktop's locale)."""
    found: dict[int, dict[str, str]] = {device_id: {} for device_id in device_ids}
    if not device_ids:
        return found
    rows = conn.execute(
        _query().add_columns(device_bindings.c.device_id, users.c.language)
        .where(device_bindings.c.device_id.in_(device_ids), users.c.language.is_not(None))
        .order_by(device_bindings.c.device_id, device_bindings.c.login))
    for r in rows:
        if _usable(r):
            found[r.device_id][r.login] = r.language
    return found


def devices_bound_to(conn: Connection, user_id: int) -> list[int]:
    """Return the devices where a login is bound to the user."""
    return [int(r.device_id) for r in conn.execute(
        sa.select(device_bindings.c.device_id).where(device_bindings.c.user_id == user_id)
        .distinct())]


def list_bindings(conn: Connection, device_id: int) -> list[Binding]:
    """Return the device's bindings, by login."""
    rows = conn.execute(_query().where(device_bindings.c.device_id == device_id)
                        .order_by(device_bindings.c.login))
    return [_binding(r) for r in rows]


def bind(conn: Connection, device_id: int, login: str, user_id: int, *,
         actor_id: int | None, now: dt.datetime, source: Source = "staff",
         group_id: int | None = None) -> Binding:
    """Bind ``login`` on the device to a requester (replacing an earlier binding); a
    rule's binding names the group whose rule made it in the audit log.

    Raises:
        NotFound: no such user.
        ValidationFailed: the user is not an active requester (``not_a_requester``).
    """
    row = conn.execute(sa.select(users.c.id, users.c.username, users.c.role, users.c.active)
                       .where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("no user with id {user_id}", user_id=user_id, field="user_id")
    if not _usable(row):
        raise ValidationFailed("user {user_id} is not an active requester; a device can "
                               "only speak for a requester", code="not_a_requester",
                               user_id=user_id, field="user_id")
    conn.execute(device_bindings.delete().where(device_bindings.c.device_id == device_id,
                                                device_bindings.c.login == login))
    conn.execute(device_bindings.insert().values(device_id=device_id, login=login,
                                                 user_id=user_id, created_by=actor_id,
                                                 created_at=now, source=source))
    detail: dict[str, Any] = {"group_id": group_id} if group_id is not None else {}
    user_store.record(conn, actor_id=actor_id, action="device.bind", target_type="device",
                      target_id=device_id, now=now, login=login, user_id=user_id,
                      source=source, **detail)
    return next(b for b in list_bindings(conn, device_id) if b.login == login)


def unbind(conn: Connection, device_id: int, login: str, *, actor_id: int | None,
           now: dt.datetime) -> None:
    """Remove the binding of ``login`` on the device.

    Raises:
        NotFound: the login is not bound on this device.
    """
    was = conn.execute(sa.select(device_bindings.c.user_id).where(
        device_bindings.c.device_id == device_id, device_bindings.c.login == login)).first()
    if was is None:
        raise NotFound("login {login!r} is not bound on device {device_id}", login=login,
                       device_id=device_id)
    conn.execute(device_bindings.delete().where(
        device_bindings.c.device_id == device_id, device_bindings.c.login == login))
    user_store.record(conn, actor_id=actor_id, action="device.unbind", target_type="device",
                      target_id=device_id, now=now, login=login, user_id=was.user_id)


def devices_of(conn: Connection, user_id: int) -> list[Any]:
    """Return the devices (not revoked) a login of which is bound to the user, by name,
    each with ``logins``: the logins bound to the user there."""
    rows = conn.execute(
        sa.select(devices.c.id, devices.c.hostname, devices.c.os_name, devices.c.os_version,
                  devices.c.last_seen_at, device_bindings.c.login)
        .join(device_bindings, device_bindings.c.device_id == devices.c.id)
        .where(device_bindings.c.user_id == user_id, devices.c.revoked_at.is_(None))
        .order_by(devices.c.hostname, devices.c.id, device_bindings.c.login)).all()
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        item = found.setdefault(r.id, {"id": r.id, "hostname": r.hostname,
                                       "os_name": r.os_name, "os_version": r.os_version,
                                       "last_seen_at": r.last_seen_at, "logins": []})
        item["logins"].append(r.login)
    return list(found.values())


def bound_to(conn: Connection, user_id: int, device_ids: list[int]) -> bool:
    """Tell whether every one of the devices has a login bound to the user."""
    mine = {r.device_id for r in conn.execute(
        sa.select(device_bindings.c.device_id).where(
            device_bindings.c.user_id == user_id,
            device_bindings.c.device_id.in_(device_ids)))}
    return mine == set(device_ids)


def history(conn: Connection, device_id: int, *, limit: int = 50) -> list[Any]:
    """Return the device's audit entries for bindings (newest first): ``at``, ``action``,
    ``detail`` and the actor's ``actor_name`` (None: a rule)."""
    actor = users.alias("actor")
    return list(conn.execute(
        sa.select(audit_events.c.id, audit_events.c.at, audit_events.c.action,
                  audit_events.c.detail, actor.c.display_name.label("actor_name"))
        .outerjoin(actor, actor.c.id == audit_events.c.actor_id)
        .where(audit_events.c.target_type == "device", audit_events.c.target_id == device_id,
               audit_events.c.action.in_(("device.bind", "device.unbind")))
        .order_by(audit_events.c.id.desc()).limit(limit)).all())


def people(conn: Connection, user_ids: list[int]) -> dict[int, Any]:
    """Return users by id (id, username, display_name), for naming them in history."""
    if not user_ids:
        return {}
    return {r.id: r for r in conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name)
        .where(users.c.id.in_(user_ids)))}
