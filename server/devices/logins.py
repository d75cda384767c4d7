"""Logins seen on a device, and the group rule "bind the first login seen".

A device reports OS logins in its inventory (``users``) and on every ticket it raises.
Each is kept as reported, with when it was first and last seen, so that staff can
confirm who it is (a binding, :mod:`server.devices.bindings`). An admin may instead let
a device group bind by rule: on a device of that group that has no binding yet, the
first login seen that is the user name of an active requester from a directory is bound
to that requester. The rule trusts the device's first word, once; later logins wait for
staff.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import device_bindings, devices, groups, users
from server.devices import bindings
from server.devices.tables import binding_rules, device_logins
from server.directory.tables import directory_accounts
from server.errors import NotFound
from server.users import store as user_store
from shared.protocol import LOGIN_PATTERN

MAX_LOGINS = 100  # per device: a device naming every login it can fills no table
_LOGIN_RE = re.compile(LOGIN_PATTERN)


@dataclass(frozen=True)
class Person:
    """A requester a login may be (the suggestion for staff, or a binding's person)."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class LoginSeen:
    """A login a device reported, who it is bound to, and who it may be."""

    login: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    binding: bindings.Binding | None
    suggested: Person | None  # an active requester with exactly this user name


def valid_login(login: str) -> bool:
    """Tell whether a reported login is one the server keeps (the protocol's pattern)."""
    return 0 < len(login) <= 64 and _LOGIN_RE.match(login) is not None


def seen(conn: Connection, device_id: int, logins: Iterable[str], now: dt.datetime) -> None:
    """Record logins the device reported now, then apply its group's binding rule."""
    wanted = sorted({x for x in logins if valid_login(x)})
    if not wanted:
        return
    known = {r.login for r in conn.execute(sa.select(device_logins.c.login).where(
        device_logins.c.device_id == device_id))}
    old = [x for x in wanted if x in known]
    if old:
        conn.execute(device_logins.update().where(
            device_logins.c.device_id == device_id,
            device_logins.c.login.in_(old)).values(last_seen_at=now))
    room = MAX_LOGINS - len(known)
    new = [x for x in wanted if x not in known][:max(room, 0)]
    if new:
        conn.execute(device_logins.insert(), [
            {"device_id": device_id, "login": x, "first_seen_at": now, "last_seen_at": now}
            for x in new])
    apply_rule(conn, device_id, now)


def _directory_requester(conn: Connection, login: str) -> Any:
    """Return the active requester from a directory whose user name is the login."""
    return conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name)
        .join(directory_accounts, directory_accounts.c.user_id == users.c.id)
        .where(users.c.username == login.lower(), users.c.role == "requester",
               users.c.active.is_(True))).first()


def apply_rule(conn: Connection, device_id: int, now: dt.datetime) -> bindings.Binding | None:
    """Bind the first login seen on a device of a group with the rule, if the device has
    no binding yet and such a login names a directory requester; return the binding."""
    group_id = conn.execute(
        sa.select(devices.c.group_id).join(binding_rules,
                                           binding_rules.c.group_id == devices.c.group_id)
        .where(devices.c.id == device_id, devices.c.revoked_at.is_(None))).scalar()
    if group_id is None or bindings.has_bindings(conn, device_id):
        return None
    for row in conn.execute(sa.select(device_logins.c.login)
                            .where(device_logins.c.device_id == device_id)
                            .order_by(device_logins.c.first_seen_at,
                                      device_logins.c.login)).all():
        person = _directory_requester(conn, row.login)
        if person is not None:
            return bindings.bind(conn, device_id, row.login, int(person.id), actor_id=None,
                                 now=now, source="rule", group_id=int(group_id))
    return None


def list_seen(conn: Connection, device_id: int) -> list[LoginSeen]:
    """Return the logins seen on the device (and any login bound there), newest first."""
    bound = {b.login: b for b in bindings.list_bindings(conn, device_id)}
    rows = conn.execute(sa.select(device_logins).where(device_logins.c.device_id == device_id)
                        .order_by(device_logins.c.last_seen_at.desc(),
                                  device_logins.c.login)).all()
    items = [(r.login, r.first_seen_at, r.last_seen_at) for r in rows]
    items += [(b.login, b.created_at, b.created_at) for b in bound.values()
              if b.login not in {r.login for r in rows}]  # bound before it was seen
    names = sorted({login.lower() for login, _f, _l in items})
    people = {r.username: Person(id=r.id, username=r.username, display_name=r.display_name)
              for r in conn.execute(sa.select(users.c.id, users.c.username,
                                              users.c.display_name)
                                    .where(users.c.username.in_(names),
                                           users.c.role == "requester",
                                           users.c.active.is_(True)))} if names else {}
    return [LoginSeen(login=login, first_seen_at=first, last_seen_at=last,
                      binding=bound.get(login), suggested=people.get(login.lower()))
            for login, first, last in items]


def has_rule(conn: Connection, group_id: int) -> bool:
    """Tell whether the group binds the first login seen on its devices.

    Raises:
        NotFound: no such group.
    """
    if conn.execute(sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise NotFound("no group with id {group_id}", group_id=group_id)
    return conn.execute(sa.select(binding_rules.c.group_id)
                        .where(binding_rules.c.group_id == group_id)).first() is not None


def set_rule(conn: Connection, group_id: int, enabled: bool, *, actor_id: int,
             now: dt.datetime) -> int:
    """Turn the group's rule on or off (audited); on, it binds the devices of the group
    that have none yet at once. Return how many devices it bound."""
    if has_rule(conn, group_id) == enabled:
        return 0
    if not enabled:
        conn.execute(binding_rules.delete().where(binding_rules.c.group_id == group_id))
        user_store.record(conn, actor_id=actor_id, action="binding_rule.set",
                          target_type="group", target_id=group_id, now=now, enabled=False)
        return 0
    conn.execute(binding_rules.insert().values(group_id=group_id, created_by=actor_id,
                                               created_at=now))
    user_store.record(conn, actor_id=actor_id, action="binding_rule.set",
                      target_type="group", target_id=group_id, now=now, enabled=True)
    unbound = conn.execute(
        sa.select(devices.c.id).where(
            devices.c.group_id == group_id, devices.c.revoked_at.is_(None),
            ~sa.exists().where(device_bindings.c.device_id == devices.c.id))
        .order_by(devices.c.id)).scalars().all()
    return sum(apply_rule(conn, device_id, now) is not None for device_id in unbound)
