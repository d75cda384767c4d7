"""Tampered pagination cursors get 400 invalid_cursor on every list, for every sort."""

from __future__ import annotations

import base64
import re
import urllib.parse

import msgspec
import pytest

from server.keys import ENDPOINTS
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

# JSON texts a client could put in a cursor; none is a sort key any list makes.
TAMPERED = [
    '["x","y"]', "[null]", "[null,null]", "[null,null,null]", "[true]", "[true,false]",
    "[false,true,false]", '[{"a":1}]', '[{"a":1},{"b":2}]', "[[1],[2]]",
    "[100000000000000000000000000000]", "[1e400,1]", "[Infinity,1]", "[NaN]",
    '["not a date",1]', '["2026-01-01T00:00:00",1]', '["9999-12-31T23:59:59-23:00",1]',
    "[1.5]", "[1.5,2.5]", '["1"]', '["1","2"]', "[]", '{"a":1}', '"x"', "[1,2,3,4]",
    '[0,"x",1]', '[2,null,1]', '[1,"2026-01-01T00:00:00+00:00",true]', "[-1e308,null]",
]
# Values for the required query parameters of lists.
REQUIRED = {"q": "printer", "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _lists(server: RunningServer) -> list[str]:
    """Return a URL for every list that takes a cursor (and each sort of the ticket list)."""
    urls = []
    for e in server.app[ENDPOINTS]:
        if e.method != "GET" or e.query is None:
            continue
        fields = {f.encode_name: f for f in msgspec.structs.fields(e.query)}
        if "cursor" not in fields:
            continue
        path = re.sub(r"\{\w+\}", "1", e.openapi_path) + "?"
        path += "&".join(f"{k}={v}" for k, v in REQUIRED.items()
                         if k in fields and fields[k].required)
        if e.openapi_path == "/api/v1/tickets":
            for sort in ("-id", "id", "priority", "due", "-updated"):
                urls += [f"{path}sort={sort}", f"{path}sort={sort}&q=printer"]
        elif "q" in fields and not fields["q"].required:
            urls += [path, path + "q=printer"]
        else:
            urls.append(path)
    return urls


async def test_tampered_cursors_are_refused_on_every_list(
        server: RunningServer, admin: Client) -> None:
    """Every tampered cursor on every list and sort is a 400 invalid_cursor, never a 500."""
    made = await admin.post("/api/v1/tickets", json={
        "title": "printer jam", "description": "the printer on floor 2", "impact": 2,
        "urgency": 2})
    assert made.status == 201, made.body
    urls = _lists(server)
    assert len(urls) >= 15, urls  # users, groups, devices, KB, SLA, every ticket sort
    wrong = []
    for url in urls:
        for text in TAMPERED:
            joiner = "" if url.endswith("?") else "&"
            resp = await admin.get(f"{url}{joiner}cursor={urllib.parse.quote(_cursor(text))}")
            if resp.status != 400 or resp.error_code != "invalid_cursor":
                wrong.append((url, text, resp.status, resp.body[:120]))
    assert not wrong, wrong


async def test_cursors_the_lists_make_still_page(admin: Client) -> None:
    """The cursors a list returns walk every ticket sort to the end without repeats."""
    for i in range(5):
        made = await admin.post("/api/v1/tickets", json={
            "title": f"printer {i}", "description": "printer", "impact": 1 + i % 3,
            "urgency": 2})
        assert made.status == 201, made.body
    for query in ("sort=-id", "sort=id", "sort=priority", "sort=due", "sort=-updated",
                  "q=printer"):
        seen: list[int] = []
        url = f"/api/v1/tickets?{query}&limit=2"
        while url:
            page = await admin.get(url)
            assert page.status == 200, (query, page.body)
            seen += [t["id"] for t in page.json["items"]]
            cursor = page.json["next_cursor"]
            url = f"/api/v1/tickets?{query}&limit=2&cursor={cursor}" if cursor else ""
        assert sorted(seen) == sorted(set(seen)) and len(seen) == 5, (query, seen)
