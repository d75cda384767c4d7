"""Bulk actions on tickets: permissions, per-ticket results, limits, timeline and audit."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import audit_events
from server.tickets.bulk import MAX_IDS
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases

BULK = "/api/v1/tickets/bulk"


async def _tickets(client: Client, n: int, **fields: Any) -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        resp = await client.post("/api/v1/tickets", json={"title": f"Bulk {i}", **fields})
        assert resp.status == 201, resp.body
        made.append(resp.json)
    return made


async def _events(client: Client, ticket_id: int) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/tickets/{ticket_id}/events")
    assert resp.status == 200, resp.body
    return list(resp.json["items"])


async def test_assign_status_and_tag_change_each_ticket_with_its_own_event(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A technician assigns, moves and tags three tickets; each gets its own timeline events."""
    tech, req = clients["technician"], clients["requester"]
    made = await _tickets(req, 3)
    ids = [t["id"] for t in made]
    me = tech.user["id"]
    assigned = await tech.post(BULK, json={"ids": ids, "action": "assign", "assignee_id": me})
    assert assigned.status == 200, assigned.body
    assert assigned.json["changed"] == 3 and assigned.json["failed"] == 0
    assert [r["number"] for r in assigned.json["results"]] == [t["number"] for t in made]
    moved = await tech.post(BULK, json={"ids": ids, "action": "status",
                                        "status": "in_progress"})
    assert moved.json["changed"] == 3, moved.body
    tagged = await tech.post(BULK, json={"ids": ids, "action": "tag", "tag": "VPN"})
    assert tagged.json["changed"] == 3, tagged.body
    again = await tech.post(BULK, json={"ids": ids, "action": "tag", "tag": "vpn"})
    assert again.json["unchanged"] == 3, again.body  # already tagged: no new event
    for ticket_id in ids:
        ticket = (await tech.get(f"/api/v1/tickets/{ticket_id}")).json
        assert ticket["assignee"]["id"] == me
        assert ticket["status"] == "in_progress" and ticket["tags"] == ["vpn"]
        events = await _events(tech, ticket_id)
        changes = [e["changes"] for e in events if e["actor"] and e["actor"]["id"] == me]
        assert [sorted(c) for c in changes] == [["assignee_id", "status"], ["status"], ["tags"]]
    rows = await server.db.read(lambda c: c.execute(
        sa.select(audit_events.c.detail).where(audit_events.c.action == "ticket.bulk")).all())
    assert [r.detail["bulk_action"] for r in rows] == ["assign", "status", "tag", "tag"]
    assert rows[0].detail["changed"] == ids


async def test_partial_failure_is_reported_per_ticket_and_keeps_the_rest(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A ticket the lifecycle refuses, or one that does not exist, fails alone, in words."""
    tech, req = clients["technician"], clients["requester"]
    made = await _tickets(req, 3)
    closed = made[2]["id"]
    cancel = await tech.patch(f"/api/v1/tickets/{closed}", json={"status": "cancelled"})
    assert cancel.status == 200, cancel.body
    ids = [made[0]["id"], closed, 999_999, made[1]["id"]]
    resp = await tech.post(BULK, json={"ids": ids, "action": "status", "status": "pending"})
    assert resp.status == 200, resp.body
    results = {r["id"]: r for r in resp.json["results"]}
    assert [r["id"] for r in resp.json["results"]] == ids
    assert (resp.json["changed"], resp.json["failed"]) == (2, 2)
    assert results[closed]["outcome"] == "failed"
    assert results[closed]["error"]["code"] == "invalid_transition"
    assert "cancelled" in results[closed]["error"]["message"]
    assert results[999_999]["error"]["code"] == "not_found"
    assert results[999_999]["number"] is None
    for ticket_id in (made[0]["id"], made[1]["id"]):
        assert (await tech.get(f"/api/v1/tickets/{ticket_id}")).json["status"] == "pending"
    assert (await tech.get(f"/api/v1/tickets/{closed}")).json["status"] == "cancelled"
    # Resolving needs a resolution: each ticket says so, none is changed.
    resolve = await tech.post(BULK, json={"ids": ids[:1], "action": "status",
                                          "status": "resolved"})
    assert resolve.json["failed"] == 1
    assert "resolution" in resolve.json["results"][0]["error"]["message"]


async def test_merge_into_one_of_the_selection(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Merging closes every other selected ticket into the chosen one; its timeline says so."""
    tech, req = clients["technician"], clients["requester"]
    made = await _tickets(req, 3)
    ids = [t["id"] for t in made]
    outside = await tech.post(BULK, json={"ids": ids[:2], "action": "merge",
                                          "into_id": ids[2]})
    assert outside.status == 422 and outside.error_code == "validation_error"
    resp = await tech.post(BULK, json={"ids": ids, "action": "merge", "into_id": ids[0]})
    assert resp.status == 200, resp.body
    assert resp.json["changed"] == 3 and resp.json["failed"] == 0
    for source in ids[1:]:
        ticket = (await tech.get(f"/api/v1/tickets/{source}")).json
        assert (ticket["status"], ticket["merged_into_id"]) == ("closed", ids[0])
    merged_from = [e for e in await _events(tech, ids[0]) if e["type"] == "merged_from"]
    assert len(merged_from) == 2


async def test_requesters_may_not_and_bad_bodies_change_nothing(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Requesters get 403; over the limit, wrong fields or no target is a 422; nothing moves."""
    tech, req = clients["technician"], clients["requester"]
    made = await _tickets(req, 2)
    ids = [t["id"] for t in made]
    refused = await req.post(BULK, json={"ids": ids, "action": "tag", "tag": "x"})
    assert refused.status == 403 and refused.error_code == "forbidden"
    before = await snapshot(server)
    too_many = await tech.post(BULK, json={"ids": list(range(1, MAX_IDS + 2)),
                                           "action": "tag", "tag": "x"})
    assert too_many.status == 422 and too_many.error_code == "too_many_tickets"
    assert f"at most {MAX_IDS}" in too_many.json["error"]["message"]
    for body in ({"ids": ids, "action": "tag"},
                 {"ids": ids, "action": "assign"},
                 {"ids": ids, "action": "tag", "tag": "x", "status": "pending"},
                 {"ids": ids, "action": "tag", "tag": "two words"},
                 {"ids": [], "action": "tag", "tag": "x"},
                 {"ids": ids, "action": "explode"}):
        resp = await tech.post(BULK, json=body)
        assert resp.status == 422 and resp.error_code, (body, resp.body)
    assert await snapshot(server) == before
    # A bad reference fails per ticket, in words, as PATCH would.
    unknown = await tech.post(BULK, json={"ids": ids, "action": "assign",
                                          "assignee_id": 999_999})
    assert unknown.status == 200 and unknown.json["failed"] == 2, unknown.body
    assert "999999" in unknown.json["results"][0]["error"]["message"]
    # Up to the limit is fine, repeated ids count once.
    ok = await tech.post(BULK, json={"ids": [ids[0]] * (MAX_IDS + 5), "action": "tag",
                                     "tag": "x"})
    assert ok.status == 200 and len(ok.json["results"]) == 1, ok.body
    assert (await tech.get(f"/api/v1/tickets/{ids[1]}")).json["tags"] == []
