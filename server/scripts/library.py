"""SQL of the script library: scripts, their versions, approvals, and script policies.

Editing a script adds a version; nothing is rewritten, so a run names exactly the text it
ran. A version is approved by an admin other than its author (checked in the views).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold
from server.db.schema import groups, users
from server.errors import Conflict, NotFound
from server.scripts.params import Parameter
from server.scripts.schemas import Script, ScriptSummary, ScriptVersion, ScriptWrite
from server.scripts.tables import script_policies, script_versions, scripts
from server.tickets.schemas import UserRef


def _name_taken(conn: Connection, name: str, script_id: int | None) -> bool:
    # Names compare as people read them (server/db/names.py); a library stays small.
    key = fold(name)
    return any(fold(r.name) == key for r in conn.execute(sa.select(scripts.c.id, scripts.c.name))
               if r.id != script_id)


def _add_version(conn: Connection, script_id: int, body: ScriptWrite, *, author_id: int,
                 now: dt.datetime) -> int:
    latest = conn.execute(sa.select(sa.func.max(script_versions.c.version))
                          .where(script_versions.c.script_id == script_id)).scalar()
    version = int(latest or 0) + 1
    conn.execute(script_versions.insert().values(
        script_id=script_id, version=version, description=body.description,
        language=body.language, body=body.body,
        parameters=msgspec.to_builtins(body.parameters), timeout_seconds=body.timeout_seconds,
        author_id=author_id, created_at=now))
    return version


def create(conn: Connection, body: ScriptWrite, *, author_id: int, now: dt.datetime) -> int:
    """Store a new script with its first version; return its id.

    Raises:
        Conflict: the name is taken.
    """
    if _name_taken(conn, body.name, None):
        raise Conflict("a script named {name!r} exists already", code="name_taken",
                       name=body.name)
    script_id = int(conn.execute(scripts.insert().values(
        name=body.name, created_by=author_id, created_at=now, updated_at=now))
        .inserted_primary_key[0])  # type: ignore[index]
    _add_version(conn, script_id, body, author_id=author_id, now=now)
    return script_id


def update(conn: Connection, script_id: int, body: ScriptWrite, *, author_id: int,
           now: dt.datetime) -> int:
    """Add a new version (and rename); return the new version's number.

    Raises:
        NotFound: no such script.
        Conflict: the name is taken by another script.
    """
    get_row(conn, script_id)
    if _name_taken(conn, body.name, script_id):
        raise Conflict("a script named {name!r} exists already", code="name_taken",
                       name=body.name)
    conn.execute(scripts.update().where(scripts.c.id == script_id)
                 .values(name=body.name, updated_at=now))
    return _add_version(conn, script_id, body, author_id=author_id, now=now)


def get_row(conn: Connection, script_id: int) -> Any:
    """Return a script's row.

    Raises:
        NotFound: no such script.
    """
    row = conn.execute(sa.select(scripts).where(scripts.c.id == script_id)).one_or_none()
    if row is None:
        raise NotFound("no script with id {script_id}", script_id=script_id)
    return row


def version_row(conn: Connection, script_id: int, version: int) -> Any:
    """Return one version's row (with the script's name).

    Raises:
        NotFound: no such script or version.
    """
    row = conn.execute(
        sa.select(script_versions, scripts.c.name)
        .join(scripts, scripts.c.id == script_versions.c.script_id)
        .where(script_versions.c.script_id == script_id,
               script_versions.c.version == version)).one_or_none()
    if row is None:
        get_row(conn, script_id)
        raise NotFound("script {script_id} has no version {version}", script_id=script_id,
                       version=version)
    return row


def latest_approved(conn: Connection, script_id: int) -> int | None:
    """Return the newest approved version's number, or None."""
    value = conn.execute(sa.select(sa.func.max(script_versions.c.version)).where(
        script_versions.c.script_id == script_id,
        script_versions.c.approved_at.is_not(None))).scalar()
    return int(value) if value is not None else None


def approve(conn: Connection, script_id: int, version: int, *, admin_id: int,
            now: dt.datetime) -> None:
    """Mark a version approved (already approved: nothing changes)."""
    row = version_row(conn, script_id, version)
    if row.approved_at is None:
        conn.execute(script_versions.update().where(script_versions.c.id == row.id)
                     .values(approved_by=admin_id, approved_at=now))


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r.id: r.display_name for r in conn.execute(
        sa.select(users.c.id, users.c.display_name).where(users.c.id.in_(ids)))}


def _ref(names: dict[int, str], user_id: int | None) -> UserRef | None:
    if user_id is None:
        return None
    return UserRef(id=user_id, display_name=names.get(user_id, ""))


def _summary_of(row: Any, versions: list[Any]) -> dict[str, Any]:
    newest = versions[0]
    approved = [v.version for v in versions if v.approved_at is not None]
    return {"id": row.id, "name": row.name, "description": newest.description,
            "language": newest.language, "latest_version": newest.version,
            "approved_version": max(approved) if approved else None,
            "pending_review": newest.approved_at is None, "updated_at": row.updated_at}


def _versions(conn: Connection, script_ids: list[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in script_ids}
    if script_ids:
        for v in conn.execute(sa.select(script_versions)
                              .where(script_versions.c.script_id.in_(script_ids))
                              .order_by(script_versions.c.version.desc())):
            out[v.script_id].append(v)
    return out


def list_scripts(conn: Connection) -> list[ScriptSummary]:
    """Return the library, by name."""
    rows = list(conn.execute(sa.select(scripts).order_by(sa.func.lower(scripts.c.name))))
    versions = _versions(conn, [r.id for r in rows])
    return [ScriptSummary(**_summary_of(r, versions[r.id])) for r in rows if versions[r.id]]


def get_script(conn: Connection, script_id: int) -> Script:
    """Return a script with all its versions.

    Raises:
        NotFound: no such script.
    """
    row = get_row(conn, script_id)
    versions = _versions(conn, [script_id])[script_id]
    names = _names(conn, {i for v in versions for i in (v.author_id, v.approved_by)
                          if i is not None})
    return Script(**_summary_of(row, versions), versions=[ScriptVersion(
        version=v.version, description=v.description, language=v.language, body=v.body,
        parameters=msgspec.convert(v.parameters, list[Parameter]),
        timeout_seconds=v.timeout_seconds, author=_ref(names, v.author_id),
        created_at=v.created_at, approved=v.approved_at is not None,
        approved_by=_ref(names, v.approved_by), approved_at=v.approved_at)
        for v in versions])


def root_allowed(conn: Connection, group_id: int | None) -> bool:
    """Tell whether scripts may run as root on a group's devices (no group: no)."""
    if group_id is None:
        return False
    value = conn.execute(sa.select(script_policies.c.run_as_root)
                         .where(script_policies.c.group_id == group_id)).scalar()
    return bool(value)


def get_policy(conn: Connection, group_id: int) -> bool:
    """Return a group's run_as_root.

    Raises:
        NotFound: no such group.
    """
    if conn.execute(sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise NotFound("no group with id {group_id}", group_id=group_id)
    return root_allowed(conn, group_id)


def set_policy(conn: Connection, group_id: int, *, run_as_root: bool, actor_id: int,
               now: dt.datetime) -> None:
    """Store a group's script policy.

    Raises:
        NotFound: no such group.
    """
    get_policy(conn, group_id)
    conn.execute(script_policies.delete().where(script_policies.c.group_id == group_id))
    conn.execute(script_policies.insert().values(group_id=group_id, run_as_root=run_as_root,
                                                 updated_at=now, updated_by=actor_id))
