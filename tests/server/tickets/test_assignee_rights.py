"""Who may hold a ticket or decide on it: assignees are active staff, approvers active users."""

from __future__ import annotations

import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def test_a_requester_cannot_be_made_assignee(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """PATCH with a requester as assignee_id is refused with 422 and changes nothing."""
    rick = clients["requester"]
    ticket = (await rick.post("/api/v1/tickets", json={"title": "Printer jam"})).json
    before = await snapshot(server)
    resp = await clients["technician"].patch(f"/api/v1/tickets/{ticket['id']}",
                                             json={"assignee_id": rick.user["id"]})
    assert resp.status == 422, resp.body
    assert resp.error_code == "validation_error"
    assert "assignee_id" in resp.json["error"]["message"]
    assert await snapshot(server) == before


async def test_a_ticket_cannot_be_created_with_a_requester_as_assignee(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Creating a ticket assigned to a requester (or an admin's ticket for one) is refused."""
    rick = clients["requester"]
    for creator in (clients["technician"], clients["admin"]):
        resp = await creator.post("/api/v1/tickets", json={
            "title": "Disk full", "requester_id": rick.user["id"],
            "assignee_id": rick.user["id"]})
        assert resp.status == 422, resp.body
        assert "assignee_id" in resp.json["error"]["message"]


async def test_staff_of_either_role_can_be_assigned(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Technicians and admins are valid assignees."""
    ticket = (await clients["requester"].post("/api/v1/tickets", json={"title": "Wifi"})).json
    for who in ("technician", "admin"):
        resp = await clients["technician"].patch(
            f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": clients[who].user["id"]})
        assert resp.status == 200, resp.body
        assert resp.json["assignee"]["id"] == clients[who].user["id"]


async def test_a_deactivated_approver_is_not_asked(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A request type whose approver was deactivated refuses new requests (422)."""
    admin = clients["admin"]
    boss = await server.create_user(admin, "boss", "requester")
    item = (await admin.post("/api/v1/catalog", json={
        "name": "Monitor", "approval": "approver", "approver_id": boss["id"]})).json
    assert (await admin.patch(f"/api/v1/users/{boss['id']}", json={"active": False})).status == 200
    before = await snapshot(server)
    resp = await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests", json={})
    assert resp.status == 422, resp.body
    assert "approver" in resp.json["error"]["message"]
    assert await snapshot(server) == before


async def test_a_group_manager_must_be_an_active_user(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A deactivated user cannot be made a group's manager (who approves its requests)."""
    admin = clients["admin"]
    gone = await server.create_user(admin, "gone", "technician")
    await admin.patch(f"/api/v1/users/{gone['id']}", json={"active": False})
    group = (await admin.post("/api/v1/groups", json={"name": "Facilities"})).json
    resp = await admin.patch(f"/api/v1/groups/{group['id']}", json={"manager_id": gone["id"]})
    assert resp.status == 422, resp.body
    assert "manager_id" in resp.json["error"]["message"]
    ok = await admin.patch(f"/api/v1/groups/{group['id']}",
                           json={"manager_id": clients["requester"].user["id"]})
    assert ok.status == 200, ok.body


async def test_a_deactivated_group_manager_is_not_asked(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A request needing the group manager's approval is refused when the manager left."""
    admin = clients["admin"]
    boss = await server.create_user(admin, "boss", "requester")
    group = (await admin.post("/api/v1/groups", json={"name": "Buyers"})).json
    await admin.patch(f"/api/v1/groups/{group['id']}", json={"manager_id": boss["id"]})
    item = (await admin.post("/api/v1/catalog", json={
        "name": "Chair", "approval": "group_manager", "group_id": group["id"]})).json
    await admin.patch(f"/api/v1/users/{boss['id']}", json={"active": False})
    resp = await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests", json={})
    assert resp.status == 422, resp.body
    assert "manager" in resp.json["error"]["message"]
