"""Who is asking: the authenticated caller of a request, and the CSRF rule."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from server.errors import Forbidden

Role = Literal["admin", "technician", "requester"]
ROLES: tuple[Role, ...] = ("admin", "technician", "requester")
STAFF_ROLES: frozenset[str] = frozenset({"admin", "technician"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: a console session or an API token."""

    user_id: int
    username: str
    role: Role
    via: Literal["session", "token"]
    credential_id: int
    csrf_token: str = ""
    expires_at: dt.datetime | None = None
    second_factor: bool = False  # the user has a confirmed TOTP factor
    language: str | None = None  # the user's own choice; None: the browser's

    @property
    def is_staff(self) -> bool:
        """Tell whether the caller is a technician or an admin."""
        return self.role in STAFF_ROLES


def check_csrf(request: web.Request, identity: Identity) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), identity.csrf_token.encode()):
        raise Forbidden("missing or wrong CSRF token; send the X-CSRF-Token header",
                        code="csrf_failed")
