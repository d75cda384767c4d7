"""The server's exception tree and the one JSON error shape.

Every REST error leaves the server as ``{"error": {"code": ..., "message": ...}}`` with
a 4xx/5xx status; :mod:`server.middleware` turns these exceptions (and aiohttp's own
HTTP exceptions) into that shape in one place.
"""

from __future__ import annotations

from typing import Any


class DeskmateError(Exception):
    """Root of the server's exceptions."""


class ApiError(DeskmateError):
    """An error reported to an API client with a status and a named code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return {"error": {"code": self.code, "message": self.message}}


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

    def __init__(self, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code, headers=headers)
        self.field = field

    def body(self) -> dict[str, Any]:
        """Return the JSON error body, with ``field`` when one is to blame."""
        body = super().body()
        if self.field:
            body["error"]["field"] = self.field
        return body


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
