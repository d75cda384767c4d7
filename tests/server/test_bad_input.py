"""Bad input of every kind gets the error shape and changes nothing stored."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import metadata
from server.keys import ENDPOINTS
from tests.support.error_log import ErrorLog
from tests.support.server import Client, RunningServer

# Columns that legitimately move while a caller merely makes requests.
_VOLATILE = {("auth_sessions", "last_seen_at"), ("api_tokens", "last_used_at")}


async def snapshot(server: RunningServer) -> dict[str, list[tuple[Any, ...]]]:
    """Return every stored row of every table (volatile timestamps left out)."""

    def read(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if (table.name, c.name) not in _VOLATILE]
            out[table.name] = [tuple(r) for r in conn.execute(
                sa.select(*cols).order_by(*table.primary_key.columns))]
        return out

    return await server.db.read(read)


def _body_endpoints(server: RunningServer) -> list[tuple[str, str]]:
    return [(e.method, re.sub(r"\{\w+\}", "1", e.openapi_path))
            for e in server.app[ENDPOINTS] if e.body is not None]


BAD_BODIES: list[tuple[str, bytes, str, int, str]] = [
    ("malformed JSON", b'{"name": ', "application/json", 400, "invalid_json"),
    ("garbage bytes", os.urandom(64).replace(b"{", b"x"), "application/json", 400,
     "invalid_json"),
    ("empty body", b"", "application/json", 400, "invalid_json"),
    ("array, not object", b"[1, 2]", "application/json", 422, "validation_error"),
    ("unknown field only", b'{"zzz_unknown": 1}', "application/json", 422,
     "validation_error"),
    ("deeply nested arrays", b"[" * 100_000, "application/json", 400, "invalid_json"),
    ("deeply nested in a field", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "application/json", 400, "invalid_json"),
    ("deeply nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json",
     400, "invalid_json"),
    ("form encoding", b"name=x", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("no content type", b'{"name": "x"}', "", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize(("label", "raw", "ctype", "status", "code"), BAD_BODIES,
                         ids=[b[0] for b in BAD_BODIES])
async def test_bad_bodies_on_every_endpoint(
        server: RunningServer, admin: Client,
        label: str, raw: bytes, ctype: str, status: int, code: str) -> None:
    """Every endpoint taking a body rejects this kind of bad body the same way."""
    await server.create_user(admin, "victim", "requester")  # something to lose
    before = await snapshot(server)
    for method, path in _body_endpoints(server):
        headers = {"Content-Type": ctype} if ctype else {}
        resp = await admin.request(method, path, data=raw, headers=headers)
        assert resp.status == status, (label, method, path, resp.body)
        assert resp.error_code == code, (label, method, path)
    assert await snapshot(server) == before


async def test_oversized_body_is_refused_with_its_limit(
        server: RunningServer, admin: Client) -> None:
    """A body over max_body_bytes gets 413 naming the limit; nothing is created."""
    before = await snapshot(server)
    limit = server.settings.max_body_bytes
    big = b'{"name": "' + b"x" * (limit + 10) + b'"}'
    resp = await admin.request("POST", "/api/v1/groups", data=io.BytesIO(big),
                               headers={"Content-Type": "application/json"})
    assert resp.status == 413
    assert resp.error_code == "body_too_large"
    assert str(limit) in resp.json["error"]["message"]
    assert await snapshot(server) == before


WRONG_USERS: list[tuple[str, dict[str, Any]]] = [
    ("username not a string", {"username": 5, "display_name": "X", "role": "requester"}),
    ("bad username chars", {"username": "Bad Name", "display_name": "X", "role": "requester"}),
    ("unknown role", {"username": "x1", "display_name": "X", "role": "root"}),
    ("missing display name", {"username": "x1", "role": "requester"}),
    ("unknown field", {"username": "x1", "display_name": "X", "role": "requester",
                       "is_superuser": True}),
    ("empty display name", {"username": "x1", "display_name": "", "role": "requester"}),
    ("email not an address", {"username": "x1", "display_name": "X", "role": "requester",
                              "email": "nope"}),
    ("short password", {"username": "x1", "display_name": "X", "role": "requester",
                        "password": "short"}),
    ("null role", {"username": "x1", "display_name": "X", "role": None}),
]


@pytest.mark.parametrize(("label", "body"), WRONG_USERS, ids=[w[0] for w in WRONG_USERS])
async def test_wrong_user_fields_are_rejected(
        server: RunningServer, admin: Client, label: str, body: dict[str, Any]) -> None:
    """A user body with a wrong type, value or extra field is a 422 and creates nothing."""
    before = await snapshot(server)
    resp = await admin.post("/api/v1/users", json=body)
    assert resp.status == 422, (label, resp.body)
    assert resp.error_code == "validation_error"
    assert await snapshot(server) == before


# method, path, body: one field of each patterned kind, valid but for a trailing newline
TRAILING_NEWLINES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/users", {"username": "nina", "display_name": "Nina",
                               "role": "requester", "email": "nina@example.org\n"}),
    ("POST", "/api/v1/tickets", {"title": "Printer", "tags": ["printer\n"]}),
    ("POST", "/api/v1/catalog", {"name": "Laptop", "fields": [
        {"name": "model\n", "label": "Model"}]}),
    ("POST", "/api/v1/sla/calendars", {"name": "Office", "tz": "UTC", "hours": {
        "mon": ["09:00-17:00\n"]}}),
    ("POST", "/api/v1/sla/calendars", {"name": "Office", "tz": "UTC", "hours": {},
                                       "holidays": ["2026-12-24\n"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), TRAILING_NEWLINES,
                         ids=[str(i) for i in range(len(TRAILING_NEWLINES))])
async def test_a_trailing_newline_does_not_pass_a_pattern(
        server: RunningServer, admin: Client,
        method: str, path: str, body: dict[str, Any]) -> None:
    """A patterned text with a trailing newline (e-mail, tag, field name, hours, date) is a
    422 and stores nothing."""
    before = await snapshot(server)
    resp = await admin.request(method, path, json=body)
    assert (resp.status, resp.error_code) == (422, "validation_error"), resp.body
    assert await snapshot(server) == before
    for query in ("assignee=me%0A", "status=new%0A"):
        listed = await admin.get(f"/api/v1/tickets?{query}")
        assert (listed.status, listed.error_code) == (422, "validation_error"), query


BAD_QUERIES = [
    ("limit=abc", 422, "validation_error"),
    ("limit=0", 422, "validation_error"),
    ("limit=-5", 422, "validation_error"),
    ("bogus=1", 422, "validation_error"),
    ("role=root", 422, "validation_error"),
    ("limit=1&limit=2", 422, "validation_error"),
    ("cursor=%25%25not-base64", 400, "invalid_cursor"),
    ("cursor=WyJ4Il0", 400, "invalid_cursor"),  # a valid encoding of ["x"]
]


@pytest.mark.parametrize(("query", "status", "code"), BAD_QUERIES,
                         ids=[q[0] for q in BAD_QUERIES])
async def test_bad_query_strings_are_rejected(
        admin: Client, query: str, status: int, code: str) -> None:
    """A list endpoint rejects wrong query parameters with the error shape."""
    resp = await admin.get(f"/api/v1/users?{query}")
    assert resp.status == status, resp.body
    assert resp.error_code == code


async def test_query_on_endpoint_without_query_is_rejected(admin: Client) -> None:
    """A query parameter where none is declared is an error, not silently ignored."""
    resp = await admin.get("/api/v1/auth/session?x=1")
    assert resp.status == 422
    assert resp.error_code == "validation_error"


async def test_unknown_route_and_wrong_method_use_the_error_shape(admin: Client) -> None:
    """404 and 405 from routing carry the same JSON error shape."""
    missing = await admin.get("/api/v1/nothing-here")
    assert missing.status == 404
    assert missing.error_code == "not_found"
    wrong = await admin.request("PUT", "/api/v1/users")
    assert wrong.status == 405
    assert wrong.error_code == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


async def test_non_numeric_id_is_not_found(admin: Client) -> None:
    """An id that is not a number matches no route."""
    resp = await admin.get("/api/v1/users/abc")
    assert resp.status == 404
    assert resp.error_code == "not_found"


async def test_body_on_bodiless_endpoint_is_rejected(
        server: RunningServer, admin: Client) -> None:
    """A body sent to an endpoint that takes none is refused, not ignored."""
    group = await admin.post("/api/v1/groups", json={"name": "Ops"})
    user = await server.create_user(admin, "mia", "technician")
    resp = await admin.put(f"/api/v1/groups/{group.json['id']}/members/{user['id']}",
                           json={"role": "lead"})
    assert resp.status == 422
    assert resp.error_code == "validation_error"
    after = await admin.get(f"/api/v1/groups/{group.json['id']}")
    assert after.json["member_ids"] == []


async def test_wrong_auth_header_is_unauthorized(server: RunningServer) -> None:
    """A malformed or unknown bearer token is a 401 with WWW-Authenticate."""
    client = server.client()
    for header in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer dm_not-a-token", "garbage"):
        resp = await client.get("/api/v1/users", headers={"Authorization": header})
        assert resp.status == 401, header
        assert resp.error_code == "unauthorized"
        assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.expect_error_log(r"deskmate\.http: unhandled error \w+ on GET /api/v1/groups"
                              r"\nRuntimeError: secret detail")
async def test_errors_never_leak_internals(server: RunningServer, admin: Client,
                                           error_log: ErrorLog) -> None:
    """An internal error answers a reference, not a traceback; the log has both."""

    def broken(_conn: sa.Connection) -> None:
        raise RuntimeError("secret detail /etc/shadow")

    async def explode(_req: Any) -> None:
        await server.db.read(broken)

    endpoint = next(e for e in server.app[ENDPOINTS] if e.openapi_path == "/api/v1/groups"
                    and e.method == "GET")
    original = endpoint.handler
    object.__setattr__(endpoint, "handler", explode)
    try:
        resp = await admin.get("/api/v1/groups")
    finally:
        object.__setattr__(endpoint, "handler", original)
    assert resp.status == 500
    assert resp.error_code == "internal_error"
    assert b"secret" not in resp.body and b"Traceback" not in resp.body
    (logged,) = error_log.allowed
    reference = re.search(r"reference (\w+)", resp.json["error"]["message"])
    assert reference is not None and reference[1] in logged.getMessage()


async def test_numbers_too_large_for_the_database_are_refused(admin: Client) -> None:
    """Ids and filters beyond 64 bits get a clear 4xx, never a 500."""
    for path, status in (("/api/v1/users/99999999999999999999", 404),
                         ("/api/v1/users?group_id=99999999999999999999", 422),
                         ("/api/v1/users?ids=99999999999999999999", 422),
                         ("/api/v1/kb/search?q=vpn&category_id=-802501698927913710762590208",
                          422),
                         ("/api/v1/tickets?category_id=99999999999999999999", 422)):
        resp = await admin.get(path)
        assert resp.status == status, (path, resp.body)
        resp.error_code  # noqa: B018 - asserts the error shape
    for path, body in (("/api/v1/tickets", {"title": "x", "category_id": 10**30}),
                       ("/api/v1/kb/articles", {"title": "x", "category_id": -(10**20)})):
        resp = await admin.post(path, json=body)
        assert resp.status == 422, (path, resp.body)
        assert resp.error_code == "validation_error"


async def test_non_ascii_csrf_token_is_refused_not_crashing(admin: Client) -> None:
    """A CSRF header with non-ASCII bytes is a plain 403."""
    resp = await admin.post("/api/v1/groups", json={"name": "x"}, csrf=False,
                            headers={"X-CSRF-Token": "é"})
    assert resp.status == 403
    assert resp.error_code == "csrf_failed"


async def test_body_on_delete_is_rejected(server: RunningServer, admin: Client) -> None:
    """DELETE takes no body either: one sent is refused and nothing is deleted."""
    group = await admin.post("/api/v1/groups", json={"name": "Ops"})
    resp = await admin.request("DELETE", f"/api/v1/groups/{group.json['id']}",
                               json={"cascade": True})
    assert resp.status == 422 and resp.error_code == "validation_error"
    assert (await admin.get(f"/api/v1/groups/{group.json['id']}")).status == 200
