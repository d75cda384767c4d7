"""Which parts of the screen changed: tile comparison and rectangle merging (pure numpy)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TILE = 64

Rect = tuple[int, int, int, int]  # x, y, width, height in pixels


def as_pixels(raw: bytes | bytearray | memoryview, width: int, height: int,
              ) -> npt.NDArray[np.uint32]:
    """View a BGRA buffer as one uint32 per pixel (no copy)."""
    return np.frombuffer(raw, dtype=np.uint32, count=width * height).reshape(height, width)


def changed_tiles(prev: npt.NDArray[np.uint32], cur: npt.NDArray[np.uint32], *,
                  tile: int = TILE) -> npt.NDArray[np.bool_]:
    """Return a grid (rows x columns of tiles) telling which tiles differ."""
    height, width = cur.shape
    rows, cols = -(-height // tile), -(-width // tile)
    grid = np.zeros((rows, cols), dtype=bool)
    full_cols = width // tile
    for row in range(rows):
        top = row * tile
        a = prev[top:top + tile]
        b = cur[top:top + tile]
        diff = a != b
        if not diff.any():  # most strips of a mostly static screen stop here
            continue
        h = diff.shape[0]
        if full_cols:
            grid[row, :full_cols] = diff[:, :full_cols * tile].reshape(
                h, full_cols, tile).any(axis=(0, 2))
        if full_cols < cols:
            grid[row, full_cols] = diff[:, full_cols * tile:].any()
    return grid


def merge(grid: npt.NDArray[np.bool_], *, width: int, height: int, tile: int = TILE,
          ) -> list[Rect]:
    """Merge changed tiles into rectangles: runs along a row, then equal runs down rows."""
    open_runs: dict[tuple[int, int], list[int]] = {}  # (col, length) -> [row_start, rows]
    done: list[tuple[int, int, int, int]] = []  # col, row, cols, rows
    for row in range(grid.shape[0]):
        runs: list[tuple[int, int]] = []
        line = grid[row]
        col = 0
        cols = line.shape[0]
        while col < cols:
            if line[col]:
                start = col
                while col < cols and line[col]:
                    col += 1
                runs.append((start, col - start))
            else:
                col += 1
        still: dict[tuple[int, int], list[int]] = {}
        for run in runs:
            if run in open_runs:
                entry = open_runs.pop(run)
                entry[1] += 1
                still[run] = entry
            else:
                still[run] = [row, 1]
        for (col0, length), (row0, nrows) in open_runs.items():
            done.append((col0, row0, length, nrows))
        open_runs = still
    for (col0, length), (row0, nrows) in open_runs.items():
        done.append((col0, row0, length, nrows))
    rects = []
    for col0, row0, ncols, nrows in sorted(done, key=lambda r: (r[1], r[0])):
        x, y = col0 * tile, row0 * tile
        rects.append((x, y, min(ncols * tile, width - x), min(nrows * tile, height - y)))
    return rects
