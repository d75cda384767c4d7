"""The ``users`` section: who is logged in, one entry per login name, from utmp.

Sessions (terminal, remote host, start time) are left out: they come and go all day
and would make the section change at every login, which is not an inventory change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psutil


def users_section(logins: Iterable[str]) -> list[dict[str, str]]:
    """Return GLPI ``users`` entries for login names, deduplicated and sorted."""
    return [{"login": login} for login in sorted({name for name in logins if name})]


def collect_users() -> list[dict[str, Any]]:
    """Collect the ``users`` section of this machine."""
    return list(users_section(session.name for session in psutil.users()))
