"""Changing a ticket's kind: new number, old number findable, timeline, SLA, refusals."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.support.server import Client

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def policy(admin: Client, name: str, kinds: list[str], resolution: int) -> None:
    resp = await admin.post("/api/v1/sla/policies", json={
        "name": name, "calendar_id": 1, "conditions": {"kinds": kinds},
        "targets": {"first_response": 30, "resolution": resolution}})
    assert resp.status == 201, resp.body


def clock(ticket: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in ticket["sla"]["clocks"] if c["kind"] == kind)


async def test_new_kind_takes_a_number_of_that_kind_and_keeps_the_old_findable(
        admin: Client, technician: Client, requester: Client) -> None:
    """An incident made a service request becomes REQ-…; INC-… still finds it, for staff and its requester."""  # noqa: E501
    filed = await requester.post("/api/v1/tickets", json={"title": "Need a headset"})
    await requester.post("/api/v1/tickets", json={"title": "Other", "kind": "service_request"})
    tid, old = filed.json["id"], filed.json["number"]
    assert old == "INC-000001"
    changed = await technician.patch(f"/api/v1/tickets/{tid}", json={"kind": "service_request"})
    assert changed.status == 200, changed.body
    assert (changed.json["kind"], changed.json["number"]) == ("service_request", "REQ-000002")
    assert changed.json["former_numbers"] == [old]
    # The old number, however it is typed, finds the ticket; so does the new one.
    for client in (technician, requester):
        for q in (old, "inc-1", "#INC-000001", "REQ-000002"):
            found = await client.get(f"/api/v1/tickets?q={quote(q)}")
            assert [t["id"] for t in found.json["items"]] == [tid], (q, found.body)
    assert (await technician.get("/api/v1/tickets?q=PRB-000001")).json["items"] == []
    # The timeline says so, to the requester too (their number changed).
    staff_events = (await technician.get(f"/api/v1/tickets/{tid}/events")).json["items"]
    mine = (await requester.get(f"/api/v1/tickets/{tid}/events")).json["items"]
    for events in (staff_events, mine):
        event = next(e for e in events if e["type"] == "kind_changed")
        assert event["public"] and event["actor"]["id"] == technician.user["id"]
        assert event["changes"] == {"kind": {"before": "incident", "after": "service_request"},
                                    "number": {"before": old, "after": "REQ-000002"}}
        assert event["body"] == ("Changed from incident to service request: INC-000001 is "
                                 "now REQ-000002.")
    # Back again: a new INC number; both earlier numbers stay the ticket's.
    back = await technician.patch(f"/api/v1/tickets/{tid}", json={"kind": "incident",
                                                                   "urgency": 1})
    assert (back.json["number"], back.json["urgency"]) == ("INC-000002", 1)
    assert back.json["former_numbers"] == [old, "REQ-000002"]
    # The same kind again changes nothing.
    same = await technician.patch(f"/api/v1/tickets/{tid}", json={"kind": "incident"})
    assert same.status == 200 and same.json["number"] == "INC-000002"
    kinds = [e for e in (await technician.get(f"/api/v1/tickets/{tid}/events")).json["items"]
             if e["type"] == "kind_changed"]
    assert len(kinds) == 2


async def test_sla_targets_of_the_new_kind_apply(admin: Client, technician: Client) -> None:
    """The policy for the new kind re-targets the open clocks; a kind without a policy cancels them."""  # noqa: E501
    await policy(admin, "Incidents", ["incident"], 120)
    await policy(admin, "Requests", ["service_request"], 2400)
    filed = await technician.post("/api/v1/tickets", json={"title": "Laptop"})
    tid = filed.json["id"]
    assert clock(filed.json, "resolution")["target_minutes"] == 120
    changed = await technician.patch(f"/api/v1/tickets/{tid}", json={"kind": "service_request"})
    resolution = clock(changed.json, "resolution")
    assert (resolution["policy_name"], resolution["target_minutes"]) == ("Requests", 2400)
    events = (await technician.get(f"/api/v1/tickets/{tid}/events")).json["items"]
    retargeted = [e for e in events if e["type"] == "sla_retargeted"]
    assert retargeted[-1]["changes"]["resolution"] == {
        "before": {"policy": "Incidents", "target_minutes": 120},
        "after": {"policy": "Requests", "target_minutes": 2400}}
    # No policy covers problems: the clocks stop as cancelled.
    problem = await technician.patch(f"/api/v1/tickets/{tid}", json={"kind": "problem"})
    assert {c["state"] for c in problem.json["sla"]["clocks"]} == {"cancelled"}
    assert problem.json["sla"]["due_at"] is None
    # A ticket that had no clocks starts those of its new kind's policy.
    bare = await technician.post("/api/v1/tickets", json={"title": "Root cause",
                                                          "kind": "problem"})
    assert bare.json["sla"] is None
    made = await technician.patch(f"/api/v1/tickets/{bare.json['id']}",
                                  json={"kind": "incident"})
    assert clock(made.json, "resolution")["target_minutes"] == 120
    assert made.json["sla"]["due_at"] is not None


async def test_kind_changes_that_would_break_links_are_refused(
        admin: Client, technician: Client, requester: Client) -> None:
    """Closed tickets, problems with linked incidents and problems of problems keep their kind; requesters cannot change it."""  # noqa: E501
    prb = await technician.post("/api/v1/tickets", json={"title": "Root", "kind": "problem"})
    inc = await technician.post("/api/v1/tickets", json={"title": "Symptom"})
    linked = await technician.patch(f"/api/v1/tickets/{inc.json['id']}",
                                    json={"problem_id": prb.json["id"]})
    assert linked.status == 200, linked.body
    refused = await technician.patch(f"/api/v1/tickets/{prb.json['id']}",
                                     json={"kind": "incident"})
    assert refused.status == 422 and refused.error_code == "kind_change_refused"
    assert "linked to this problem" in refused.json["error"]["message"]
    nested = await technician.patch(f"/api/v1/tickets/{inc.json['id']}", json={"kind": "problem"})
    assert nested.status == 422 and nested.error_code == "kind_change_refused"
    # Unlinking in the same request makes it a problem of its own.
    own = await technician.patch(f"/api/v1/tickets/{inc.json['id']}",
                                 json={"kind": "problem", "problem_id": None})
    assert own.status == 200 and own.json["number"] == "PRB-000002", own.body
    done = await technician.post("/api/v1/tickets", json={"title": "Old"})
    await technician.patch(f"/api/v1/tickets/{done.json['id']}", json={"status": "cancelled"})
    final = await technician.patch(f"/api/v1/tickets/{done.json['id']}",
                                   json={"kind": "service_request"})
    assert final.status == 422 and final.error_code == "invalid_transition"
    bad = await technician.patch(f"/api/v1/tickets/{done.json['id']}", json={"kind": "task"})
    assert bad.status == 422 and set(bad.json) == {"error"}
    mine = await requester.post("/api/v1/tickets", json={"title": "Mine"})
    forbidden = await requester.patch(f"/api/v1/tickets/{mine.json['id']}",
                                      json={"kind": "service_request"})
    assert forbidden.status == 403
    # Nothing of the refused changes was stored.
    assert (await technician.get(f"/api/v1/tickets/{prb.json['id']}")).json["number"] == \
        "PRB-000001"


async def test_openapi_documents_the_kind_change(admin: Client) -> None:
    """PATCH /tickets/{id} declares kind; a ticket declares its former numbers."""
    doc = (await admin.get("/api/v1/openapi.json")).json
    schemas = doc["components"]["schemas"]
    assert "kind" in schemas["TicketUpdate"]["properties"]
    assert "former_numbers" in schemas["Ticket"]["properties"]
