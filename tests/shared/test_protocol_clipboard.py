"""Clipboard messages of the wire protocol and the viewer socket: shapes, limits (pure)."""

from __future__ import annotations

import json

import pytest

from shared import clipboard, screen
from shared import protocol as p

LIMIT = clipboard.MAX_TEXT_BYTES


def _agent_frame(text: str, **extra: object) -> str:
    return json.dumps({"type": "session_clipboard", "session": 3, "text": text, **extra},
                      ensure_ascii=False)


def test_clipboard_travels_both_ways_as_one_message() -> None:
    """session_clipboard decodes on both sides; the viewer's clipboard message too."""
    message = p.SessionClipboard(session=3, text="héllo ✓\nworld")
    assert p.decode_server_message(p.encode(message)) == message
    assert p.decode_agent_message(p.encode(message)) == message
    assert screen.decode_viewer('{"type":"clipboard","text":"a\\tb"}') == \
        screen.ClipboardText(text="a\tb")
    assert p.CLIPBOARD_CAPABILITY == "clipboard"


@pytest.mark.parametrize("text", [
    "x" * LIMIT,  # exactly the limit
    "é" * (LIMIT // 2),  # two bytes each: exactly the limit
    "\x01" * LIMIT,  # JSON escapes each as \u0001: a 384 KiB frame still fits
])
def test_texts_up_to_the_limit_pass(text: str) -> None:
    """The limit counts UTF-8 bytes of the text, not the bytes of its JSON escaping."""
    assert clipboard.text_size(text) == LIMIT
    frame = json.dumps({"type": "session_clipboard", "session": 3, "text": text})
    assert p.decode_agent_message(frame).text == text  # type: ignore[union-attr]
    assert p.decode_server_message(frame).text == text  # type: ignore[union-attr]
    viewer = json.dumps({"type": "clipboard", "text": text})
    assert screen.decode_viewer(viewer) == screen.ClipboardText(text=text)


@pytest.mark.parametrize(("text", "code"), [
    ("x" * (LIMIT + 1), "too_large"),
    ("€" * (LIMIT // 3 + 1), "too_large"),  # under the limit in characters, over in bytes
    ("", "invalid_message"),
    ("before\x00after", "invalid_message"),
])
def test_bad_texts_are_refused_with_a_named_code(text: str, code: str) -> None:
    """Over 64 KiB of UTF-8 is too_large; empty text and NUL characters are invalid."""
    with pytest.raises(clipboard.ClipboardError) as direct:
        clipboard.text_size(text)
    assert direct.value.code == code
    for decode in (p.decode_agent_message, p.decode_server_message):
        with pytest.raises(p.ProtocolError) as info:
            decode(_agent_frame(text))
        assert info.value.code == code
    with pytest.raises(screen.ViewerError) as viewer:
        screen.decode_viewer(json.dumps({"type": "clipboard", "text": text}))
    assert viewer.value.code == code


def test_text_that_is_not_unicode_is_refused() -> None:
    """A lone surrogate is not UTF-8: malformed JSON on the wire, invalid when built."""
    raw = '{"type":"session_clipboard","session":3,"text":"a\\ud800b"}'
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(raw)
    assert info.value.code == p.MALFORMED
    with pytest.raises(screen.ViewerError) as viewer:
        screen.decode_viewer('{"type":"clipboard","text":"a\\ud800b"}')
    assert viewer.value.code == "malformed"
    with pytest.raises(clipboard.ClipboardError) as direct:
        clipboard.text_size("a\ud800b")
    assert direct.value.code == "invalid_message"
    assert "lone surrogate" in direct.value.message


@pytest.mark.parametrize(("frame", "code"), [
    ('{"type":"session_clipboard","session":3}', p.INVALID_MESSAGE),
    ('{"type":"session_clipboard","session":0,"text":"a"}', p.INVALID_MESSAGE),
    ('{"type":"session_clipboard","session":3,"text":7}', p.INVALID_MESSAGE),
    ('{"type":"session_clipboard","session":3,"text":"a","html":"<b>a</b>"}',
     p.INVALID_MESSAGE),
])
def test_malformed_clipboard_messages_are_refused(frame: str, code: str) -> None:
    """Missing text, a bad session, a non-string text and unknown fields are refused."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(frame)
    assert info.value.code == code


def test_frame_limits_are_per_type() -> None:
    """Clipboard frames may exceed the 64 KiB control limit up to 512 KiB, nothing else may."""
    huge = json.dumps({"type": "session_clipboard", "session": 3,
                       "text": "\x01" * (clipboard.MAX_FRAME_BYTES // 6 + 10)})
    assert len(huge) > clipboard.MAX_FRAME_BYTES
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(huge)
    assert info.value.code == p.TOO_LARGE
    other = json.dumps({"type": "session_end", "session": 3, "reason": "x" * 70_000})
    with pytest.raises(p.ProtocolError) as info:
        p.decode_server_message(other)
    assert (info.value.code, str(p.MAX_CONTROL_BYTES) in info.value.message) == (
        p.TOO_LARGE, True)
    # The viewer socket: other types keep their 4 KiB limit.
    with pytest.raises(screen.ViewerError) as viewer:
        screen.decode_viewer(json.dumps({"type": "text", "text": "x" * 5000}))
    assert viewer.value.code == "too_large"
    with pytest.raises(screen.ViewerError) as viewer:
        screen.decode_viewer(json.dumps({"type": "clipboard", "text": "\x01" * 90_000}))
    assert viewer.value.code == "too_large"


def test_refusals_never_quote_the_text() -> None:
    """Error messages name sizes and positions, not what the clipboard held."""
    secret = "hunter2-" * 9000
    for bad in (secret, secret[:50] + "\x00"):
        with pytest.raises(p.ProtocolError) as info:
            p.decode_agent_message(_agent_frame(bad))
        assert "hunter2" not in info.value.message
        with pytest.raises(screen.ViewerError) as viewer:
            screen.decode_viewer(json.dumps({"type": "clipboard", "text": bad}))
        assert "hunter2" not in viewer.value.message
