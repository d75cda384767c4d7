"""Durations in fixed logarithmic buckets, merged and read as percentiles (pure).

A duration of ``s`` seconds falls in bucket 0 when ``s < 60`` and otherwise in bucket
``1 + floor(8 * log2(s / 60))``: eight buckets per doubling, so a bucket's upper edge is
``2 ** (1/8)`` (about 1.0905) times its lower edge. Histograms of days and groups merge by
adding counts. A percentile is taken by nearest rank (the smallest value with at least
``p`` per cent of the values at or below it) and reported as the geometric middle of the
bucket that holds that rank; the true nearest-rank value lies in the same bucket, so the
reported value is within ``2 ** (1/16) - 1`` (about 4.4 %) of it (bucket 0 reports 30 s).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

STEPS_PER_DOUBLING = 8
BASE_SECONDS = 60.0
RELATIVE_ERROR = 2 ** (1 / (2 * STEPS_PER_DOUBLING)) - 1
MAX_BUCKET = 1 + STEPS_PER_DOUBLING * 20  # 60 s * 2**20: about two years


def bucket_of(seconds: float) -> int:
    """Return the bucket of a duration in seconds."""
    if seconds < BASE_SECONDS:
        return 0
    # The small epsilon keeps exact powers (120 s, 240 s...) in the bucket they start.
    b = 1 + math.floor(STEPS_PER_DOUBLING * math.log2(seconds / BASE_SECONDS) + 1e-9)
    return min(b, MAX_BUCKET)


def bounds(bucket: int) -> tuple[float, float]:
    """Return the [lower, upper) seconds of a bucket."""
    if bucket <= 0:
        return 0.0, BASE_SECONDS
    low = BASE_SECONDS * 2 ** ((bucket - 1) / STEPS_PER_DOUBLING)
    return low, BASE_SECONDS * 2 ** (bucket / STEPS_PER_DOUBLING)


def middle(bucket: int) -> float:
    """Return the value a bucket reports: its geometric middle (30 s for bucket 0)."""
    if bucket <= 0:
        return BASE_SECONDS / 2
    low, high = bounds(bucket)
    return math.sqrt(low * high)


def merge(into: dict[int, int], other: Mapping[Any, int], sign: int = 1) -> None:
    """Add (or with ``sign=-1`` subtract) the counts of ``other`` to ``into``."""
    for key, n in other.items():
        b = int(key)
        total = into.get(b, 0) + sign * n
        if total:
            into[b] = total
        else:
            into.pop(b, None)


def count(hist: Mapping[int, int]) -> int:
    """Return the number of values in a histogram."""
    return sum(hist.values())


def percentile(hist: Mapping[int, int], p: float) -> float | None:
    """Return the nearest-rank ``p``-th percentile (0 < p <= 100) in seconds, or None."""
    n = count(hist)
    if n <= 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            return middle(b)
    return middle(max(hist))


def nearest_rank(values: Iterable[float], p: float) -> float | None:
    """Return the exact nearest-rank percentile of values (the reference the tests use)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]
