"""SLA over the real server: calendars, policies, ticket SLA, due-time sort, reports, CSV."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from server.app import open_database
from server.sla import retarget, store
from server.sla.schemas import Targets
from server.sla.service import SlaEngine
from server.tickets import creation
from server.tickets.priority import priority_for
from tests.support.server import Client, RunningServer, start_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

OFFICE = {"name": "Office", "tz": "Europe/Berlin",
          "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["09:00-15:00"]},
          "holidays": ["2026-12-24"], "recurring_holidays": ["12-25", "01-01"]}


async def _policy(admin: Client, **extra: Any) -> dict[str, Any]:
    body = {"name": "Default", "calendar_id": 1, "fallback": True,
            "targets": {"first_response": 30, "resolution": 240}, **extra}
    resp = await admin.post("/api/v1/sla/policies", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_calendars_are_managed_by_admins(admin: Client) -> None:
    """The 24x7 preset exists; an admin creates, reads, edits and deletes a calendar."""
    listed = await admin.get("/api/v1/sla/calendars")
    assert [c["name"] for c in listed.json["items"]] == ["24x7"]
    assert listed.json["items"][0]["hours"]["sun"] == ["00:00-24:00"]
    created = await admin.post("/api/v1/sla/calendars", json=OFFICE)
    assert created.status == 201, created.body
    cal = created.json
    assert cal["hours"] == {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["09:00-15:00"]}
    assert cal["recurring_holidays"] == ["01-01", "12-25"]
    patched = await admin.patch(f"/api/v1/sla/calendars/{cal['id']}",
                                json={"tz": "America/New_York"})
    assert (patched.status, patched.json["tz"]) == (200, "America/New_York")
    assert (await admin.delete(f"/api/v1/sla/calendars/{cal['id']}")).status == 204
    assert (await admin.get(f"/api/v1/sla/calendars/{cal['id']}")).status == 404


async def test_bad_calendars_are_refused_and_change_nothing(admin: Client) -> None:
    """Unknown zones, reversed or overlapping hours, bad dates and duplicates get 4xx."""
    cases = [
        ({**OFFICE, "tz": "Mars/Olympus"}, 422, "unknown IANA time zone"),
        ({**OFFICE, "hours": {"mon": ["17:00-09:00"]}}, 422, "empty or reversed"),
        ({**OFFICE, "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, 422, "overlap"),
        ({**OFFICE, "hours": {"mon": ["25:00-26:00"]}}, 422, "09:00-17:00"),
        ({**OFFICE, "hours": {}}, 422, "no working hours"),
        ({**OFFICE, "hours": {"someday": ["09:00-17:00"]}}, 422, "someday"),
        ({**OFFICE, "holidays": ["2026-02-30"]}, 422, "YYYY-MM-DD"),
        ({**OFFICE, "recurring_holidays": ["13-01"]}, 422, "not a calendar day"),
        ({**OFFICE, "name": "24x7"}, 409, "taken"),
        ({**OFFICE, "name": 7}, 422, "name must be text"),
    ]
    for body, status, words in cases:
        resp = await admin.post("/api/v1/sla/calendars", json=body)
        assert resp.status == status, (body, resp.body)
        assert words in resp.json["error"]["message"], (body, resp.body)
    listed = await admin.get("/api/v1/sla/calendars")
    assert len(listed.json["items"]) == 1
    used = await _policy(admin)
    resp = await admin.delete(f"/api/v1/sla/calendars/{used['calendar_id']}")
    assert (resp.status, resp.error_code) == (409, "conflict")


async def test_bad_policies_are_refused(admin: Client) -> None:
    """Missing references, no targets and malformed rules are refused with the reason."""
    base = {"name": "P", "calendar_id": 1, "targets": {"resolution": 60}}
    cases = [
        ({**base, "calendar_id": 999}, "calendar_id: no calendar"),
        ({**base, "targets": {}}, "at least one"),
        ({**base, "targets": {"resolution": 0}}, "must be 1 or more"),
        ({**base, "conditions": {"requester_group_ids": [999]}}, "no group with id 999"),
        ({**base, "conditions": {"category_ids": [999]}}, "no category with id 999"),
        ({**base, "conditions": {"priorities": [6]}}, "must be 5 or less"),
        ({**base, "warn_percents": [50, 50]}, "each threshold once"),
        ({**base, "warn_percents": [100]}, "must be 99 or less"),
        ({**base, "pause_statuses": ["resolved"]}, "not one of the allowed values"),
        ({**base, "escalations": [{"on": "breach", "action": "reassign"}]}, "group_id"),
        ({**base, "escalations": [{"on": "breach", "action": "timeline"}]}, "needs a note"),
        ({**base, "escalations": [{"on": "breach", "action": "notify", "percent": 50}]},
         "warnings only"),
        ({**base, "escalations": [{"on": "later", "action": "notify"}]}, "not one of the allowed"),
        ({**base, "surprise": 1}, "surprise is not a known field"),
    ]
    for body, words in cases:
        resp = await admin.post("/api/v1/sla/policies", json=body)
        assert resp.status == 422, (body, resp.body)
        assert words in resp.json["error"]["message"], (body, resp.body)
    assert (await admin.get("/api/v1/sla/policies")).json["items"] == []


async def test_one_fallback_and_match_order_in_the_list(admin: Client) -> None:
    """Naming a new fallback demotes the old; the list is in match order, fallback last."""
    first = await _policy(admin, name="Old fallback")
    second = await _policy(admin, name="New fallback")
    p1 = await _policy(admin, name="P1", fallback=False, position=5,
                       conditions={"priorities": [1]})
    listed = (await admin.get("/api/v1/sla/policies")).json["items"]
    assert [(p["name"], p["fallback"]) for p in listed] == [
        ("P1", False), ("Old fallback", False), ("New fallback", True)]
    assert first["id"] != second["id"] and p1["position"] == 5


async def test_ticket_shows_its_sla_to_staff_only(admin: Client, technician: Client,
                                                  requester: Client) -> None:
    """GET ticket includes the clocks for staff; a requester's view leaves them out."""
    await _policy(admin)
    created = await requester.post("/api/v1/tickets", json={"title": "No VPN"})
    assert created.status == 201
    assert created.json["sla"] is None
    tid = created.json["id"]
    seen = (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]
    assert {c["kind"]: c["target_minutes"] for c in seen["clocks"]} == {
        "first_response": 30, "resolution": 240}
    assert seen["breached"] is False and seen["due_at"] is not None
    assert (await requester.get(f"/api/v1/tickets/{tid}")).json["sla"] is None
    reply = await technician.post(f"/api/v1/tickets/{tid}/comments", json={"body": "Hi"})
    assert reply.status == 201
    clocks = (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]["clocks"]
    assert {c["kind"]: c["state"] for c in clocks} == {"first_response": "met",
                                                       "resolution": "running"}


