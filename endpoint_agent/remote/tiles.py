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


def trim(prev: npt.NDArray[np.uint32], cur: npt.NDArray[np.uint32], rect: Rect) -> Rect | None:
    """Shrink a changed rectangle to the rows and columns that really differ (None: none)."""
    x, y, w, h = rect
    diff = prev[y:y + h, x:x + w] != cur[y:y + h, x:x + w]
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0]:rows[-1] + 1].any(axis=0))
    return (x + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0]) + 1,
            int(rows[-1] - rows[0]) + 1)


_WEIGHTS = np.random.default_rng(20).integers(1, 2**63, size=4096, dtype=np.uint64) | 1


def _row_hashes(sample: npt.NDArray[np.uint32]) -> list[int]:
    """Return a 64-bit hash of each row of a column sample (one vectorised pass)."""
    weights = _WEIGHTS[:sample.shape[1]]
    with np.errstate(over="ignore"):
        mixed = (sample.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)) * weights
    hashes: list[int] = np.bitwise_xor.reduce(mixed ^ (mixed >> np.uint64(29)), axis=1).tolist()
    return hashes


def find_scroll(prev: npt.NDArray[np.uint32], cur: npt.NDArray[np.uint32], *,
                min_rows: int = 32) -> tuple[int, int, int] | None:
    """Find a vertical scroll: rows [a, b) of ``cur`` equal rows [a+dy, b+dy) of ``prev``.

    Returns (a, b, dy) for the longest such band of at least ``min_rows`` rows (dy != 0),
    or None. Rows are matched by hashes of a column sample to find dy, then every row is
    compared in full at that offset, so a false match costs time, never a wrong picture.
    Of the runs of rows equal at dy, the one that spares the most rows changed in place
    wins (at least ``min_rows``).
    """
    height, width = cur.shape
    if height < 2 * min_rows or width < 64:
        return None
    step = max(1, width // 64)
    prev_rows = _row_hashes(prev[:, ::step])
    cur_rows = _row_hashes(cur[:, ::step])
    where: dict[int, list[int]] = {}
    for i, value in enumerate(prev_rows):
        where.setdefault(value, []).append(i)
    votes: dict[int, int] = {}
    for i in range(0, height, 4):
        if cur_rows[i] == prev_rows[i]:
            continue
        rows = where.get(cur_rows[i])
        if rows and len(rows) <= 2:  # blank rows match everywhere: no evidence
            for j in rows:
                votes[j - i] = votes.get(j - i, 0) + 1
    if not votes:
        return None
    dy = max(votes, key=lambda k: votes[k])
    if votes[dy] < 4:
        return None
    # The rows that really moved by dy, compared in full: a sampled hash may match a row
    # that differs elsewhere (a line being drawn), which must only shorten the band. The
    # band chosen is the run of equal rows that spares the most rows changed in place
    # (blank rows equal at any offset are harmless to copy but save nothing).
    lo, hi = max(0, -dy), min(height, height - dy)
    same = (cur[lo:hi] == prev[lo + dy:hi + dy]).all(axis=1)
    saved = np.cumsum(np.append(same & (cur[lo:hi] != prev[lo:hi]).any(axis=1), False))
    best, best_start, best_end, start = 0, 0, 0, -1
    for i, equal in enumerate(np.append(same, False).tolist()):
        if equal and start < 0:
            start = i
        elif not equal and start >= 0:
            gain = int(saved[i - 1] - (saved[start - 1] if start else 0))
            if gain > best:
                best, best_start, best_end = gain, start, i
            start = -1
    if best < min_rows:
        return None
    return lo + best_start, lo + best_end, dy
