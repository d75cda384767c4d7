"""What a sync changes: directory entries against stored accounts (pure).

Nested groups are resolved here when the directory cannot (OpenLDAP has no in-chain
matching rule): a group's members are its user DNs plus, transitively, the members of
every group it contains (cycles are harmless). A user's role is the highest role of the
mappings of the groups they are in, else the directory's default role; their Deskmate
groups are those mapped from their groups. Only memberships a directory gave are ever
removed by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.directory.client import DirectoryUser
from server.users.store import USERNAME_RE

RANK = {"requester": 0, "technician": 1, "admin": 2}


def expand_groups(groups: Mapping[str, set[str]], wanted: Iterable[str]) -> dict[str, set[str]]:
    """Return, for each wanted group DN, every non-group member DN at any depth."""
    out: dict[str, set[str]] = {}
    for top in wanted:
        stack, visited, members = [top], {top}, set()
        while stack:
            for member in groups.get(stack.pop(), set()):
                if member in groups:
                    if member not in visited:
                        visited.add(member)
                        stack.append(member)
                else:
                    members.add(member)
        out[top] = members
    return out


@dataclass(frozen=True)
class Stored:
    """A directory account as stored: the user and their directory attributes."""

    user_id: int
    external_id: str
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    dn: str
    phone: str | None
    department: str | None
    manager_dn: str | None


@dataclass
class Plan:
    """The changes of one sync."""

    create: list[tuple[DirectoryUser, str]] = field(default_factory=list)  # (user, role)
    update: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list)  # (user id, username, user values, account values)
    deactivate: list[tuple[int, str]] = field(default_factory=list)
    reactivate: list[tuple[int, str]] = field(default_factory=list)
    groups_wanted: dict[str, set[int]] = field(default_factory=dict)  # external id -> ids
    skipped: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.deactivate or self.reactivate)


def memberships(users: Iterable[DirectoryUser], expanded: Mapping[str, set[str]],
                mappings: list[dict[str, Any]], default_role: str,
                in_chain: Mapping[str, set[str]] | None = None
                ) -> dict[str, tuple[str, set[int]]]:
    """Return, per user DN (lower case), their role and mapped Deskmate group ids."""
    found: dict[str, tuple[str, set[int]]] = {}
    for user in users:
        found[user.dn.lower()] = (default_role, set())
    for mapping in mappings:
        group = str(mapping["group_dn"]).lower()
        members = (in_chain or {}).get(group) if in_chain is not None \
            else expanded.get(group, set())
        for dn in members or set():
            if dn not in found:
                continue
            role, ids = found[dn]
            if mapping.get("role") and RANK[mapping["role"]] > RANK[role]:
                role = mapping["role"]
            if mapping.get("deskmate_group_id") is not None:
                ids = ids | {int(mapping["deskmate_group_id"])}
            found[dn] = (role, ids)
    return found


def plan(users: list[DirectoryUser], disabled: set[str], stored: list[Stored],
         granted: Mapping[str, tuple[str, set[int]]], taken: set[str]) -> Plan:
    """Return the changes that bring stored accounts in line with the directory.

    ``taken`` holds user names of accounts that are not this directory's (a local user
    or another directory's): such an entry is skipped, never merged into that account.
    """
    result = Plan()
    by_id = {s.external_id: s for s in stored}
    seen: set[str] = set()
    for user in users:
        if user.external_id in seen:
            result.skipped.append(f"{user.dn}: duplicate id {user.external_id!r}")
            continue
        seen.add(user.external_id)
        is_disabled = user.dn.lower() in disabled
        role, ids = granted.get(user.dn.lower(), ("requester", set()))
        old = by_id.get(user.external_id)
        if old is None:
            if is_disabled:
                continue
            if not USERNAME_RE.fullmatch(user.login):
                result.skipped.append(f"{user.dn}: login {user.login!r} is not a valid "
                                      "user name")
                continue
            if user.login in taken:
                result.skipped.append(f"{user.dn}: user name {user.login!r} belongs to "
                                      "another account")
                continue
            result.create.append((user, role))
            result.groups_wanted[user.external_id] = ids
            continue
        result.groups_wanted[user.external_id] = ids
        if is_disabled:
            if old.active:
                result.deactivate.append((old.user_id, old.username))
            continue
        if not old.active:
            result.reactivate.append((old.user_id, old.username))
        values: dict[str, Any] = {}
        if user.display_name[:200] != old.display_name:
            values["display_name"] = user.display_name[:200]
        if user.mail != old.email:
            values["email"] = user.mail
        if role != old.role:
            values["role"] = role
        if (user.login != old.username and USERNAME_RE.fullmatch(user.login)
                and user.login not in taken):
            values["username"] = user.login
        account: dict[str, Any] = {}
        for name, new, before in (("dn", user.dn, old.dn), ("phone", user.phone, old.phone),
                                  ("department", user.department, old.department),
                                  ("manager_dn", user.manager_dn, old.manager_dn)):
            if new != before:
                account[name] = new
        if values or account:
            result.update.append((old.user_id, old.username, values, account))
    for old in stored:
        if old.external_id not in seen and old.active:
            result.deactivate.append((old.user_id, old.username))
    return result
