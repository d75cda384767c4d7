"""Priority from impact and urgency by a configurable matrix (ITIL default), pure."""

from __future__ import annotations

# Rows: impact 1 (high) .. 3 (low); columns: urgency 1 (high) .. 3 (low).
# ITIL 4's customary matrix, the default of most service desks.
ITIL_MATRIX: tuple[tuple[int, int, int], ...] = ((1, 2, 3), (2, 3, 4), (3, 4, 5))


def parse_matrix(text: str) -> tuple[tuple[int, int, int], ...]:
    """Parse "1 2 3 / 2 3 4 / 3 4 5" (rows by impact) into a matrix.

    Raises:
        ValueError: not three rows of three priorities from 1 to 5.
    """
    rows = [row.split() for row in text.split("/")]
    if len(rows) != 3 or any(len(r) != 3 for r in rows):
        raise ValueError(f"priority matrix needs 3 rows of 3 values, got {text!r}")
    try:
        matrix = tuple(tuple(int(v.lstrip("Pp")) for v in row) for row in rows)
    except ValueError as exc:
        raise ValueError(f"priority matrix values must be 1-5, got {text!r}") from exc
    if any(not 1 <= v <= 5 for row in matrix for v in row):
        raise ValueError(f"priority matrix values must be 1-5, got {text!r}")
    return matrix  # type: ignore[return-value]


def priority_for(impact: int, urgency: int,
                 matrix: tuple[tuple[int, int, int], ...] = ITIL_MATRIX) -> int:
    """Return the priority (1 = P1, most urgent) for an impact and urgency in 1..3.

    Raises:
        ValueError: impact or urgency outside 1..3.
    """
    if not (1 <= impact <= 3 and 1 <= urgency <= 3):
        raise ValueError(f"impact and urgency must be 1-3, got {impact!r}, {urgency!r}")
    return matrix[impact - 1][urgency - 1]