async def _retargeted(admin: Client, policy_id: int) -> None:
    async def done() -> bool:
        got = await admin.get(f"/api/v1/sla/policies/{policy_id}")
        return got.json["retarget_pending"] is False
    await eventually(done)


async def test_policy_edit_retargets_open_clocks_in_the_background(
        admin: Client, technician: Client) -> None:
    """PATCH a policy's targets: the answer says a re-target is pending; the ticket follows."""
    policy = await _policy(admin)
    tid = (await technician.post("/api/v1/tickets", json={"title": "Slow"})).json["id"]
    resp = await admin.patch(f"/api/v1/sla/policies/{policy['id']}",
                             json={"targets": {"resolution": 480}})
    assert resp.status == 200, resp.body
    assert resp.json["retarget_pending"] is True
    await _retargeted(admin, policy["id"])
    clocks = (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]["clocks"]
    # The policy no longer targets first response: that clock is cancelled.
    assert [(c["kind"], c["target_minutes"], c["state"]) for c in clocks] == [
        ("first_response", 30, "cancelled"), ("resolution", 480, "running")]
    deleted = await admin.delete(f"/api/v1/sla/policies/{policy['id']}")
    assert deleted.status == 204
    kept = (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]["clocks"]
    assert [(c["policy_id"], c["policy_name"]) for c in kept] == [(None, "Default")] * 2


