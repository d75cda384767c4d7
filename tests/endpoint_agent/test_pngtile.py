"""Lossless tiles: palette detection and indexed PNGs at every bit depth (pure, no display)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from endpoint_agent.remote import pngtile
from endpoint_agent.remote.refine import Refiner
from shared import screen


def _area(colours: int, *, width: int = 37, height: int = 21, seed: int = 3,
          ) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    table = rng.choice(1 << 24, size=colours, replace=False).astype(np.uint32)
    picked = table[rng.integers(0, colours, size=(height, width))]
    picked[0, :colours] = table[:min(colours, width)]  # every colour at least once
    bgra = picked.view(np.uint8).reshape(height, width, 4).copy()
    bgra[:, :, 3] = 255  # the X server's alpha: ignored for the palette
    return bgra


@pytest.mark.parametrize(("colours", "depth"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4),
                                                (16, 4), (17, 8), (256, 8)])
def test_indexed_png_uses_the_smallest_depth_and_is_exact(colours: int, depth: int) -> None:
    """An area of n colours becomes an indexed PNG of the smallest bit depth, exact."""
    bgra = _area(colours)
    png = pngtile.encode_png(bgra)
    width, height, bits, kind = struct.unpack_from(">IIBB", png, 16)  # IHDR after signature
    assert (width, height, bits, kind) == (37, 21, depth, 3)
    assert (pngtile.decode_png(png) == bgra[:, :, 2::-1]).all()


def test_many_colours_are_no_palette_and_missed_colours_are_found() -> None:
    """Over 256 colours is no palette (JPEG's case); colours the sample skipped still count."""
    assert pngtile.palette(_area(300)) is None
    photo = np.random.default_rng(1).integers(0, 256, size=(400, 400, 4), dtype=np.uint8)
    assert pngtile.palette(photo) is None
    sparse = np.zeros((64, 64, 4), dtype=np.uint8)
    sparse[1, 1] = sparse[5, 3] = (10, 20, 30, 255)  # off the every-7th-pixel sample
    found = pngtile.palette(sparse)
    assert found is not None and found[0].size == 2
    assert (pngtile.decode_png(pngtile.encode_png(sparse, found)) == sparse[:, :, 2::-1]).all()


def test_png_tiles_make_whole_covered_tiles_exact() -> None:
    """A PNG tile in a delta settles the 64x64 tiles it covers whole, not ones it cuts."""
    r = Refiner()
    width, height = 200, 150

    def frame(tile: screen.Tile) -> bytes:
        return screen.pack_frame(seq=1, captured_at=1.0, width=width, height=height,
                                 tiles=[tile], cursor=(0, 0))

    r.note(frame(screen.Tile(0, 0, width, height, b"\xff\xd8fake")), 1.0)
    png = pngtile.encode_png(np.zeros((150, 136, 4), dtype=np.uint8))
    r.note(frame(screen.Tile(64, 0, 136, 150, png)), 2.0)  # columns 1-3 whole (3 at the edge)
    data = r.frame(np.zeros((height, width, 4), dtype=np.uint8), seq=2, captured_at=3.0,
                   now=3.0)
    assert data is not None
    assert [(t.x, t.width) for t in screen.unpack_frame(data)[1]] == [(0, 64)]
