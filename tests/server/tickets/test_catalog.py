"""The service catalog: typed forms, and approval by a named approver or a manager."""

from __future__ import annotations

from typing import Any

import pytest

from server.errors import ValidationFailed
from server.tickets.catalog import FormField, validate_form
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

LAPTOP_FIELDS = [
    {"name": "model", "label": "Model", "type": "select", "required": True,
     "options": ["13-inch", "15-inch"]},
    {"name": "reason", "label": "Reason", "type": "textarea", "required": True},
    {"name": "docking", "label": "Docking station", "type": "checkbox"},
    {"name": "budget", "label": "Budget", "type": "number"},
]


def test_form_values_are_checked_against_their_fields() -> None:
    """Required, typed and select fields are enforced; unknown ones refused."""
    fields = [FormField(**f) for f in LAPTOP_FIELDS]  # type: ignore[arg-type]
    ok = validate_form(fields, {"model": "13-inch", "reason": "old one died",
                                "docking": True, "budget": 1500})
    assert list(ok) == ["model", "reason", "docking", "budget"]
    for bad, message in [({"reason": "x"}, "Model is required"),
                         ({"model": "17-inch", "reason": "x"}, "one of"),
                         ({"model": "13-inch", "reason": "x", "docking": "yes"}, "true or"),
                         ({"model": "13-inch", "reason": "x", "budget": True}, "number"),
                         ({"model": "13-inch", "reason": "x", "colour": "red"}, "unknown")]:
        with pytest.raises(ValidationFailed, match=message):
            validate_form(fields, bad)


async def _item(admin: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "New laptop")
    body.setdefault("fields", LAPTOP_FIELDS)
    resp = await admin.post("/api/v1/catalog", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_request_without_approval_goes_to_the_group(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A plain request type files a service request for its group, with the form."""
    admin = clients["admin"]
    group = (await admin.post("/api/v1/groups", json={"name": "Hardware"})).json
    item = await _item(admin, group_id=group["id"])
    resp = await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests", json={
        "values": {"model": "15-inch", "reason": "Screen cracked"}})
    assert resp.status == 201, resp.body
    ticket = resp.json
    assert (ticket["kind"], ticket["number"], ticket["approval"]) == (
        "service_request", "REQ-000001", "not_required")
    assert ticket["group_id"] == group["id"]
    assert ticket["form"] == {"model": "15-inch", "reason": "Screen cracked"}
    assert "Model: 15-inch" in ticket["description"]


async def test_named_approver_approves_then_work_starts(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A request waits for its named approver; approval hands it to the group's member."""
    admin = clients["admin"]
    boss = await server.create_user(admin, "boss", "requester")
    group = (await admin.post("/api/v1/groups", json={"name": "Buyers",
                                                      "auto_assign": "round_robin"})).json
    await admin.put(f"/api/v1/groups/{group['id']}/members/{clients['technician'].user['id']}")
    item = await _item(admin, approval="approver", approver_id=boss["id"],
                       group_id=group["id"])
    ticket = (await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests",
                                              json={"values": {"model": "13-inch",
                                                               "reason": "new hire"}})).json
    assert (ticket["approval"], ticket["approver"]["id"]) == ("requested", boss["id"])
    assert ticket["assignee"] is None
    not_yours = await clients["technician"].post(f"/api/v1/tickets/{ticket['id']}/approval",
                                                 json={"decision": "approve"})
    assert not_yours.status == 403
    approver = await server.login("boss")
    seen = await approver.get(f"/api/v1/tickets/{ticket['id']}")
    assert seen.status == 200  # the approver may read what they approve
    done = await approver.post(f"/api/v1/tickets/{ticket['id']}/approval",
                               json={"decision": "approve", "comment": "OK within budget"})
    assert done.status == 200, done.body
    assert done.json["approval"] == "approved"
    assert done.json["assignee"]["id"] == clients["technician"].user["id"]
    twice = await approver.post(f"/api/v1/tickets/{ticket['id']}/approval",
                                json={"decision": "reject"})
    assert twice.status == 422


async def test_group_manager_rejects_and_the_request_is_cancelled(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """With manager approval, the group's manager decides; a rejection cancels the request."""
    admin = clients["admin"]
    manager = await server.create_user(admin, "manager", "technician")
    group = (await admin.post("/api/v1/groups", json={"name": "Access"})).json
    item = await _item(admin, name="Access permission", fields=[], approval="group_manager",
                       group_id=group["id"])
    no_manager = await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests",
                                                 json={})
    assert no_manager.status == 422 and "manager" in no_manager.json["error"]["message"]
    await admin.patch(f"/api/v1/groups/{group['id']}", json={"manager_id": manager["id"]})
    ticket = (await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests",
                                              json={"title": "Access to payroll"})).json
    boss = await server.login("manager")
    rejected = await boss.post(f"/api/v1/tickets/{ticket['id']}/approval",
                               json={"decision": "reject", "comment": "Not your department"})
    assert (rejected.json["status"], rejected.json["approval"]) == ("cancelled", "rejected")
    assert rejected.json["resolution_note"] == "Not your department"


async def test_bad_catalog_definitions_are_refused(server: RunningServer,
                                                   clients: dict[str, Client]) -> None:
    """Duplicate fields, selects without options and approvals without approver fail."""
    admin = clients["admin"]
    before = await snapshot(server)
    for body in ({"name": "x", "fields": [{"name": "a", "label": "A"}] * 2},
                 {"name": "x", "fields": [{"name": "a", "label": "A", "type": "select"}]},
                 {"name": "x", "approval": "approver"},
                 {"name": "x", "approval": "group_manager"},
                 {"name": "x", "fields": [{"name": "Bad Name", "label": "A"}]}):
        resp = await admin.post("/api/v1/catalog", json=body)
        assert resp.status == 422, body
    assert await snapshot(server) == before


async def test_approvers_list_the_requests_waiting_for_them(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """view=awaiting_my_approval lists requests waiting for the caller, whoever raised them."""
    admin = clients["admin"]
    approver = await server.create_user(admin, "mona", "requester")
    mona = await server.login("mona")
    item = await _item(admin, approval="approver", approver_id=approver["id"])
    asked = await clients["requester"].post(f"/api/v1/catalog/{item['id']}/requests", json={
        "values": {"model": "13-inch", "reason": "Starts Monday"}})
    assert asked.status == 201, asked.body
    await clients["technician"].post(f"/api/v1/tickets/{asked.json['id']}/comments",
                                     json={"body": "Budget code zebra", "internal": True})
    waiting = await mona.get("/api/v1/tickets?view=awaiting_my_approval")
    assert [t["id"] for t in waiting.json["items"]] == [asked.json["id"]]
    assert (await mona.get("/api/v1/tickets")).json["items"] == []  # not hers otherwise
    # Searching inside the view reads public text only.
    assert (await mona.get("/api/v1/tickets?view=awaiting_my_approval&q=zebra")).json[
        "items"] == []
    for other in ("requester", "technician"):
        assert (await clients[other].get("/api/v1/tickets?view=awaiting_my_approval")
                ).json["items"] == []
    decided = await mona.post(f"/api/v1/tickets/{asked.json['id']}/approval",
                              json={"decision": "approve"})
    assert decided.status == 200, decided.body
    assert (await mona.get("/api/v1/tickets?view=awaiting_my_approval")).json["items"] == []