async def test_ticket_list_sorts_by_due_time_across_pages(admin: Client,
                                                          technician: Client) -> None:
    """sort=due lists earliest due first, tickets without a clock last, stable over pages."""
    await _policy(admin, name="P1", fallback=False, conditions={"priorities": [1]},
                  targets={"resolution": 60})
    await _policy(admin, name="P3", fallback=False, conditions={"priorities": [3]},
                  targets={"resolution": 600})
    ids = {}
    for label, impact, urgency in (("p3", 2, 2), ("none", 3, 3), ("p1", 1, 1),
                                   ("p3b", 2, 2), ("none2", 3, 2)):
        resp = await technician.post("/api/v1/tickets", json={
            "title": label, "impact": impact, "urgency": urgency})
        ids[resp.json["id"]] = label
    order: list[str] = []
    cursor = None
    while True:
        path = "/api/v1/tickets?sort=due&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await technician.get(path)
        assert page.status == 200, page.body
        order += [ids[t["id"]] for t in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert order == ["p1", "p3", "p3b", "none", "none2"]
    for cursor in ("WzEsMiwzXQ", "WzAsbnVsbCwieCJd"):  # [1,2,3] and [0,null,"x"]
        bad = await technician.get(f"/api/v1/tickets?sort=due&cursor={cursor}")
        assert (bad.status, bad.error_code) == (400, "invalid_cursor")


async def _breach_one(server: RunningServer, technician: Client, admin: Client) -> int:
    await _policy(admin, targets={"first_response": 10, "resolution": 20})
    tid = int((await technician.post("/api/v1/tickets", json={"title": "Down"})).json["id"])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    fired = await SlaEngine(server.app, now=lambda: later).run_pass()
    assert sorted(f.clock for f in fired) == ["first_response", "resolution"]
    return tid


async def test_reports_and_csv(server: RunningServer, admin: Client,
                               technician: Client) -> None:
    """Compliance and breach reports count the breached clocks; CSV downloads as a file."""
    tid = await _breach_one(server, technician, admin)
    now = dt.datetime.now(dt.UTC)
    period = (f"start={(now - dt.timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
              f"&end={(now + dt.timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    report = await technician.get(f"/api/v1/sla/reports/compliance?{period}&by=priority")
    assert report.status == 200, report.body
    assert [(r["key"], r["clock"], r["total"], r["breached"], r["compliance_percent"])
            for r in report.json["rows"]] == [("P5", "first_response", 1, 1, 0.0),
                                              ("P5", "resolution", 1, 1, 0.0)]
    breaches = await technician.get(f"/api/v1/sla/reports/breaches?{period}&limit=1")
    assert [b["ticket_id"] for b in breaches.json["items"]] == [tid]
    rest = await technician.get(f"/api/v1/sla/reports/breaches?{period}&limit=1"
                                f"&cursor={breaches.json['next_cursor']}")
    assert len(rest.json["items"]) == 1 and rest.json["next_cursor"] is None
    exported = await technician.get(f"/api/v1/sla/reports/breaches.csv?{period}")
    assert exported.status == 200
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="sla-breaches.csv"'
    rows = list(csv.reader(io.StringIO(exported.body.decode())))
    assert rows[0][:3] == ["ticket", "title", "priority"]
    assert [r[5] for r in rows[1:]] == ["first_response", "resolution"]
    by_group = await technician.get(f"/api/v1/sla/reports/compliance.csv?{period}&by=group")
    assert by_group.headers["Content-Disposition"].startswith("attachment;")
    assert list(csv.reader(io.StringIO(by_group.body.decode())))[1][:2] == [
        "(no group)", "first_response"]


async def test_report_periods_are_checked(technician: Client) -> None:
    """A report needs an aware start before its end, within a year."""
    for query, words in (("start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", "after"),
                         ("start=2026-01-01T00:00:00&end=2026-01-02T00:00:00", "time zone"),
                         ("start=2024-01-01T00:00:00Z&end=2026-01-01T00:00:00Z", "366"),
                         ("start=yesterday&end=2026-01-01T00:00:00Z", "a date and time"),
                         ("end=2026-01-01T00:00:00Z", "start"),
                         ("start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&by=moon",
                          "by")):
        resp = await technician.get(f"/api/v1/sla/reports/compliance?{query}")
        assert resp.status == 422, (query, resp.body)
        assert words in resp.json["error"]["message"], (query, resp.body)


async def test_engine_fires_missed_breaches_on_start_once(tmp_path: Path,
                                                         database_url: str) -> None:
    """A breach that fell due while the server was down fires on start, and only once."""
    data = tmp_path / "data"
    server = await start_server(data, database_url=database_url)
    admin = await server.login("admin", "admin-password-1")
    await _policy(admin, targets={"resolution": 30})
    settings = server.settings
    await server.close()

    def file_old_ticket() -> int:
        db = open_database(settings)
        try:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
            return db.write_sync(lambda c: creation.create_ticket(c, creation.NewTicket(
                kind="incident", title="Filed before the outage", description="", impact=3,
                urgency=3, priority=priority_for(3, 3), category_id=None, requester_id=1,
                assignee_id=None, group_id=None, device_ids=[], tags=[], source="api"),
                actor_id=1, now=past))
        finally:
            db.close()

    tid = await asyncio.to_thread(file_old_ticket)
    for _ in range(2):  # start twice: the second start finds nothing left to fire
        server = await start_server(data, database_url=database_url)
        admin = await server.login("admin", "admin-password-1")
        for _ in range(200):  # the engine's first pass runs as the server starts
            events = (await admin.get(f"/api/v1/tickets/{tid}/events")).json["items"]
            if any(e["type"] == "sla_breached" for e in events):
                break
            await asyncio.sleep(0.05)
        await server.close()
        assert [e["type"] for e in events].count("sla_breached") == 1


async def test_an_interrupted_retarget_resumes_when_the_server_starts(
        tmp_path: Path, database_url: str) -> None:
    """Edit, one chunk, stop; the restarted server re-targets the rest, each clock once."""
    data = tmp_path / "data"
    server = await start_server(data, database_url=database_url)
    admin = await server.login("admin", "admin-password-1")
    policy = await _policy(admin)
    ids = [(await admin.post("/api/v1/tickets", json={"title": f"T{i}"})).json["id"]
           for i in range(5)]  # 10 open clocks
    settings = server.settings
    await server.close()

    def edit_then_stop_after_one_chunk() -> None:
        db = open_database(settings)
        try:
            now = dt.datetime.now(dt.UTC)
            db.write_sync(lambda c: store.save_policy(
                c, policy["id"], {"targets": Targets(first_response=60, resolution=600)}, now))
            chunk = db.write_sync(lambda c: retarget.run_chunk(c, now, limit=4))
            assert chunk is not None and not chunk.done
        finally:
            db.close()

    await asyncio.to_thread(edit_then_stop_after_one_chunk)
    server = await start_server(data, database_url=database_url)
    try:
        admin = await server.login("admin", "admin-password-1")
        await _retargeted(admin, policy["id"])
        for tid in ids:
            sla = (await admin.get(f"/api/v1/tickets/{tid}")).json["sla"]
            assert [c["target_minutes"] for c in sla["clocks"]] == [60, 600]
            events = (await admin.get(f"/api/v1/tickets/{tid}/events")).json["items"]
            kinds = [k for e in events if e["type"] == "sla_retargeted" for k in e["changes"]]
            assert sorted(kinds) == ["first_response", "resolution"]  # each clock once
    finally:
        await server.close()


async def test_requesters_never_see_sla_in_any_ticket_answer(
        server: RunningServer, admin: Client, technician: Client, requester: Client) -> None:
    """Catalog request and approval answers, ticket GET and lists: no SLA for requesters."""
    await _policy(admin, targets={"first_response": 1, "resolution": 2})
    boss = await server.create_user(admin, "boss", "requester")
    item = await admin.post("/api/v1/catalog", json={
        "name": "Laptop", "fields": [], "approval": "approver", "approver_id": boss["id"]})
    assert item.status == 201, item.body
    asked = await requester.post(f"/api/v1/catalog/{item.json['id']}/requests",
                                 json={"values": {}})
    assert asked.status == 201, asked.body
    tid = asked.json["id"]
    assert asked.json["sla"] is None
    staff_view = (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]
    assert staff_view is not None and len(staff_view["clocks"]) == 2  # it has clocks
    # Past due: the engine records breaches, internal events a requester must not read.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert len(await SlaEngine(server.app, now=lambda: later).run_pass()) == 2
    assert (await requester.get(f"/api/v1/tickets/{tid}")).json["sla"] is None
    listed = (await requester.get("/api/v1/tickets")).json["items"]
    assert [(t["id"], t["sla"]) for t in listed] == [(tid, None)]
    by_due = await requester.get("/api/v1/tickets?sort=due")  # ordered by hidden state
    assert by_due.status == 422 and "only for staff" in by_due.json["error"]["message"]
    events = (await requester.get(f"/api/v1/tickets/{tid}/events")).json["items"]
    assert not [e for e in events if e["type"].startswith("sla_")]
    approver = await server.login("boss")
    waiting = (await approver.get("/api/v1/tickets?view=awaiting_my_approval")).json["items"]
    assert [(t["id"], t["sla"]) for t in waiting] == [(tid, None)]
    decided = await approver.post(f"/api/v1/tickets/{tid}/approval",
                                  json={"decision": "approve"})
    assert decided.status == 200, decided.body
    assert decided.json["sla"] is None
    assert (await technician.get(f"/api/v1/tickets/{tid}")).json["sla"]["breached"] is True
