"""SQL of the TOTP second factor and its recovery codes (functions over a Connection)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth import totp
from server.auth.tables import recovery_codes, user_totp
from server.errors import Conflict


@dataclass(frozen=True)
class FactorState:
    """Whether a user has a confirmed TOTP factor, and how many recovery codes are left."""

    enabled: bool
    confirmed_at: dt.datetime | None
    recovery_codes_left: int


def find(conn: Connection, user_id: int) -> Any:
    """Return the user's TOTP row (confirmed or pending), or None."""
    return conn.execute(sa.select(user_totp).where(user_totp.c.user_id == user_id)
                        ).one_or_none()


def has_factor(conn: Connection, user_id: int) -> bool:
    """Tell whether the user has a confirmed second factor."""
    row = find(conn, user_id)
    return row is not None and row.confirmed_at is not None


def state(conn: Connection, user_id: int) -> FactorState:
    """Return the user's second-factor state."""
    row = find(conn, user_id)
    left = conn.execute(sa.select(sa.func.count()).select_from(recovery_codes).where(
        recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))).scalar_one()
    confirmed = row.confirmed_at if row is not None else None
    return FactorState(enabled=confirmed is not None, confirmed_at=confirmed,
                       recovery_codes_left=int(left) if confirmed else 0)


def start_enrolment(conn: Connection, user_id: int, secret: str, now: dt.datetime) -> None:
    """Store a pending secret (replacing an earlier pending one).

    Raises:
        Conflict: the user has a confirmed factor already (disable it first).
    """
    row = find(conn, user_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("a second factor is set up already; turn it off first",
                       code="second_factor_enabled")
    conn.execute(user_totp.delete().where(user_totp.c.user_id == user_id))
    conn.execute(user_totp.insert().values(user_id=user_id, secret=secret, created_at=now))


def accept_step(conn: Connection, user_id: int, step: int) -> bool:
    """Record ``step`` as used; False if it (or a later one) was used meanwhile."""
    result = conn.execute(user_totp.update().where(
        user_totp.c.user_id == user_id,
        sa.or_(user_totp.c.last_step.is_(None), user_totp.c.last_step < step),
    ).values(last_step=step))
    return bool(result.rowcount)


def confirm(conn: Connection, user_id: int, step: int, now: dt.datetime) -> list[str]:
    """Confirm a pending factor with its first accepted step; return the new recovery
    codes (the only time they are known in clear)."""
    conn.execute(user_totp.update().where(user_totp.c.user_id == user_id)
                 .values(confirmed_at=now, last_step=step))
    return replace_recovery_codes(conn, user_id)


def replace_recovery_codes(conn: Connection, user_id: int) -> list[str]:
    """Replace every recovery code of the user with fresh ones; return them."""
    codes = totp.new_recovery_codes()
    conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
    conn.execute(recovery_codes.insert(), [
        {"user_id": user_id, "code_hash": totp.recovery_digest(code)} for code in codes])
    return codes


def use_recovery_code(conn: Connection, user_id: int, code: str, now: dt.datetime) -> bool:
    """Spend one unused recovery code; False if ``code`` is none of them."""
    result = conn.execute(recovery_codes.update().where(
        recovery_codes.c.user_id == user_id,
        recovery_codes.c.code_hash == totp.recovery_digest(code),
        recovery_codes.c.used_at.is_(None),
    ).values(used_at=now))
    return bool(result.rowcount)


def remove(conn: Connection, user_id: int) -> bool:
    """Remove the user's factor and recovery codes; False if there was none."""
    conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
    return bool(conn.execute(user_totp.delete().where(user_totp.c.user_id == user_id)
                             ).rowcount)
