"""Tickets through the API: creation, permissions, transitions, timeline, search, paging."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from server.db.schema import tickets
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def _ticket(client: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Printer on floor 2 jams")
    resp = await client.post("/api/v1/tickets", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_requester_files_a_ticket_for_themselves(clients: dict[str, Client]) -> None:
    """A requester's ticket is numbered, new, P5 by default, from the portal, theirs."""
    ticket = await _ticket(clients["requester"], description="It beeps.")
    assert ticket["number"] == "INC-000001"
    assert (ticket["status"], ticket["priority"], ticket["source"]) == ("new", 5, "portal")
    assert ticket["requester"]["id"] == clients["requester"].user["id"]
    second = await _ticket(clients["technician"], kind="service_request", title="New laptop")
    assert second["number"] == "REQ-000001"


async def test_priority_follows_the_matrix(clients: dict[str, Client]) -> None:
    """Impact and urgency give the priority by the ITIL matrix, also when changed."""
    tech = clients["technician"]
    ticket = await _ticket(tech, impact=1, urgency=2)
    assert ticket["priority"] == 2
    changed = await tech.patch(f"/api/v1/tickets/{ticket['id']}", json={"urgency": 1})
    assert changed.json["priority"] == 1


async def test_requesters_cannot_assign_link_or_file_problems(
        clients: dict[str, Client]) -> None:
    """A requester cannot assign, set a group, link devices, file a problem or for others."""
    req = clients["requester"]
    for body in ({"assignee_id": clients["technician"].user["id"]}, {"group_id": 1},
                 {"device_ids": [1]}, {"kind": "problem"},
                 {"requester_id": clients["admin"].user["id"]}):
        resp = await req.post("/api/v1/tickets", json={"title": "x", **body})
        assert resp.status == 403, body
        assert resp.error_code == "forbidden"


async def test_requester_sees_only_own_tickets(server: RunningServer,
                                               clients: dict[str, Client]) -> None:
    """Another requester's ticket is not listed, not readable, not commentable."""
    mine = await _ticket(clients["requester"])
    await server.create_user(clients["admin"], "other", "requester")
    other = await server.login("other")
    theirs = await _ticket(other, title="Other's problem")
    listed = await clients["requester"].get("/api/v1/tickets")
    assert [t["id"] for t in listed.json["items"]] == [mine["id"]]
    for method, path, body in (("GET", f"/api/v1/tickets/{theirs['id']}", None),
                               ("GET", f"/api/v1/tickets/{theirs['id']}/events", None),
                               ("POST", f"/api/v1/tickets/{theirs['id']}/comments",
                                {"body": "hi"})):
        resp = await clients["requester"].request(method, path, json=body)
        assert resp.status == 404, path
    staff = await clients["technician"].get("/api/v1/tickets")
    assert len(staff.json["items"]) == 2


