"""The API fuzz's machinery (schemathesis against a real server), shared by its shards.

tests/server/test_api_fuzz*.py each fuzz a share of the operations (:data:`SHARDS`, by
path prefix; tests/server/test_api_fuzz.py takes every operation no other shard names), so
the shards run side by side on the suite's workers. Each shard serves and seeds its own
server (:func:`fuzz_target`) and fuzzes its operations as an admin and as a requester
(each generated request sent as both):
schema-valid and schema-breaking requests, no answer a server error, every answer matching
the declared response schema, status and content type, every 4xx the one error shape.
Runs are derandomized (the same examples every time) and bounded in examples per operation
(FUZZ_EXAMPLES raises the count for a longer search by hand).
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
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
ROLES = ("admin", "requester")

# Which operations each shard fuzzes, by path prefix (a prefix ends at a path segment);
# the shard "rest" (tests/server/test_api_fuzz.py) fuzzes every operation none names.
# Measured, the four take about the same time (the rest: devices, mail, mailboxes, identity
# providers, health checks, remote and tool sessions, enrolment, the agent's and the
# plain endpoints).
SHARDS: dict[str, tuple[str, ...]] = {
    "tickets": ("/api/v1/tickets", "/api/v1/views", "/api/v1/problems",
                "/api/v1/problem-suggestions", "/api/v1/satisfaction", "/api/v1/survey",
                "/api/v1/attachments", "/api/v1/canned-responses", "/api/v1/categories",
                "/api/v1/catalog"),
    "knowledge": ("/api/v1/kb", "/api/v1/reports", "/api/v1/sla"),
    "people": ("/api/v1/auth", "/api/v1/users", "/api/v1/groups", "/api/v1/account",
               "/api/v1/settings", "/api/v1/branding", "/api/v1/directories"),
}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def shard_of(path: str) -> str:
    """Return the shard that fuzzes the operations of ``path``."""
    for shard, prefixes in SHARDS.items():
        if any(_under(path, prefix) for prefix in prefixes):
            return shard
    return "rest"


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
    """Run the server on an event loop of its own, so the test can block on HTTP."""
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


def fuzz_target(data: Path) -> Iterator[Target]:
    """A seeded server with an API token for an admin and for a requester."""
    for running in _serve(data):
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


def _fuzz_operation(target: Target, operation: Any, mode: GenerationMode,
                    problems: list[str]) -> None:
    """Send EXAMPLES generated requests to one operation, as each role; note what is wrong.

    Each generated request goes out once per role (admin, then requester): the examples
    are derandomized, so generating them once gives each role the very requests it got
    from a run of its own, at half the generating.
    """
    method, path = operation.method.upper(), operation.path

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for role in ROLES:
            if not _spared(target, role, method, path, case):
                _send(target, role, case, problems)

    try:
        run()
    except BaseException as exc:  # generation itself failed
        if "Unsatisfiable" not in type(exc).__name__:
            problems.append(f"{method} {path}: {type(exc).__name__}: {exc}")


def _send(target: Target, role: str, case: Any, problems: list[str]) -> None:
    """Send one generated request as ``role`` and note what is wrong with the answer."""
    method, path = case.operation.method.upper(), case.operation.path
    response = case.call(base_url=target.server.base_url, session=target.http,
                         verify=target.http.verify,
                         headers={"Authorization": f"Bearer {target.tokens[role][0]}"},
                         timeout=30)
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


def operations(target: Target, shard: str, skip: set[str]) -> list[Any]:
    """Return the shard's operations from the server's OpenAPI document, less ``skip``."""
    doc = target.http.get(target.url("/api/v1/openapi.json"), timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc)
    chosen = [result.ok() for result in schema.get_all_operations()]
    return [op for op in chosen if op.path not in skip and shard_of(op.path) == shard]


def fuzz(target: Target, shard: str, skip: set[str]) -> list[str]:
    """Fuzz the shard's operations as an admin and as a requester; return the problems.

    Afterwards each role's token must still work: a fuzz that ended a caller's access
    would have tested nothing but 401s from then on.
    """
    problems: list[str] = []
    chosen = operations(target, shard, skip)
    assert chosen, f"shard {shard!r} has no operation"
    for operation in chosen:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(target, operation, mode, problems)
    for role, (token, _, _) in target.tokens.items():
        still = target.call("GET", "/api/v1/auth/session", token)
        if still.status_code != 200:
            problems.append(f"{role}: the token no longer works after the fuzz "
                            f"({still.status_code} {still.text[:200]})")
    return problems
