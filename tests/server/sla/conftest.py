"""Fixtures for SLA scenario tests: a real migrated database driven at chosen times."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.sla.helpers import Desk, desk_at


@pytest.fixture
def desk_url(tmp_path: Path, database_url: str) -> str:
    """The URL of the desk's database: a SQLite file, or the test's PostgreSQL database."""
    return database_url or f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
def desk(desk_url: str) -> Iterator[Desk]:
    """A desk on a fresh database with a technician and a requester."""
    yield from desk_at(desk_url)
