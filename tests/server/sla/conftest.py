"""Fixtures for SLA scenario tests: a real migrated SQLite file driven at chosen times."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.sla.helpers import Desk, desk_at


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    """A desk on a fresh database with a technician and a requester."""
    yield from desk_at(tmp_path / "desk.db")
