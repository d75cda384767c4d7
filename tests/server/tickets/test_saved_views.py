"""The desk's saved views: personal ones are their owner's alone, shared ones the admins'."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases

FILTERS = {"view": "all", "q": "printer", "status": "pending", "priority": 2,
           "kind": "incident", "sort": "priority"}


async def _view(client: Client, name: str, **extra: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/views", json={"name": name, "filters": FILTERS, **extra})
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_personal_views_are_invisible_to_everyone_else(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Another technician, or an admin, neither lists, opens, renames nor deletes my view."""
    tina, admin = clients["technician"], clients["admin"]
    await server.create_user(admin, "tom", "technician")
    tom = await server.login("tom")
    mine = await _view(tina, "Printers waiting")
    assert mine["filters"] == FILTERS and mine["shared"] is False and mine["editable"]
    assert [v["name"] for v in (await tina.get("/api/v1/views")).json["items"]] == [
        "Printers waiting"]
    path = f"/api/v1/views/{mine['id']}"
    for other in (tom, admin):
        assert (await other.get("/api/v1/views")).json["items"] == []
        for resp in (await other.get(path), await other.patch(path, json={"name": "x"}),
                     await other.delete(path)):
            assert resp.status == 404 and resp.error_code == "not_found"
    renamed = await tina.patch(path, json={"name": "Printers, pending"})
    assert renamed.status == 200 and renamed.json["name"] == "Printers, pending"
    # Two people may use the same name for their own views; one person may not twice.
    await _view(tom, "Printers, pending")
    twice = await tina.post("/api/v1/views", json={"name": "printers, PENDING",
                                                   "filters": FILTERS})
    assert twice.status == 409 and twice.error_code == "name_taken"
    assert twice.json["error"]["message"].startswith("name: ")
    assert (await tina.delete(path)).status == 204
    assert (await tina.get(path)).status == 404


async def test_shared_views_are_listed_for_all_staff_and_kept_by_admins(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Admins share a view; technicians see and open it but may not share, change or delete."""
    tina, admin, rick = clients["technician"], clients["admin"], clients["requester"]
    refused = await tina.post("/api/v1/views", json={"name": "Team", "shared": True,
                                                     "filters": FILTERS})
    assert refused.status == 403 and refused.error_code == "forbidden"
    team = await _view(admin, "Team queue", shared=True)
    own = await _view(tina, "Mine")
    listed = (await tina.get("/api/v1/views")).json["items"]
    assert [(v["name"], v["shared"], v["editable"]) for v in listed] == [
        ("Team queue", True, False), ("Mine", False, True)]
    path = f"/api/v1/views/{team['id']}"
    opened = await tina.get(path)
    assert opened.status == 200 and opened.json["owner"]["id"] == admin.user["id"]
    for resp in (await tina.patch(path, json={"name": "Ours"}), await tina.delete(path)):
        assert resp.status == 403 and resp.error_code == "forbidden"
    share = await tina.patch(f"/api/v1/views/{own['id']}", json={"shared": True})
    assert share.status == 403
    assert (await rick.get("/api/v1/views")).status == 403  # the desk's, not the portal's
    changed = await admin.patch(path, json={"filters": {**FILTERS, "q": "scanner"}})
    assert changed.status == 200 and changed.json["filters"]["q"] == "scanner"
    assert (await admin.delete(path)).status == 204
    assert [v["name"] for v in (await tina.get("/api/v1/views")).json["items"]] == ["Mine"]


async def test_bad_views_are_refused_with_nothing_stored(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Blank names, unknown filters and wrong values are a 422 naming the field."""
    tina = clients["technician"]
    before = await snapshot(server)
    for body in ({"name": "   ", "filters": FILTERS},
                 {"name": "x", "filters": {**FILTERS, "status": "asleep"}},
                 {"name": "x", "filters": {**FILTERS, "priority": 9}},
                 {"name": "x", "filters": {**FILTERS, "colour": "red"}},
                 {"name": "x" * 101, "filters": FILTERS},
                 {"name": "x"}):
        resp = await tina.post("/api/v1/views", json=body)
        assert resp.status == 422 and resp.error_code == "validation_error", (body, resp.body)
    assert await snapshot(server) == before
