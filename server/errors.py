"""The server's exception tree and the one JSON error shape.

Every REST error leaves the server as ``{"error": {"code": ..., "message": ...}}`` (plus
``"field"`` when one field of the request is at fault) with a 4xx/5xx status;
:mod:`server.middleware` turns these exceptions (and aiohttp's own HTTP exceptions) into
that shape in one place, translating the message into the caller's language.

A message is an English template with named placeholders and its values as keyword
arguments: ``NotFound("no user with id {user_id}", user_id=user_id)``. The template is
the msgid of the catalogues (server/locales); ``field``, when given, is both the
placeholder ``{field}`` and the body's ``field``.
"""

from __future__ import annotations

import re
from typing import Any

from server.i18n.messages import Gettext, Message, render

# "manager_id: no active user ..." names its field first.
_LEADING_FIELD = re.compile(r"([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): ")


class DeskmateError(Exception):
    """Root of the server's exceptions."""


class ApiError(DeskmateError):
    """An error reported to an API client with a status and a named code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str | Message, *, code: str | None = None,
                 headers: dict[str, str] | None = None, field: str | None = None,
                 **params: Any) -> None:
        if isinstance(message, Message):
            template, params = message.template, {**message.params, **params}
        else:
            template = message
        if field is not None:
            params["field"] = field
        elif isinstance(params.get("field"), str):
            field = params["field"]
        elif match := _LEADING_FIELD.match(template):
            field = match.group(1)
        self.template = template
        self.params = params
        self.field = field
        self.message = render(template, params)  # English: logs and the CLI
        super().__init__(self.message)
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self, gettext: Gettext | None = None) -> dict[str, Any]:
        """Return the JSON error body, its message translated by ``gettext`` if given."""
        message = self.message if gettext is None else render(self.template, self.params,
                                                              gettext)
        error: dict[str, Any] = {"code": self.code, "message": message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class BadRequest(ApiError):
    """The request is malformed (bad JSON, bad query, bad cursor)."""


class ValidationFailed(ApiError):
    """The request is well-formed but its values break the schema or a rule.

    ``field`` names the offending value when one is to blame: its path below the body
    (or query) root, e.g. ``display_name`` or ``fields[0].label``; the console shows the
    message next to that field.
    """

    status = 422
    code = "validation_error"


class Unauthorized(ApiError):
    """No valid credentials were presented."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """The resource does not exist, or the caller may not know it exists."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The request conflicts with stored state (duplicate name, stale version)."""

    status = 409
    code = "conflict"


class ServiceUnavailable(ApiError):
    """Something the request needs (a directory server) cannot be reached now."""

    status = 503
    code = "unavailable"


class UnsupportedMediaType(ApiError):
    """The request body is not of a type the endpoint reads."""

    status = 415
    code = "unsupported_media_type"


class TooManyRequests(ApiError):
    """The caller is rate limited."""

    status = 429
    code = "rate_limited"


# aiohttp's own HTTP exceptions (routing, body size) mapped to our codes.
HTTP_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