async def test_internal_notes_are_hidden_from_requesters(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Requesters never see internal notes, in the timeline, search or the live feed."""
    ticket = await _ticket(clients["requester"])
    tech = clients["technician"]
    assert (await tech.post(f"/api/v1/tickets/{ticket['id']}/comments",
                            json={"body": "Customer is grumpy zebra", "internal": True})
            ).status == 201
    assert (await tech.post(f"/api/v1/tickets/{ticket['id']}/comments",
                            json={"body": "We ordered a new drum."})).status == 201
    seen = await clients["requester"].get(f"/api/v1/tickets/{ticket['id']}/events")
    bodies = [e["body"] for e in seen.json["items"]]
    assert "We ordered a new drum." in bodies
    assert all("zebra" not in (b or "") for b in bodies)
    staff = await tech.get(f"/api/v1/tickets/{ticket['id']}/events")
    assert any(e["type"] == "internal_note" for e in staff.json["items"])
    hits = await clients["requester"].get("/api/v1/tickets?q=zebra")
    assert hits.json["items"] == []
    assert len((await tech.get("/api/v1/tickets?q=zebra")).json["items"]) == 1
    refused = await clients["requester"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                              json={"body": "psst", "internal": True})
    assert refused.status == 403


async def test_requesters_get_only_the_events_meant_for_them(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Replies, status changes and the resolution reach the requester; field changes do not."""
    from server.db.schema import ticket_events, utcnow

    ticket = await _ticket(clients["requester"], description="It beeps.")
    tech = clients["technician"]
    path = f"/api/v1/tickets/{ticket['id']}"
    assert (await tech.patch(path, json={"tags": ["printer", "floor-2"], "impact": 1})).status \
        == 200
    assert (await tech.patch(path, json={"assignee_id": tech.user["id"]})).status == 200
    assert (await tech.post(f"{path}/comments", json={"body": "On my way."})).status == 201
    assert (await tech.patch(path, json={"status": "resolved", "resolution_code": "fixed",
                                         "resolution_note": "Replaced the drum."})).status == 200
    # A field change recorded as public by an earlier version stays hidden too.
    await server.db.write(lambda c: c.execute(ticket_events.insert().values(
        ticket_id=ticket["id"], at=utcnow(), actor_id=tech.user["id"], type="updated",
        public=True, body=None, changes={"tags": {"before": [], "after": ["vip"]}})))
    seen = (await clients["requester"].get(f"{path}/events")).json["items"]
    assert [e["type"] for e in seen] == ["created", "status_changed", "comment",
                                         "status_changed"]
    assert all(set(e["changes"]) <= {"status", "resolution_code", "resolution_note"}
               for e in seen)
    assert seen[1]["changes"] == {"status": {"before": "new", "after": "assigned"}}
    resolved = seen[-1]
    assert resolved["body"] == "Replaced the drum."
    assert resolved["changes"]["resolution_code"]["after"] == "fixed"
    staff = [e["type"] for e in (await tech.get(f"{path}/events")).json["items"]]
    assert staff.count("updated") == 2  # the tags/impact change and the old public row
    assert "assignee_id" in (await tech.get(f"{path}/events")).json["items"][2]["changes"]


async def test_transitions_through_the_api(clients: dict[str, Client],
                                           server: RunningServer) -> None:
    """Assigning, working, pending, resolving and closing follow the lifecycle."""
    tech = clients["technician"]
    ticket = await _ticket(clients["requester"])
    path = f"/api/v1/tickets/{ticket['id']}"
    assigned = await tech.patch(path, json={"assignee_id": tech.user["id"]})
    assert assigned.json["status"] == "assigned"
    assert (await tech.patch(path, json={"status": "closed"})).error_code == \
        "invalid_transition"
    before = await snapshot(server)
    no_note = await tech.patch(path, json={"status": "resolved"})
    assert no_note.status == 422
    assert await snapshot(server) == before
    for status in ("in_progress", "pending", "in_progress"):
        assert (await tech.patch(path, json={"status": status})).json["status"] == status
    resolved = await tech.patch(path, json={"status": "resolved", "resolution_code": "fixed",
                                            "resolution_note": "Replaced the drum."})
    assert resolved.json["status"] == "resolved" and resolved.json["resolved_at"]
    closed = await clients["requester"].post(f"{path}/close")
    assert closed.json["status"] == "closed" and closed.json["closed_at"]
    final = await tech.patch(path, json={"title": "renamed"})
    assert final.status == 422 and final.error_code == "invalid_transition"
    timeline = (await tech.get(f"{path}/events")).json["items"]
    statuses = [e["changes"]["status"]["after"] for e in timeline if "status" in e["changes"]]
    assert statuses == ["new", "assigned", "in_progress", "pending", "in_progress", "resolved",
                        "closed"]
    assert all(e["actor"] is not None for e in timeline)


async def test_requester_reopens_within_the_window_only(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A resolved ticket can be reopened by its requester until the window passes."""
    tech, req = clients["technician"], clients["requester"]
    ticket = await _ticket(req)
    path = f"/api/v1/tickets/{ticket['id']}"
    await tech.patch(path, json={"status": "resolved", "resolution_code": "fixed",
                                 "resolution_note": "Done."})
    reopened = await req.post(f"{path}/reopen", json={"reason": "It jams again."})
    assert reopened.json["status"] == "in_progress"
    assert reopened.json["resolution_note"] is None
    await tech.patch(path, json={"status": "resolved", "resolution_code": "fixed",
                                 "resolution_note": "Done again."})
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    await server.db.write(lambda c: c.execute(tickets.update().values(resolved_at=long_ago)))
    late = await req.post(f"{path}/reopen", json={"reason": "Again!"})
    assert late.status == 422 and "window" in late.json["error"]["message"]


async def test_bad_references_are_refused_and_nothing_changes(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Unknown users, groups, devices or categories are 422 and store nothing."""
    tech = clients["technician"]
    ticket = await _ticket(tech)
    before = await snapshot(server)
    for body in ({"assignee_id": 999}, {"group_id": 999}, {"device_ids": [999]},
                 {"category_id": 999}, {"problem_id": ticket["id"]}, {"status": "flying"},
                 {"impact": 4}, {"tags": ["no spaces"]}, {"colour": "red"}, {}):
        resp = await tech.patch(f"/api/v1/tickets/{ticket['id']}", json=body)
        assert resp.status == 422, (body, resp.body)
        resp.error_code  # noqa: B018 - asserts the error shape
    assert await snapshot(server) == before


async def test_search_ranks_title_matches_first(clients: dict[str, Client]) -> None:
    """A word in a title outranks the same word in a description or reply."""
    tech = clients["technician"]
    body_hit = await _ticket(tech, title="Screen flickers",
                             description="Started after the VPN client update.")
    reply_hit = await _ticket(tech, title="Slow laptop")
    await tech.post(f"/api/v1/tickets/{reply_hit['id']}/comments",
                    json={"body": "Could the VPN be the cause?"})
    title_hit = await _ticket(tech, title="VPN drops every hour")
    await _ticket(tech, title="Unrelated keyboard issue")
    found = await tech.get("/api/v1/tickets?q=vpn")
    ids = [t["id"] for t in found.json["items"]]
    assert ids[0] == title_hit["id"]
    assert set(ids) == {title_hit["id"], body_hit["id"], reply_hit["id"]}
    prefix = await tech.get("/api/v1/tickets?q=keyb")
    assert len(prefix.json["items"]) == 1
    stemmed = await tech.get("/api/v1/tickets?q=drop")
    assert [t["id"] for t in stemmed.json["items"]] == [title_hit["id"]]
    for weird in ('"', "AND OR NOT", "*", "vpn)", "NEAR(vpn"):
        resp = await tech.get(f"/api/v1/tickets?q={weird}")
        assert resp.status == 200, weird


async def test_search_bounds_its_candidates(clients: dict[str, Client],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A common word lists newest first; only the newest MAX_HITS documents are searched."""
    from server.tickets import search

    tech = clients["technician"]
    old = await _ticket(tech, title="Toner empty", description="toner toner toner")
    newer = [await _ticket(tech, title=f"Printer {i}", description="needs toner")
             for i in range(3)]
    ranked = await tech.get("/api/v1/tickets?q=toner")
    assert ranked.json["items"][0]["id"] == old["id"]  # bm25: the title match wins
    monkeypatch.setattr(search, "COMMON_WORD_DOCS", 2)  # "toner" is now a common word
    recent = await tech.get("/api/v1/tickets?q=toner")
    assert [t["id"] for t in recent.json["items"]] == [t["id"] for t in reversed([old, *newer])]
    monkeypatch.setattr(search, "MAX_HITS", 2)
    for common in (2, 1000):
        monkeypatch.setattr(search, "COMMON_WORD_DOCS", common)
        bounded = await tech.get("/api/v1/tickets?q=toner")
        assert {t["id"] for t in bounded.json["items"]} == {newer[1]["id"], newer[2]["id"]}
    # A retitled ticket's document keeps its place (its "created" event's id).
    await tech.patch(f"/api/v1/tickets/{old['id']}", json={"title": "Toner cartridge empty"})
    assert {t["id"] for t in (await tech.get("/api/v1/tickets?q=toner")).json["items"]} \
        == {newer[1]["id"], newer[2]["id"]}
    monkeypatch.setattr(search, "MAX_HITS", 2000)
    assert (await tech.get("/api/v1/tickets?q=cartridge")).json["items"][0]["id"] == old["id"]


async def test_unfinished_word_matches_as_a_prefix(clients: dict[str, Client]) -> None:
    """The last word is a prefix only when the whole words find less than a page."""
    tech = clients["technician"]
    printer = await _ticket(tech, title="Printer jams")
    await _ticket(tech, title="Cannot print the PDF")
    assert [t["id"] for t in (await tech.get("/api/v1/tickets?q=printer")).json["items"]] \
        == [printer["id"]]
    both = await tech.get("/api/v1/tickets?q=print&limit=5")
    assert len(both.json["items"]) == 2  # "print" alone finds one: the prefix adds "printer"
    exact = await tech.get("/api/v1/tickets?q=print&limit=1")
    assert [t["title"] for t in exact.json["items"]] == ["Cannot print the PDF"]


async def test_pages_are_stable_under_concurrent_inserts(clients: dict[str, Client]) -> None:
    """Walking newest-first pages while tickets arrive repeats and skips nothing."""
    tech = clients["technician"]
    first = [await _ticket(tech, title=f"T{i}") for i in range(7)]
    seen: list[int] = []
    page = await tech.get("/api/v1/tickets?limit=3")
    while True:
        seen.extend(t["id"] for t in page.json["items"])
        await _ticket(tech, title="arrived meanwhile")
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
        page = await tech.get(f"/api/v1/tickets?limit=3&cursor={cursor}")
    assert seen == sorted((t["id"] for t in first), reverse=True)


@pytest.mark.parametrize("sort", ["priority", "-updated", "id"])
async def test_every_sort_pages_through_all_tickets(clients: dict[str, Client],
                                                    sort: str) -> None:
    """Each sort order's pages cover every ticket exactly once."""
    tech = clients["technician"]
    made = [await _ticket(tech, title=f"S{i}", impact=1 + i % 3, urgency=1 + (i // 3) % 3)
            for i in range(8)]
    seen: list[int] = []
    url = f"/api/v1/tickets?limit=3&sort={sort}"
    page = await tech.get(url)
    while True:
        seen.extend(t["id"] for t in page.json["items"])
        if page.json["next_cursor"] is None:
            break
        page = await tech.get(f"{url}&cursor={page.json['next_cursor']}")
    assert sorted(seen) == sorted(t["id"] for t in made)
    assert len(seen) == len(set(seen))


async def test_views_and_filters(clients: dict[str, Client]) -> None:
    """Saved views and filters narrow the queue as named."""
    tech = clients["technician"]
    mine = await _ticket(tech, title="Mine", assignee_id=tech.user["id"], tags=["vip"])
    await _ticket(tech, title="Nobody's")
    my_open = await tech.get("/api/v1/tickets?view=my_open")
    assert [t["id"] for t in my_open.json["items"]] == [mine["id"]]
    unassigned = await tech.get("/api/v1/tickets?view=unassigned")
    assert [t["title"] for t in unassigned.json["items"]] == ["Nobody's"]
    assert len((await tech.get("/api/v1/tickets?tag=VIP")).json["items"]) == 1
    assert len((await tech.get("/api/v1/tickets?status=new,assigned")).json["items"]) == 2
    assert (await tech.get("/api/v1/tickets?status=bogus")).status == 422
    assert len((await tech.get("/api/v1/tickets?assignee=none")).json["items"]) == 1
    narrowed = await tech.get("/api/v1/tickets?view=unassigned&status=assigned")
    assert narrowed.json["items"] == []
    closed_in_view = await tech.get("/api/v1/tickets?view=open&status=closed")
    assert closed_in_view.json["items"] == []


async def test_live_feed_tells_staff_everything_and_requesters_their_public_changes(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """The event stream reaches staff for every change, requesters for their public ones."""
    async def collect(client: Client, into: list[dict[str, Any]]) -> None:
        async with client.session.get(server.base_url + "/api/v1/stream") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            async for line in resp.content:
                if line.startswith(b"data: "):
                    into.append(json.loads(line[6:]))

    staff_events: list[dict[str, Any]] = []
    requester_events: list[dict[str, Any]] = []
    tasks = [asyncio.create_task(collect(clients["technician"], staff_events)),
             asyncio.create_task(collect(clients["requester"], requester_events))]
    try:
        await asyncio.sleep(0.2)  # let both streams subscribe
        ticket = await _ticket(clients["requester"])
        await clients["technician"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                         json={"body": "note", "internal": True})
        await clients["technician"].patch(f"/api/v1/tickets/{ticket['id']}",
                                          json={"tags": ["printer"]})
        await clients["technician"].post(f"/api/v1/tickets/{ticket['id']}/comments",
                                         json={"body": "reply"})
        other = await _ticket(clients["technician"], title="Staff-only")

        async def arrived() -> bool:
            return len(staff_events) >= 5 and len(requester_events) >= 2

        from tests.support.waiting import eventually

        await eventually(arrived, within=5)
        assert [e["change"] for e in staff_events] == ["created", "commented", "updated",
                                                       "commented", "created"]
        assert [e["change"] for e in requester_events] == ["created", "commented"]
        assert all(e["id"] != other["id"] for e in requester_events)
        assert set(requester_events[0]) == {"type", "id", "number", "change"}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_number_sequence_has_no_gaps_under_concurrency(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Simultaneous creations get distinct, consecutive numbers."""
    made = await asyncio.gather(*(clients["technician"].post(
        "/api/v1/tickets", json={"title": f"burst {i}"}) for i in range(15)))
    numbers = sorted(r.json["number"] for r in made)
    assert numbers == [f"INC-{i:06d}" for i in range(1, 16)]
    count = await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(tickets)).scalar_one())
    assert count == 15


@pytest.mark.sqlite_only  # EXPLAIN QUERY PLAN; PostgreSQL plans by its statistics
async def test_open_queue_by_priority_reads_the_partial_index(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Open tickets by priority come from ix_tickets_open_priority_id, also after a cursor."""
    from server.db.schema import OPEN_STATUSES_SQL
    from server.tickets import lifecycle, listing

    assert OPEN_STATUSES_SQL == "status IN ({})".format(
        ", ".join(f"'{s}'" for s in sorted(lifecycle.OPEN_STATUSES)))
    for i in range(3):
        await _ticket(clients["technician"], title=f"Queue {i}", impact=1 + i % 3)
    captured: list[str] = []

    def plan(conn: Any) -> None:
        @sa.event.listens_for(conn, "before_cursor_execute")
        def grab(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: Any) -> None:
            if statement.startswith("SELECT tickets.id, tickets.priority"):
                captured.append(conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, params).all().__repr__())

        filters = listing.ListFilters(view="open")
        _, last = listing.list_tickets(conn, filters, sort="priority", after=None, limit=1)
        listing.list_tickets(conn, filters, sort="priority", after=last, limit=1)
        sa.event.remove(conn, "before_cursor_execute", grab)

    await server.db.read(plan)
    assert len(captured) == 2
    assert all("ix_tickets_open_priority_id" in p for p in captured), captured
    page = await clients["technician"].get("/api/v1/tickets?view=open&sort=priority&limit=2")
    assert [t["priority"] for t in page.json["items"]] == [3, 4]


async def test_tickets_name_their_devices_and_attachments_their_event(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A ticket lists its linked devices with host names; an attachment names its event."""
    from server.db.schema import devices, utcnow

    device_id = await server.db.write(lambda c: c.execute(devices.insert().values(
        uid="0" * 36, public_key=b"k" * 32, hostname="ws-finance-07", enrolled_at=utcnow(),
    )).inserted_primary_key[0])
    tech = clients["technician"]
    ticket = await _ticket(tech, device_ids=[device_id])
    assert ticket["devices"] == [{"id": device_id, "hostname": "ws-finance-07"}]
    listed = (await tech.get("/api/v1/tickets")).json["items"][0]
    assert listed["devices"] == ticket["devices"]
    form = aiohttp.FormData()
    form.add_field("file", b"log line\n", filename="log.txt", content_type="text/plain")
    stored = await tech.request("POST", f"/api/v1/tickets/{ticket['id']}/attachments",
                                data=form)
    assert stored.status == 201, stored.body
    events = (await tech.get(f"/api/v1/tickets/{ticket['id']}/events")).json["items"]
    added = [e for e in events if e["type"] == "attachment"]
    assert stored.json["event_id"] == added[0]["id"]


async def test_requesters_search_all_their_own_tickets(
        clients: dict[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """A requester finds every own ticket with a word, however many others use it; newest first."""
    from server.tickets import search

    mine = [await _ticket(clients["requester"], title=f"Toner low {i}") for i in range(2)]
    await clients["technician"].post(f"/api/v1/tickets/{mine[0]['id']}/comments",
                                     json={"body": "toner ordered, internal", "internal": True})
    others = [await _ticket(clients["technician"], title=f"Toner empty {i}") for i in range(3)]
    monkeypatch.setattr(search, "MAX_HITS", 2)  # the desk's newest matches are others'
    staff = await clients["technician"].get("/api/v1/tickets?q=toner")
    assert {t["id"] for t in staff.json["items"]} == {others[1]["id"], others[2]["id"]}
    own = await clients["requester"].get("/api/v1/tickets?q=toner")
    assert [t["id"] for t in own.json["items"]] == [mine[1]["id"], mine[0]["id"]]
    assert (await clients["requester"].get("/api/v1/tickets?q=ordered")).json["items"] == []
