"""Fuzz the whole API from its OpenAPI document (schemathesis) against a real server.

Every operation gets schema-valid and schema-breaking requests, as an admin and as a
requester: no answer may be a server error, every answer must match the declared
response schema, status and content type, and every 4xx must be the one error shape.
Runs are derandomized (the same examples every time) and bounded in examples per
operation, so CI stays stable and quick; FUZZ_EXAMPLES raises the count for a longer
search by hand. The operations are fuzzed in shards (tests/support/fuzz.py SHARDS), a file
each, so the suite's workers share them: test_api_fuzz_tickets.py, _knowledge.py,
_people.py, and this file for every operation they do not name. SKIP_PATHS, below, holds
for every shard.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fuzz import SHARDS, Target, fuzz, fuzz_target

# Streams and WebSockets never answer a plain request; they have their own tests.
SKIP_PATHS = {"/api/v1/stream", "/api/v1/agent/ws", "/api/v1/remote-sessions/{session_id}/ws",
              # These connect to the directory a fuzzed record names (any host, waits up
              # to its timeout); tests/server/identity/test_directory.py covers them.
              "/api/v1/directories/{directory_id}/test",
              "/api/v1/directories/{directory_id}/preview",
              "/api/v1/directories/{directory_id}/sync",
              # Logs in to the IMAP server (or OAuth2 token endpoint) a fuzzed mailbox
              # names; tests/server/mail/test_mail_in_admin.py and test_mail_in_oauth.py.
              "/api/v1/mailboxes/{mailbox_id}/test",
              # These reach the identity provider a fuzzed record names (any host);
              # tests/server/identity/test_oidc.py covers them against a real provider.
              "/api/v1/identity-providers/{provider_id}/test",
              "/api/v1/auth/oidc/{provider_id}/start",
              # A browser redirect, not an API answer: refusals go back to the login page
              # (302); test_oidc.py and tests/server/oidc/test_tokens.py cover them.
              "/api/v1/auth/oidc/callback"}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A seeded server with an API token for an admin and for a requester."""
    yield from fuzz_target(tmp_path_factory.mktemp("fuzz") / "data")


@pytest.mark.timeout(900)
def test_fuzzed_api_answers_by_its_schema(target: Target) -> None:
    """Generated requests, valid or not, to every operation no other shard takes (devices, mail, identity providers and the rest), as an admin and as a requester, never get a 5xx or an answer off the schema."""  # noqa: E501
    problems = fuzz(target, "rest", SKIP_PATHS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_each_shard_fuzzes_some_operation(target: Target) -> None:
    """Every prefix of a shard names a path of the API, so no shard is empty by a typo."""
    doc = target.http.get(target.url("/api/v1/openapi.json"), timeout=30).json()
    unused = [prefix for prefixes in SHARDS.values() for prefix in prefixes
              if not any(path == prefix or path.startswith(prefix + "/") for path in doc["paths"])]
    assert not unused, unused
