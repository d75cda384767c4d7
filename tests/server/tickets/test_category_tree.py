"""Category trees (tickets and KB): rename, move without cycles, retire keeping old work."""

from __future__ import annotations

from typing import Any

import pytest

from server.category_tree import ancestors, descendants
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

TREES = [("/api/v1/categories", "tickets"), ("/api/v1/kb/categories", "kb")]


def test_ancestors_and_descendants_follow_the_parent_links() -> None:
    """Walking up stops at the root (or a cycle); descendants are the whole subtree."""
    parents: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: 1, 5: None}
    assert ancestors(parents, 3) == [3, 2, 1]
    assert ancestors({1: 2, 2: 1}, 1) == [1, 2]
    assert descendants(parents, 1) == {2, 3, 4}
    assert descendants(parents, 5) == set()


async def _make(admin: Client, path: str, name: str, parent: int | None = None) -> dict[str, Any]:
    resp = await admin.post(path, json={"name": name, "parent_id": parent})
    assert resp.status == 201, resp.body
    return dict(resp.json)


@pytest.mark.parametrize(("path", "_kind"), TREES)
async def test_rename_move_and_cycles(clients: dict[str, Client], path: str, _kind: str) -> None:
    """A category is renamed and moved; moving under itself or a child is refused."""
    admin = clients["admin"]
    hw = await _make(admin, path, "Hardware")
    laptops = await _make(admin, path, "Laptops", hw["id"])
    batteries = await _make(admin, path, "Batteries", laptops["id"])
    net = await _make(admin, path, "Network")
    for parent in (hw["id"], laptops["id"], batteries["id"]):
        resp = await admin.patch(f"{path}/{hw['id']}", json={"parent_id": parent})
        assert (resp.status, resp.json["error"]["code"]) == (422, "invalid_parent")
    resp = await admin.patch(f"{path}/{laptops['id']}", json={"parent_id": net["id"],
                                                               "name": "Notebooks"})
    assert resp.status == 200 and resp.json["parent_id"] == net["id"]
    taken = await admin.patch(f"{path}/{batteries['id']}",
                              json={"parent_id": net["id"], "name": "notebooks"})
    assert (taken.status, taken.json["error"]["code"]) == (409, "conflict")
    assert (await admin.patch(f"{path}/999", json={"name": "x"})).status == 404
    assert (await admin.patch(f"{path}/{hw['id']}", json={"name": " "})).status == 422
    top = await admin.patch(f"{path}/{laptops['id']}", json={"parent_id": None})
    assert top.json["parent_id"] is None
    items = {c["name"]: c for c in (await admin.get(path)).json["items"]}
    assert items["Batteries"]["parent_id"] == laptops["id"]
    assert (await clients["technician"].patch(f"{path}/{hw['id']}",
                                              json={"name": "x"})).status == 403


@pytest.mark.parametrize(("path", "_kind"), TREES)
async def test_retiring_retires_the_subtree_and_refuses_new_children(
        clients: dict[str, Client], path: str, _kind: str) -> None:
    """A retired category takes its children along; it cannot get new ones until restored."""
    admin = clients["admin"]
    hw = await _make(admin, path, "Hardware")
    laptops = await _make(admin, path, "Laptops", hw["id"])
    assert (await admin.patch(f"{path}/{hw['id']}", json={"active": False})).json["active"] is False
    items = {c["name"]: c for c in (await admin.get(path)).json["items"]}
    assert (items["Hardware"]["active"], items["Laptops"]["active"]) == (False, False)
    refused = await admin.post(path, json={"name": "Mice", "parent_id": hw["id"]})
    assert (refused.status, refused.json["error"]["code"]) == (422, "invalid_parent")
    child_first = await admin.patch(f"{path}/{laptops['id']}", json={"active": True})
    assert child_first.status == 422
    assert (await admin.patch(f"{path}/{hw['id']}", json={"active": True})).json["active"]
    assert (await admin.patch(f"{path}/{laptops['id']}", json={"active": True})).json["active"]


async def test_tickets_keep_a_retired_category_but_new_ones_cannot_use_it(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """An old ticket keeps its retired category through edits; new tickets are refused it."""
    admin, tech = clients["admin"], clients["technician"]
    hw = await _make(admin, "/api/v1/categories", "Hardware")
    other = await _make(admin, "/api/v1/categories", "Other")
    ticket = (await tech.post("/api/v1/tickets", json={
        "title": "Broken", "kind": "incident", "category_id": hw["id"]})).json
    await admin.patch(f"/api/v1/categories/{hw['id']}", json={"name": "Old hardware",
                                                               "parent_id": other["id"]})
    await admin.patch(f"/api/v1/categories/{hw['id']}", json={"active": False})
    kept = await tech.patch(f"/api/v1/tickets/{ticket['id']}",
                            json={"title": "Broken laptop", "category_id": hw["id"]})
    assert (kept.status, kept.json["category_id"]) == (200, hw["id"])
    new = await tech.post("/api/v1/tickets", json={"title": "x", "kind": "incident",
                                                   "category_id": hw["id"]})
    assert (new.status, new.json["error"]["code"]) == (422, "validation_error")
    assert "retired" in new.json["error"]["message"]
    moved = await tech.patch(f"/api/v1/tickets/{ticket['id']}", json={"category_id": other["id"]})
    assert moved.status == 200
    back = await tech.patch(f"/api/v1/tickets/{ticket['id']}", json={"category_id": hw["id"]})
    assert back.status == 422


async def test_articles_keep_a_retired_kb_category(clients: dict[str, Client]) -> None:
    """An article keeps its retired KB category when saved again; new articles cannot pick it."""
    admin, tech = clients["admin"], clients["technician"]
    vpn = await _make(admin, "/api/v1/kb/categories", "VPN")
    article = (await tech.post("/api/v1/kb/articles", json={
        "title": "Connect", "body": "Steps", "category_id": vpn["id"]})).json
    await admin.patch(f"/api/v1/kb/categories/{vpn['id']}", json={"active": False})
    saved = await tech.patch(f"/api/v1/kb/articles/{article['id']}", json={
        "title": "Connect to the VPN", "category_id": vpn["id"]})
    assert (saved.status, saved.json["category_id"]) == (200, vpn["id"]), saved.body
    new = await tech.post("/api/v1/kb/articles", json={"title": "x", "body": "y",
                                                       "category_id": vpn["id"]})
    assert new.status == 422
