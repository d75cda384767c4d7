"""Messages of a tool session's viewer socket, console -> server (sans-I/O).

``hello`` (first, with the CSRF token, for console sessions), ``input`` (keystrokes or
pasted text, the controlling technician only) and ``resize``. Unknown types and fields,
wrong ranges and frames over :data:`MAX_FRAME` are refused with named codes.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from shared import toolbox as tb

MAX_FRAME = 64 * 1024  # bytes of one viewer message (a pasted text is sent in pieces)
NOT_CONTROLLER = "not_controller"
NOT_ACTIVE = "not_active"


class ViewerError(Exception):
    """A viewer message was refused; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Msg(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    pass


class Hello(_Msg, tag="hello"):
    """The console's first message: the session's CSRF token."""

    csrf: Annotated[str, Meta(max_length=200)]


class Input(_Msg, tag="input"):
    """Keystrokes or pasted text."""

    data: tb.TermData


class Resize(_Msg, tag="resize"):
    """The viewer's terminal size."""

    cols: tb.Cols
    rows: tb.Rows


ViewerMessage = Hello | Input | Resize
_decoder = msgspec.json.Decoder(ViewerMessage)


def decode(data: str | bytes) -> Any:
    """Parse one viewer frame.

    Raises:
        ViewerError: malformed, too_large, unknown_type or invalid_message.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_FRAME:
        raise ViewerError("too_large", f"message of {len(raw)} bytes exceeds {MAX_FRAME}")
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if text.endswith("at `$.type`") or "missing required field `type`" in text:
            raise ViewerError("unknown_type", text) from exc
        raise ViewerError("invalid_message", text) from exc
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ViewerError("malformed", "not a JSON message") from exc
