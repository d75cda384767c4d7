"""SQL for site settings, and the in-memory copy the server reads them from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.siteconfig.rules import NAMES
from server.siteconfig.tables import site_settings
from server.users import store as audit


def load(conn: Connection) -> dict[str, str]:
    """Return every stored site setting by name."""
    return {r.name: r.value for r in conn.execute(sa.select(site_settings))
            if r.name in NAMES}


def save(conn: Connection, changes: Mapping[str, str | None], *, actor_id: int | None,
         now: dt.datetime, action: str) -> dict[str, str]:
    """Store (a value) or drop (None: back to the static setting) site settings; audit it.

    Returns every stored setting afterwards. Secret values never reach the audit log: it
    names the fields changed.
    """
    for name, value in changes.items():
        if name not in NAMES:
            raise ValueError(f"not a site setting: {name!r}")
        conn.execute(site_settings.delete().where(site_settings.c.name == name))
        if value is not None:
            conn.execute(site_settings.insert().values(name=name, value=value,
                                                       updated_at=now, updated_by=actor_id))
    audit.record(conn, actor_id=actor_id, action=action, target_type="site_settings",
                 target_id=None, now=now, fields=sorted(changes))
    return load(conn)


def updated(conn: Connection, names: tuple[str, ...]) -> Any:
    """Return the latest change among ``names`` (updated_at, updated_by), or None."""
    return conn.execute(sa.select(site_settings.c.updated_at, site_settings.c.updated_by)
                        .where(site_settings.c.name.in_(names))
                        .order_by(site_settings.c.updated_at.desc()).limit(1)).first()


class SiteValues:
    """The stored site settings as this server last read them (refreshed by the mail
    watcher, and at once by this server's own edits)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def replace(self, values: Mapping[str, str]) -> None:
        """Take a fresh copy of the stored settings."""
        self.values = dict(values)
