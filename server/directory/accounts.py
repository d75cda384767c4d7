"""Which users come from a directory (they have no local password, no TOTP here, and no
password reset by e-mail: they sign in by binding to their directory)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.directory.tables import directory_accounts


def is_directory_account(conn: Connection, user_id: int) -> bool:
    """Tell whether the user's account comes from a directory."""
    return conn.execute(sa.select(directory_accounts.c.user_id).where(
        directory_accounts.c.user_id == user_id)).first() is not None
