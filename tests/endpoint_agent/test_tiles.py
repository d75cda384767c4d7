"""Tile comparison and rectangle merging over plain arrays."""

from __future__ import annotations

import numpy as np

from endpoint_agent.remote import tiles


def _screens(width: int = 200, height: int = 130) -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros((height, width), dtype=np.uint32)
    return a, a.copy()


def test_unchanged_screen_has_no_tiles() -> None:
    """Identical frames give an empty grid and no rectangles."""
    a, b = _screens()
    grid = tiles.changed_tiles(a, b)
    assert grid.shape == (3, 4) and not grid.any()
    assert tiles.merge(grid, width=200, height=130) == []


def test_changes_in_partial_edge_tiles_are_found_and_clipped() -> None:
    """A pixel in the ragged last column and row marks that tile, clipped to the screen."""
    a, b = _screens()
    b[129, 199] = 1
    grid = tiles.changed_tiles(a, b)
    assert grid.sum() == 1 and grid[2, 3]
    assert tiles.merge(grid, width=200, height=130) == [(192, 128, 8, 2)]


def test_runs_merge_along_rows_and_down_columns() -> None:
    """A changed block spanning tiles becomes one rectangle; a separate spot another."""
    a, b = _screens(320, 256)
    b[10:130, 70:190] = 7  # tiles (0..2, 1..2)
    b[200, 5] = 9  # tile (3, 0)
    rects = tiles.merge(tiles.changed_tiles(a, b), width=320, height=256)
    assert rects == [(64, 0, 128, 192), (0, 192, 64, 64)]


def test_scroll_is_found_and_verified() -> None:
    """Text moved up by 24 rows is found as one band; a mere change is not a scroll."""
    rng = np.random.default_rng(7)
    prev = rng.integers(0, 2**32, size=(300, 256), dtype=np.uint32)
    cur = np.empty_like(prev)
    cur[:276] = prev[24:]
    cur[276:] = rng.integers(0, 2**32, size=(24, 256), dtype=np.uint32)
    assert tiles.find_scroll(prev, cur) == (0, 276, 24)
    changed = prev.copy()
    changed[100:140] += 1
    assert tiles.find_scroll(prev, changed) is None
    assert tiles.find_scroll(prev, prev) is None


def test_trim_keeps_only_changed_pixels() -> None:
    """A tile-sized rectangle shrinks to the changed pixels inside it."""
    a, b = _screens()
    b[70:73, 100:110] = 5
    assert tiles.trim(a, b, (64, 64, 64, 64)) == (100, 70, 10, 3)
    assert tiles.trim(a, a, (0, 0, 64, 64)) is None


def test_scroll_survives_a_line_drawn_inside_the_band() -> None:
    """A row that matches by its sample but differs elsewhere only shortens the scroll band."""
    rng = np.random.default_rng(8)
    prev = rng.integers(0, 2**32, size=(300, 256), dtype=np.uint32)
    cur = np.empty_like(prev)
    cur[:276] = prev[24:]
    cur[276:] = rng.integers(0, 2**32, size=(24, 256), dtype=np.uint32)
    cur[200, 1] += 1  # not on the sampled columns (every 4th here)
    assert tiles.find_scroll(prev, cur) == (0, 200, 24)
