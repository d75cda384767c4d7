"""Enrollment tokens and enrolling a device (SQL over a Connection, plus pure checks)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth.credentials import digest
from server.db.schema import devices, enrollment_tokens, groups
from server.devices.schemas import EnrollmentToken
from server.errors import ApiError, NotFound, ValidationFailed
from server.i18n.messages import N_

TOKEN_PREFIX = "dme_"  # noqa: S105 - a marker, not a secret


class EnrollmentRefused(ApiError):
    """An enrollment token cannot be used; the code says why."""

    status = 403
    code = "enrollment_refused"


def token_state(row: Any, now: dt.datetime) -> str:
    """Return ``active``, ``revoked``, ``expired`` or ``used_up`` for a token row."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    if row.max_uses is not None and row.uses >= row.max_uses:
        return "used_up"
    return "active"


def to_token(row: Any, now: dt.datetime) -> EnrollmentToken:
    """Return the API view of a token row."""
    return EnrollmentToken(id=row.id, prefix=row.prefix, note=row.note, group_id=row.group_id,
                           max_uses=row.max_uses, uses=row.uses, expires_at=row.expires_at,
                           created_at=row.created_at, revoked_at=row.revoked_at,
                           state=token_state(row, now))


def create_token(conn: Connection, *, created_by: int | None, expires_at: dt.datetime,
                 max_uses: int | None, group_id: int | None, note: str,
                 now: dt.datetime) -> tuple[str, int]:
    """Store a new enrollment token; return its secret (shown once) and id.

    Raises:
        ValidationFailed: the group does not exist.
    """
    if group_id is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise ValidationFailed("no group with id {group_id}", group_id=group_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(24)
    result = conn.execute(enrollment_tokens.insert().values(
        token_hash=digest(secret), prefix=secret[:10], note=note, group_id=group_id,
        max_uses=max_uses, uses=0, expires_at=expires_at, created_by=created_by,
        created_at=now,
    ))
    return secret, int(result.inserted_primary_key[0])  # type: ignore[index]


def list_tokens(conn: Connection) -> list[Any]:
    """Return every token row, newest first."""
    return list(conn.execute(sa.select(enrollment_tokens)
                             .order_by(enrollment_tokens.c.id.desc())).all())


def get_token(conn: Connection, token_id: int) -> Any:
    """Return one token row.

    Raises:
        NotFound: no such token.
    """
    row = conn.execute(sa.select(enrollment_tokens)
                       .where(enrollment_tokens.c.id == token_id)).one_or_none()
    if row is None:
        raise NotFound("no enrollment token with id {token_id}", token_id=token_id)
    return row


def revoke_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    """Mark a token revoked (devices it enrolled stay enrolled).

    Raises:
        NotFound: no such token.
    """
    get_token(conn, token_id)
    conn.execute(enrollment_tokens.update()
                 .where(enrollment_tokens.c.id == token_id,
                        enrollment_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=now))


_REFUSALS = {
    "revoked": ("enrollment_token_revoked",
                N_("this enrollment token was revoked; ask an admin for a new one")),
    "expired": ("enrollment_token_expired",
                N_("this enrollment token has expired; ask an admin for a new one")),
    "used_up": ("enrollment_token_used_up",
                N_("this enrollment token has been used as many times as it allows; ask "
                   "an admin for a new one")),
}


def enroll(conn: Connection, *, token: str, public_key: bytes, hostname: str, os_name: str,
           os_version: str, agent_version: str, now: dt.datetime) -> str:
    """Use one enrollment of ``token`` to register a device; return the device id.

    Runs inside the writer's transaction, so two machines cannot both take the last use.

    Raises:
        EnrollmentRefused: the token is unknown, revoked, expired or used up.
    """
    row = conn.execute(sa.select(enrollment_tokens)
                       .where(enrollment_tokens.c.token_hash == digest(token))).one_or_none()
    if row is None:
        raise EnrollmentRefused("unknown enrollment token; ask an admin for a new one",
                                code="enrollment_token_invalid")
    state = token_state(row, now)
    if state != "active":
        code, message = _REFUSALS[state]
        raise EnrollmentRefused(message, code=code)
    if conn.execute(sa.select(devices.c.id).where(devices.c.public_key == public_key)).first():
        raise EnrollmentRefused("this device key is already enrolled",
                                code="device_key_in_use")
    uid = str(uuid.uuid4())
    conn.execute(enrollment_tokens.update().where(enrollment_tokens.c.id == row.id)
                 .values(uses=enrollment_tokens.c.uses + 1))
    conn.execute(devices.insert().values(
        uid=uid, public_key=public_key, hostname=hostname, os_name=os_name,
        os_version=os_version, serial="", logged_in_users="", agent_version=agent_version,
        group_id=row.group_id, enrollment_token_id=row.id, enrolled_at=now,
        last_address="",
    ))
    return uid
