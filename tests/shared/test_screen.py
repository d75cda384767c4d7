"""Screen frames and viewer messages: bytes in, headers or refusals out."""

from __future__ import annotations

import pytest

from server.remote.policy import may_remote, needs_consent
from shared import screen


def _frame(**kw: object) -> bytes:
    tiles = [screen.Tile(0, 0, 16, 16, screen.JPEG_SOI + b"abc"),
             screen.Tile(16, 0, 16, 16, screen.JPEG_SOI + b"de")]
    args: dict[str, object] = {"seq": 7, "captured_at": 1.5e9, "width": 64, "height": 32,
                               "tiles": tiles, "cursor": (3, 4)}
    args.update(kw)
    return screen.pack_frame(**args)  # type: ignore[arg-type]


def test_frame_round_trip() -> None:
    """A packed frame reads back with its header, flags and tiles intact."""
    header, tiles = screen.unpack_frame(_frame(key=True, refresh=True))
    assert (header.seq, header.width, header.height, header.tiles) == (7, 64, 32, 2)
    assert (header.key, header.flags, header.cursor_x, header.cursor_y) == (True, 3, 3, 4)
    assert [t.jpeg for t in tiles] == [screen.JPEG_SOI + b"abc", screen.JPEG_SOI + b"de"]


@pytest.mark.parametrize(("data", "words"), [
    (b"", "shorter"),
    (b"\x02" + _frame()[1:], "version"),
    (_frame()[:1] + b"\x04" + _frame()[2:], "flags"),
    (_frame()[:1] + b"\x02" + _frame()[2:], "flags"),  # refresh without key
    (_frame()[:-1], "overruns"),
    (_frame() + b"!", "after the last tile"),
    (_frame(width=20), "outside"),
    (_frame(width=0), "out of range"),
    (_frame(captured_at=float("nan")), "capture time"),
    (_frame(tiles=[screen.Tile(0, 0, 8, 8, b"GIF89a")]), "neither a JPEG"),
    (_frame(tiles=[screen.Tile(0, 0, 8, 8, b"\x89PNG")]), "neither a JPEG or PNG"),
    (_frame(tiles=[screen.Tile(0, 0, 8, 8, src=(60, 0))]), "copies from outside"),
    (_frame(tiles=[screen.Tile(0, 0, 8, 8, b"CP\x00\x00\x00\x00\x00")]), "copy record"),
])
def test_malformed_frames_are_refused(data: bytes, words: str) -> None:
    """Every structural fault is named; nothing is decoded to find it."""
    with pytest.raises(screen.FrameError, match=words):
        screen.read_header(data)


def test_copy_records_round_trip() -> None:
    """A scroll is carried as a copy record naming its source."""
    data = _frame(tiles=[screen.Tile(0, 0, 64, 16, src=(0, 16)),
                         screen.Tile(0, 16, 64, 16, screen.JPEG_SOI + b"x")])
    _header, tiles = screen.unpack_frame(data)
    assert tiles[0] == screen.Tile(0, 0, 64, 16, src=(0, 16))
    assert tiles[1].jpeg == screen.JPEG_SOI + b"x"


def test_png_tiles_are_accepted() -> None:
    """A lossless refinement (a PNG tile, by its signature) passes the relay's check."""
    png = screen.PNG_SIGNATURE + b"IHDR..."
    header, tiles = screen.unpack_frame(_frame(tiles=[screen.Tile(0, 0, 8, 8, png)]))
    assert header.tiles == 1 and tiles[0].jpeg == png


def test_viewer_messages_are_validated() -> None:
    """Viewer messages parse by type; junk, unknown types and bad fields are named."""
    assert screen.decode_viewer('{"type":"ack","seq":3}') == screen.FrameAck(seq=3)
    for raw, code in [("{", "malformed"), ('{"type":"fly"}', "unknown_type"),
                      ('{"type":"wheel","x":1,"y":1,"dy":99}', "invalid_message"),
                      ('{"type":"key","keysym":0,"down":true}', "invalid_message"),
                      ("x" * 5000, "too_large")]:
        with pytest.raises(screen.ViewerError) as info:
            screen.decode_viewer(raw)
        assert info.value.code == code, raw


def test_rights_and_consent_rules() -> None:
    """Admins always; technicians through assignment or group; consent unless allowed."""
    base = {"assignee_id": 5, "ticket_group_id": 9}
    assert may_remote(role="admin", user_id=1, member_of=(), **base)
    assert may_remote(role="technician", user_id=5, member_of=(), **base)
    assert may_remote(role="technician", user_id=6, member_of=(9,), **base)
    assert not may_remote(role="technician", user_id=6, member_of=(8,), **base)
    assert not may_remote(role="requester", user_id=5, member_of=(9,), **base)
    assert needs_consent(device_group_id=None, unattended_groups={1})
    assert needs_consent(device_group_id=2, unattended_groups={1})
    assert not needs_consent(device_group_id=1, unattended_groups={1})
