"""Clipboard text carried in a remote session: limits and the one validity check.

Sans-I/O. Both directions (technician -> endpoint, endpoint -> technician) carry plain
text only, at most :data:`MAX_TEXT_BYTES` of UTF-8, without NUL characters (X clients
and C strings end text at the first NUL). docs/protocol.md section 3.1 has the messages.
"""

from __future__ import annotations

CAPABILITY = "clipboard"  # in the agent's hello: it understands ``session_clipboard``
MAX_TEXT_BYTES = 64 * 1024  # UTF-8 bytes of one clipboard text
# A JSON frame carrying the largest text: escaping may grow a control character to six
# bytes (\u0001), so the frame limit is well above the text limit; the text is then
# measured after decoding.
MAX_FRAME_BYTES = 512 * 1024

TOO_LARGE = "too_large"
INVALID = "invalid_message"


class ClipboardError(ValueError):
    """A clipboard text was refused; ``code`` is ``too_large`` or ``invalid_message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def text_size(text: str) -> int:
    """Return the UTF-8 size of a clipboard text that may travel.

    Args:
        text: the text, as decoded from JSON or read from the endpoint's clipboard.

    Raises:
        ClipboardError: the text is empty, holds a NUL character or a lone surrogate
            (not encodable as UTF-8), or is larger than :data:`MAX_TEXT_BYTES`.
    """
    if len(text) > MAX_TEXT_BYTES:  # a character is at least one byte: no need to encode
        raise ClipboardError(TOO_LARGE, f"clipboard text of more than {MAX_TEXT_BYTES} bytes "
                             f"(limit {MAX_TEXT_BYTES})")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ClipboardError(INVALID, "clipboard text is not valid Unicode (lone surrogate "
                             f"at character {exc.start})") from exc
    if size > MAX_TEXT_BYTES:
        raise ClipboardError(TOO_LARGE, f"clipboard text of {size} bytes exceeds "
                             f"{MAX_TEXT_BYTES}")
    if not size:
        raise ClipboardError(INVALID, "clipboard text is empty")
    if "\x00" in text:
        raise ClipboardError(INVALID, "clipboard text must not contain NUL characters")
    return size
