"""Working the queue: auto-assignment, merge, split, related tickets, canned responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.app import housekeeping_pass
from server.db.schema import tickets
from server.tickets.assignment import pick_least_loaded, pick_round_robin
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


def test_round_robin_and_least_loaded_picks() -> None:
    """Round robin wraps in id order; least loaded takes the fewest, lowest id on ties."""
    assert pick_round_robin([7, 3, 5], None) == 3
    assert [pick_round_robin([3, 5, 7], last) for last in (3, 5, 7, 4)] == [5, 7, 3, 5]
    assert pick_round_robin([], 3) is None
    assert pick_least_loaded({3: 2, 5: 0, 7: 0}) == 5
    assert pick_least_loaded({}) is None


async def _group(server: RunningServer, admin: Client, strategy: str,
                 names: list[str]) -> tuple[int, list[int]]:
    group = (await admin.post("/api/v1/groups", json={"name": f"G-{strategy}",
                                                      "auto_assign": strategy})).json
    ids = []
    for name in names:
        user = await server.create_user(admin, name, "technician")
        await admin.put(f"/api/v1/groups/{group['id']}/members/{user['id']}")
        ids.append(user["id"])
    return group["id"], ids


async def test_round_robin_group_hands_out_tickets_in_turn(
        server: RunningServer, admin: Client) -> None:
    """Tickets given to a round-robin group go to its technicians in turn."""
    group_id, members = await _group(server, admin, "round_robin", ["ann", "ben", "cat"])
    got = []
    for i in range(4):
        ticket = (await admin.post("/api/v1/tickets", json={
            "title": f"t{i}", "group_id": group_id})).json
        assert ticket["status"] == "assigned"
        got.append(ticket["assignee"]["id"])
    assert got == [members[0], members[1], members[2], members[0]]


async def test_least_loaded_group_picks_the_least_busy(
        server: RunningServer, admin: Client) -> None:
    """A least-loaded group gives a ticket to the member with the fewest open tickets."""
    group_id, (dan, eve) = await _group(server, admin, "least_loaded", ["dan", "eve"])
    for _ in range(2):
        await admin.post("/api/v1/tickets", json={"title": "busy", "assignee_id": dan})
    ticket = await admin.post("/api/v1/tickets", json={"title": "next"})
    moved = await admin.patch(f"/api/v1/tickets/{ticket.json['id']}",
                              json={"group_id": group_id})
    assert moved.json["assignee"]["id"] == eve
    assert moved.json["status"] == "assigned"


async def _ticket(client: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Mail down")
    resp = await client.post("/api/v1/tickets", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_merge_keeps_the_merged_ticket_as_a_reference(
        clients: dict[str, Client]) -> None:
    """A merged ticket is closed, points at the survivor, and both timelines say so."""
    tech = clients["technician"]
    dup = await _ticket(clients["requester"], title="Outlook down")
    main = await _ticket(tech, title="Exchange outage")
    merged = await tech.post(f"/api/v1/tickets/{dup['id']}/merge",
                             json={"into_id": main["id"]})
    assert merged.status == 200, merged.body
    assert dup["id"] in merged.json["related_ids"]
    source = (await tech.get(f"/api/v1/tickets/{dup['id']}")).json
    assert (source["status"], source["merged_into_id"]) == ("closed", main["id"])
    assert main["number"] in source["resolution_note"]
    seen = (await clients["requester"].get(f"/api/v1/tickets/{dup['id']}/events")).json
    assert any(e["type"] == "merged" for e in seen["items"])
    again = await tech.post(f"/api/v1/tickets/{dup['id']}/merge",
                            json={"into_id": main["id"]})
    assert again.status == 422 and again.error_code == "invalid_transition"
    itself = await tech.post(f"/api/v1/tickets/{main['id']}/merge",
                             json={"into_id": main["id"]})
    assert itself.status == 422


async def test_split_creates_a_linked_ticket_for_the_same_requester(
        clients: dict[str, Client]) -> None:
    """Splitting makes a new ticket for the same requester, related to the original."""
    tech = clients["technician"]
    original = await _ticket(clients["requester"], title="Printer and scanner broken")
    split = await tech.post(f"/api/v1/tickets/{original['id']}/split",
                            json={"title": "Scanner broken"})
    assert split.status == 201
    new = split.json
    assert new["requester"]["id"] == original["requester"]["id"]
    assert new["related_ids"] == [original["id"]]
    mine = await clients["requester"].get("/api/v1/tickets")
    assert {t["id"] for t in mine.json["items"]} == {original["id"], new["id"]}


async def test_related_tickets_link_and_unlink(clients: dict[str, Client]) -> None:
    """Tickets are related both ways, once, and can be unrelated."""
    tech = clients["technician"]
    a, b = await _ticket(tech, title="A"), await _ticket(tech, title="B")
    linked = await tech.post(f"/api/v1/tickets/{a['id']}/links", json={"ticket_id": b["id"]})
    assert linked.json["related_ids"] == [b["id"]]
    assert (await tech.get(f"/api/v1/tickets/{b['id']}")).json["related_ids"] == [a["id"]]
    assert (await tech.post(f"/api/v1/tickets/{a['id']}/links",
                            json={"ticket_id": a["id"]})).status == 422
    assert (await tech.delete(f"/api/v1/tickets/{b['id']}/links/{a['id']}")).status == 204
    assert (await tech.get(f"/api/v1/tickets/{a['id']}")).json["related_ids"] == []
    assert (await tech.delete(f"/api/v1/tickets/{b['id']}/links/{a['id']}")).status == 404


async def test_canned_responses_personal_and_shared(clients: dict[str, Client]) -> None:
    """Technicians keep their own canned replies; only admins share them with the desk."""
    tech, admin = clients["technician"], clients["admin"]
    own = await tech.post("/api/v1/canned-responses",
                          json={"title": "Reboot", "body": "Please restart and retry."})
    assert own.status == 201 and own.json["shared"] is False
    refused = await tech.post("/api/v1/canned-responses",
                              json={"title": "x", "body": "y", "shared": True})
    assert refused.status == 422
    shared = await admin.post("/api/v1/canned-responses",
                              json={"title": "Hello", "body": "Thanks for...", "shared": True})
    assert shared.status == 201
    titles = [c["title"] for c in (await tech.get("/api/v1/canned-responses")).json["items"]]
    assert titles == ["Hello", "Reboot"]
    assert (await admin.get("/api/v1/canned-responses")).json["items"][0]["title"] == "Hello"
    assert (await tech.delete(f"/api/v1/canned-responses/{shared.json['id']}")).status == 404
    assert (await tech.delete(f"/api/v1/canned-responses/{own.json['id']}")).status == 204


async def test_resolved_tickets_close_automatically(server: RunningServer,
                                                    clients: dict[str, Client]) -> None:
    """Housekeeping closes tickets resolved longer ago than auto_close_days, once."""
    tech = clients["technician"]
    old, fresh = await _ticket(tech, title="old"), await _ticket(tech, title="fresh")
    for t in (old, fresh):
        await tech.patch(f"/api/v1/tickets/{t['id']}", json={
            "status": "resolved", "resolution_code": "fixed", "resolution_note": "done"})
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    await server.db.write(lambda c: c.execute(
        tickets.update().where(tickets.c.id == old["id"]).values(resolved_at=long_ago)))
    await housekeeping_pass(server.app)
    await housekeeping_pass(server.app)
    assert (await tech.get(f"/api/v1/tickets/{old['id']}")).json["status"] == "closed"
    assert (await tech.get(f"/api/v1/tickets/{fresh['id']}")).json["status"] == "resolved"
    events = (await tech.get(f"/api/v1/tickets/{old['id']}/events")).json["items"]
    assert sum("automatically" in (e["body"] or "") for e in events) == 1


async def test_a_backlog_of_resolved_tickets_closes_in_chunks_each_once(
        server: RunningServer, clients: dict[str, Client],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Five overdue tickets with a chunk of two: one pass closes all, each exactly once."""
    from server.tickets import updating

    monkeypatch.setattr(updating, "AUTO_CLOSE_CHUNK", 2)
    tech = clients["technician"]
    made = [await _ticket(tech, title=f"old {i}") for i in range(5)]
    for t in made:
        await tech.patch(f"/api/v1/tickets/{t['id']}", json={
            "status": "resolved", "resolution_code": "fixed", "resolution_note": "done"})
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    await server.db.write(lambda c: c.execute(tickets.update().values(resolved_at=long_ago)))
    await housekeeping_pass(server.app)
    for t in made:
        assert (await tech.get(f"/api/v1/tickets/{t['id']}")).json["status"] == "closed"
        events = (await tech.get(f"/api/v1/tickets/{t['id']}/events")).json["items"]
        assert sum("automatically" in (e["body"] or "") for e in events) == 1
