"""Lossless refinement bookkeeping and its PNG encoder (pure, no display)."""

from __future__ import annotations

import numpy as np
import pytest

from endpoint_agent.remote import refine
from endpoint_agent.remote.refine import Refiner, decode_png, encode_png
from shared import screen

W, H = 200, 150  # 4 x 3 tiles of 64 (the last ones partial)
JPEG = b"\xff\xd8fake"


def frame(tiles: list[screen.Tile], *, key: bool = False, refresh: bool = False,
          height: int = H) -> bytes:
    return screen.pack_frame(seq=1, captured_at=1.0, width=W, height=height, tiles=tiles,
                             key=key, refresh=refresh, cursor=(5, 6))


def test_png_is_exact_for_few_and_many_colours() -> None:
    """A PNG tile decodes to exactly the BGRA area's pixels, indexed or true colour."""
    rng = np.random.default_rng(7)
    few = rng.choice([0, 40, 255], size=(30, 50, 4)).astype(np.uint8)
    many = rng.integers(0, 256, size=(30, 50, 4), dtype=np.uint8)
    for bgra in (few, many):
        png = encode_png(bgra)
        assert (decode_png(png) == bgra[:, :, 2::-1]).all()
    assert b"PLTE" in encode_png(few) and b"PLTE" not in encode_png(many)


def test_lossy_tiles_are_refined_once_after_resting() -> None:
    """JPEG tiles are owed, refined after the delay within the budget, then nothing is owed."""
    r = Refiner(delay=0.25)
    r.note(frame([screen.Tile(10, 10, 20, 20, JPEG), screen.Tile(130, 70, 70, 80, JPEG)]), 1.0)
    assert not r.exact and r.due_in(1.0) == 0.25
    picture = np.full((H, W, 4), 200, dtype=np.uint8)
    assert r.frame(picture, seq=2, captured_at=2.0, now=1.1) is None  # not rested yet
    data = r.frame(picture, seq=2, captured_at=2.0, now=1.3)
    assert data is not None
    header, tiles = screen.unpack_frame(data)
    assert (header.key, header.cursor_x, header.cursor_y) == (False, 5, 6)
    assert [(t.x, t.y, t.width, t.height) for t in tiles] == [(0, 0, 64, 64), (128, 64, 72, 86)]
    assert all(t.jpeg[:8] == screen.PNG_SIGNATURE for t in tiles)
    r.note(data, 1.3)  # the refinement itself owes nothing
    assert r.exact and r.due_in(2.0) is None
    assert r.frame(picture, seq=3, captured_at=2.0, now=9.0) is None


def test_copies_carry_lossiness_and_key_frames_mark_all() -> None:
    """A copy of a lossy area is lossy, of an exact one is not; a key frame marks every tile."""
    r = Refiner()
    r.note(frame([screen.Tile(0, 0, 64, 64, JPEG)]), 1.0)
    r.frame(np.zeros((H, W, 4), dtype=np.uint8), seq=2, captured_at=2.0, now=2.0)
    assert r.exact
    r.note(frame([screen.Tile(0, 64, 64, 64, src=(0, 0))]), 3.0)  # exact source
    assert r.exact
    r.note(frame([screen.Tile(128, 0, 64, 64, JPEG)]), 3.0)
    r.note(frame([screen.Tile(0, 64, 64, 64, src=(128, 0))]), 3.0)  # lossy source
    data = r.frame(np.zeros((H, W, 4), dtype=np.uint8), seq=3, captured_at=4.0, now=4.0)
    assert data is not None
    assert {(t.x, t.y) for t in screen.unpack_frame(data)[1]} == {(128, 0), (0, 64)}
    r.note(frame([screen.Tile(0, 0, W, H, JPEG)], key=True, refresh=True), 5.0)
    assert r.due_in(5.0) == pytest.approx(r.delay)
    data = r.frame(np.zeros((H, W, 4), dtype=np.uint8), seq=4, captured_at=6.0, now=6.0)
    assert data is not None and r.exact


def test_budget_spreads_a_large_refinement_over_frames() -> None:
    """Over the byte budget, the rest waits for the next refinement frame."""
    r = Refiner(budget=1)
    tall = refine.BAND * 64 + 100  # two bands
    r.note(frame([screen.Tile(0, 0, W, tall, JPEG)], height=tall), 1.0)
    rng = np.random.default_rng(1)
    picture = rng.integers(0, 256, size=(tall, W, 4), dtype=np.uint8)
    first = r.frame(picture, seq=2, captured_at=2.0, now=2.0)
    assert first is not None and len(screen.unpack_frame(first)[1]) == 1
    assert not r.exact  # the band below waits
    second = r.frame(picture, seq=3, captured_at=2.0, now=2.0)
    assert second is not None and r.exact
    assert [t.y for t in screen.unpack_frame(second)[1]] == [refine.BAND * 64]


def test_another_monitor_drops_what_is_owed() -> None:
    """Without a picture of the noted size nothing is sent (a key frame comes next)."""
    r = Refiner()
    r.note(frame([screen.Tile(0, 0, 8, 8, JPEG)]), 1.0)
    assert r.frame(None, seq=2, captured_at=2.0, now=5.0) is None
    assert r.exact
