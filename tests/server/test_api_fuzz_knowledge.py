"""API fuzz, shard "knowledge": knowledge base, reports, SLA (tests/support/fuzz.py SHARDS).

Its operations: the knowledge base, reports and SLA.

The same fuzz as tests/server/test_api_fuzz.py (which says what is checked and skipped),
for this shard's operations only, on a seeded server of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.test_api_fuzz import SKIP_PATHS
from tests.support.fuzz import Target, fuzz, fuzz_target


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A seeded server with an API token for an admin and for a requester."""
    yield from fuzz_target(tmp_path_factory.mktemp("fuzz") / "data")


@pytest.mark.timeout(900)
def test_fuzzed_knowledge_api_answers_by_its_schema(target: Target) -> None:
    """Generated requests, valid or not, to the knowledge base, reports and SLA, as an admin and as a requester, never get a 5xx or an answer off the schema."""  # noqa: E501
    problems = fuzz(target, "knowledge", SKIP_PATHS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
