"""Absurdly nested JSON on the WebSocket paths is a named error, never a RecursionError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared import protocol as p
from shared import screen

DEEP_FRAMES = [
    "[" * 100_000,
    '{"type": "inventory", "id": "i1", "sections": {"x": ' + "[" * 100_000 + "}}",
    '{"type": "hello", "protocol": 1, "device_id": ' + "[" * 50_000 + "]" * 50_000 + "}",
    '{"type": "clipboard", "text": ' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "}",
]


@pytest.mark.parametrize("decode", [p.decode_agent_message, p.decode_hello,
                                    p.decode_server_message],
                         ids=["agent", "hello", "server"])
@pytest.mark.parametrize("frame", DEEP_FRAMES, ids=range(len(DEEP_FRAMES)))
def test_deep_agent_frames_are_protocol_errors(decode: Callable[[str], Any],
                                               frame: str) -> None:
    """A deeply nested agent or server frame raises ProtocolError with a named code."""
    with pytest.raises(p.ProtocolError) as info:
        decode(frame)
    assert info.value.code in (p.MALFORMED, p.INVALID_MESSAGE, p.TOO_LARGE, p.UNKNOWN_TYPE)


@pytest.mark.parametrize("frame", DEEP_FRAMES, ids=range(len(DEEP_FRAMES)))
def test_deep_viewer_frames_are_viewer_errors(frame: str) -> None:
    """A deeply nested console (viewer) frame raises ViewerError, not RecursionError."""
    with pytest.raises(screen.ViewerError):
        screen.decode_viewer(frame)
