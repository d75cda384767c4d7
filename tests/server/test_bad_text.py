"""Blank required text and NUL characters are refused with 422 wherever text comes in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # PostgreSQL is the one that cannot store NUL

BLANKS = ["   ", "\t\n", "\u3000", "\u00a0 "]

# method, path ({t}: a ticket id, {g}: a group id), body with the bad text at "X"
BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/tickets", {"title": "X"}),
    ("POST", "/api/v1/tickets", {"title": "ok", "description": "X"}),
    ("POST", "/api/v1/tickets", {"title": "ok", "tags": ["X"]}),
    ("PATCH", "/api/v1/tickets/{t}", {"title": "X"}),
    ("PATCH", "/api/v1/tickets/{t}", {"resolution_note": "X"}),
    ("POST", "/api/v1/tickets/{t}/comments", {"body": "X"}),
    ("POST", "/api/v1/groups", {"name": "X"}),
    ("PATCH", "/api/v1/groups/{g}", {"description": "X"}),
    ("POST", "/api/v1/users", {"username": "nul1", "display_name": "X", "role": "requester"}),
    ("POST", "/api/v1/categories", {"name": "X"}),
    ("POST", "/api/v1/kb/categories", {"name": "X"}),
    ("POST", "/api/v1/kb/articles", {"title": "X"}),
    ("POST", "/api/v1/kb/articles", {"title": "ok", "body": "X"}),
    ("POST", "/api/v1/canned-responses", {"title": "X", "body": "ok"}),
    ("POST", "/api/v1/catalog", {"name": "X"}),
    ("POST", "/api/v1/sla/calendars", {"name": "X", "tz": "UTC", "hours": {}}),
    ("POST", "/api/v1/auth/tokens", {"name": "X"}),
]

# Text that may be empty, so blank is fine there.
OPTIONAL = {("/api/v1/tickets", "description"), ("/api/v1/kb/articles", "body"),
            ("/api/v1/groups/{g}", "description")}


async def _ids(admin: Client) -> dict[str, int]:
    ticket = await admin.post("/api/v1/tickets", json={"title": "Printer"})
    group = await admin.post("/api/v1/groups", json={"name": "Ops"})
    assert ticket.status == group.status == 201
    return {"t": ticket.json["id"], "g": group.json["id"]}


def _put(body: Any, text: str) -> Any:
    if isinstance(body, dict):
        return {k: _put(v, text) for k, v in body.items()}
    if isinstance(body, list):
        return [_put(v, text) for v in body]
    return text if body == "X" else body


async def test_nul_characters_are_refused_in_every_text(
        server: RunningServer, admin: Client) -> None:
    """A NUL character in any text of a body is a 422 that names the field; nothing stored."""
    ids = await _ids(admin)
    before = await snapshot(server)
    for method, path, body in BODIES:
        for text in ("a\x00b", "\x00", "Printer\x00"):
            resp = await admin.request(method, path.format(**ids), json=_put(body, text))
            assert resp.status == 422, (method, path, body, resp.body)
            assert resp.error_code == "validation_error"
            if "tags" not in body:  # a tag's pattern refuses it first
                assert "NUL" in resp.json["error"]["message"], resp.body
    assert await snapshot(server) == before


async def test_blank_required_text_is_refused(server: RunningServer, admin: Client) -> None:
    """Required text (a title, a name, a comment) of only white space is a 422."""
    ids = await _ids(admin)
    before = await snapshot(server)
    for method, path, body in BODIES:
        if (path, next(k for k, v in body.items() if v in ("X", ["X"]))) in OPTIONAL:
            continue
        for text in BLANKS:
            resp = await admin.request(method, path.format(**ids), json=_put(body, text))
            assert resp.status == 422, (method, path, body, repr(text), resp.body)
            assert resp.error_code == "validation_error"
    assert await snapshot(server) == before


async def test_text_rules_cover_queries_and_free_form_fields(
        server: RunningServer, admin: Client, requester: Client) -> None:
    """NUL in a query string, or in a catalog form's free values, is a 422 as well."""
    for path in ("/api/v1/tickets?q=a%00b", "/api/v1/users?q=%00", "/api/v1/kb/search?q=%00",
                 "/api/v1/tickets?tag=a%00", "/api/v1/kb/search?q=%20%20"):
        resp = await admin.get(path)
        assert resp.status == 422, (path, resp.body)
        assert resp.error_code == "validation_error"
    item = await admin.post("/api/v1/catalog", json={"name": "Laptop"})
    assert item.status == 201, item.body
    before = await snapshot(server)
    for body in ({"values": {"model": "x\x00"}}, {"values": {"mo\x00del": "x"}},
                 {"title": " \t "}, {"description": "\x00"}):
        resp = await requester.post(f"/api/v1/catalog/{item.json['id']}/requests", json=body)
        assert resp.status == 422, (body, resp.body)
    assert await snapshot(server) == before
