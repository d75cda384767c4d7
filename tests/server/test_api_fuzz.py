"""Fuzz the whole API from its OpenAPI document (schemathesis) against a real server.

Every operation gets schema-valid and schema-breaking requests, as an admin and as a
requester: no answer may be a server error, every answer must match the declared
response schema, status and content type, and every 4xx must be the one error shape.
Runs are derandomized (the same examples every time) and bounded in examples per
operation, so CI stays stable and quick; FUZZ_EXAMPLES raises the count for a longer
search by hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.server import ADMIN_PASSWORD, PASSWORD, RunningServer, start_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
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
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


@dataclass
class Target:
    """The running server, seen from the test's thread."""

    server: RunningServer
    loop: asyncio.AbstractEventLoop
    http: requests.Session
    tokens: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # token, id, user

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def call(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        return self.http.request(method, self.url(path), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}, **kw)


def _serve(data: Path) -> Iterator[Target]:
    """Run the server on an event loop of its own, so this test can block on HTTP."""
    loop = asyncio.new_event_loop()
    started: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["server"] = loop.run_until_complete(
                start_server(data, sqlite_synchronous="NORMAL"))
        except BaseException as exc:
            started["error"] = exc
        finally:
            ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="fuzzed-server", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in started:
        raise started["error"]
    server: RunningServer = started["server"]
    http = requests.Session()
    http.trust_env = False  # no proxies or CA bundles from the environment
    assert server.tls is not None and server.tls.ca_file is not None
    http.verify = str(server.tls.ca_file)  # the server's own CA only
    try:
        yield Target(server=server, loop=loop, http=http)
    finally:
        http.close()
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(60)
        loop.close()


def _token(target: Target, username: str, password: str) -> tuple[str, int, int]:
    session = requests.Session()
    session.trust_env = False
    session.verify = target.http.verify
    login = session.post(target.url("/api/v1/auth/login"),
                         json={"username": username, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    made = session.post(target.url("/api/v1/auth/tokens"), json={"name": "fuzz"},
                        headers={"X-CSRF-Token": login.json()["csrf_token"]}, timeout=30)
    assert made.status_code == 201, made.text
    session.close()
    return made.json()["token"], made.json()["info"]["id"], login.json()["user"]["id"]


def _seed(target: Target) -> None:
    """Make one of each thing, so generated ids (often 1) find something."""
    admin = target.tokens["admin"][0]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = target.call("POST", path, admin, json=body)
        assert resp.status_code == 201, (path, resp.text)
        return dict(resp.json())

    for name, role in (("rick", "requester"), ("tina", "technician")):
        post("/api/v1/users", {"username": name, "display_name": name.title(), "role": role,
                               "password": PASSWORD})
    post("/api/v1/groups", {"name": "Ops"})
    post("/api/v1/categories", {"name": "Hardware"})
    post("/api/v1/kb/categories", {"name": "Network"})
    post("/api/v1/kb/articles", {"title": "VPN", "body": "Restart it.", "visibility": "public",
                                 "status": "published", "category_id": 1, "tags": ["vpn"]})
    ticket = post("/api/v1/tickets", {"title": "Printer", "description": "jammed",
                                      "tags": ["printer"], "category_id": 1})
    post(f"/api/v1/tickets/{ticket['id']}/comments", {"body": "Looking"})
    post("/api/v1/tickets", {"title": "Second"})
    post("/api/v1/sla/calendars", {"name": "Office", "tz": "Europe/Berlin",
                                   "hours": {"mon": ["09:00-17:00"]}})
    post("/api/v1/sla/policies", {"name": "Default", "calendar_id": 1, "fallback": True,
                                  "targets": {"first_response": 30, "resolution": 240}})
    post("/api/v1/catalog", {"name": "Laptop"})
    post("/api/v1/health-checks", {"name": "Disk", "kind": "disk", "target": "/",
                                   "warning": 80, "critical": 90})
    post("/api/v1/canned-responses", {"title": "Thanks", "body": "Thank you"})
    post("/api/v1/enrollment-tokens", {})


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A seeded server with an API token for an admin and for a requester."""
    for running in _serve(tmp_path_factory.mktemp("fuzz") / "data"):
        running.tokens["admin"] = _token(running, "admin", ADMIN_PASSWORD)
        _seed(running)
        running.tokens["requester"] = _token(running, "rick", PASSWORD)
        yield running


def _error_shape(response: Any) -> str | None:
    """Return what is wrong with a 4xx body, or None if it is the one error shape."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"not JSON: {response.content[:100]!r}"
    if (not isinstance(body, dict) or set(body) != {"error"}
            or not isinstance(body["error"], dict)
            or set(body["error"]) - {"field"} != {"code", "message"}
            or not all(isinstance(v, str) and v for v in body["error"].values())):
        return f"not the error shape: {body!r:.200}"
    return None


def _spared(target: Target, role: str, method: str, path: str, case: Any) -> bool:
    """Return True for calls that would end the fuzzing caller's own access."""
    token_id = target.tokens[role][1]
    params = case.path_parameters or {}
    if path == "/api/v1/auth/logout":
        return True
    if path == "/api/v1/auth/tokens/{token_id}" and params.get("token_id") == token_id:
        return True
    # Deactivating, demoting or re-passwording a fuzzing user ends its tokens.
    return method == "PATCH" and path == "/api/v1/users/{user_id}" and params.get(
        "user_id") in {user for _, _, user in target.tokens.values()}


def _fuzz_operation(target: Target, role: str, operation: Any, mode: GenerationMode,
                    problems: list[str]) -> None:
    """Send EXAMPLES generated requests to one operation; note what is wrong."""
    method, path = operation.method.upper(), operation.path
    token = target.tokens[role][0]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        if _spared(target, role, method, path, case):
            return
        response = case.call(base_url=target.server.base_url, session=target.http,
                             verify=target.http.verify,
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        found = []
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis raises a FailureGroup
            found.append(str(exc).split("Reproduce with")[0].strip()[:800])
        if 400 <= response.status_code < 500 and (bad := _error_shape(response)):
            found.append(bad)
        if found:
            problems.append(f"{role} {method} {path} -> {response.status_code}: "
                            + " | ".join(found) + f"\n  {case.as_curl_command()}")

    try:
        run()
    except BaseException as exc:  # generation itself failed
        if "Unsatisfiable" not in type(exc).__name__:
            problems.append(f"{role} {method} {path}: {type(exc).__name__}: {exc}")


def _fuzz(target: Target, role: str) -> list[str]:
    doc = target.http.get(target.url("/api/v1/openapi.json"), timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc)
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP_PATHS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(target, role, operation, mode, problems)
    return problems


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", ["admin", "requester"])
def test_fuzzed_api_answers_by_its_schema(target: Target, role: str) -> None:
    """Generated requests, valid or not, never get a 5xx or an answer off the schema."""
    problems = _fuzz(target, role)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
