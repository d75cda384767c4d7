"""Satisfaction answers from the portal (one per ticket, changeable for a while, flagged
when low, summed within a technician's groups) and the problem workflow through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import ticket_events
from tests.support.server import Client, RunningServer


async def _ok(resp: Any) -> Any:
    assert 200 <= resp.status < 300, resp.body
    return resp.json if resp.body else None


async def _resolved(rick: Client, tina: Client, title: str, group_id: int | None) -> int:
    ticket = await _ok(await rick.post("/api/v1/tickets", json={"title": title}))
    change: dict[str, Any] = {"status": "resolved", "resolution_code": "fixed",
                              "resolution_note": "Done.", "assignee_id": tina.user["id"]}
    if group_id is not None:
        change["group_id"] = group_id
    await _ok(await tina.patch(f"/api/v1/tickets/{ticket['id']}", json=change))
    return int(ticket["id"])


@pytest.mark.all_databases  # the aggregate reads JSON paths: both backends
async def test_portal_rating_window_flag_and_aggregates(
        server: RunningServer, admin: Client, technician: Client, requester: Client) -> None:
    """A requester rates once, may change it within the window, not after; a low score
    flags the ticket for the group's manager, who clears it; figures stay in scope."""
    tina, rick = technician, requester
    group = await _ok(await admin.post("/api/v1/groups", json={"name": "Network"}))
    await _ok(await admin.put(f"/api/v1/groups/{group['id']}/members/{tina.user['id']}"))
    await _ok(await admin.patch(f"/api/v1/groups/{group['id']}",
                                json={"manager_id": tina.user["id"]}))
    open_ticket = await _ok(await rick.post("/api/v1/tickets", json={"title": "Open"}))
    resp = await rick.put(f"/api/v1/tickets/{open_ticket['id']}/rating", json={"score": 5})
    assert (resp.status, resp.json["error"]["code"]) == (422, "not_resolved")
    mine = await _resolved(rick, tina, "Slow Wi-Fi", group["id"])
    other = await _resolved(rick, tina, "Printer", None)
    resp = await tina.put(f"/api/v1/tickets/{mine}/rating", json={"score": 5})
    assert resp.status == 403  # only the requester answers
    state = await _ok(await rick.put(f"/api/v1/tickets/{mine}/rating",
                                     json={"score": 1, "comment": "Still slow"}))
    assert state["score"] == 1 and state["changeable_until"] is not None
    ticket = await _ok(await tina.get(f"/api/v1/tickets/{mine}"))
    assert ticket["satisfaction_flagged_at"] is not None
    assert ticket["satisfaction"]["comment"] == "Still slow"
    assert (await _ok(await rick.get(f"/api/v1/tickets/{mine}")))[
        "satisfaction_flagged_at"] is None  # the flag is the desk's
    await _ok(await rick.put(f"/api/v1/tickets/{mine}/rating", json={"score": 3}))
    ticket = await _ok(await tina.get(f"/api/v1/tickets/{mine}"))
    assert ticket["satisfaction"]["score"] == 3 and ticket["satisfaction_flagged_at"] is None
    await _ok(await rick.put(f"/api/v1/tickets/{mine}/rating", json={"score": 2}))
    assert (await tina.delete(f"/api/v1/tickets/{mine}/rating/flag")).status == 204
    # Past the window (first answer a day and more ago) the answer stays as it is.
    await server.db.write(lambda c: c.execute(ticket_events.update().where(
        ticket_events.c.ticket_id == mine, ticket_events.c.type == "rating").values(
        at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))))
    resp = await rick.put(f"/api/v1/tickets/{mine}/rating", json={"score": 5})
    assert (resp.status, resp.json["error"]["code"]) == (409, "already_rated")
    await _ok(await rick.put(f"/api/v1/tickets/{other}/rating", json={"score": 5}))
    everyone = await _ok(await admin.get("/api/v1/satisfaction?by=technician"))
    assert everyone["total"] == 2 and everyone["average"] == 3.5
    [row] = everyone["items"]
    assert (row["name"], row["scores"], row["low"]) == ("Tina", [0, 1, 0, 0, 1], 1)
    # A technician sees their groups and the tickets without a group, as the reports do:
    # outside the group, only the one without a group.
    await server.create_user(admin, "otto", "technician")
    otto = await server.login("otto")
    outside = await _ok(await otto.get("/api/v1/satisfaction?by=group"))
    assert outside["total"] == 1 and [r["name"] for r in outside["items"]] == [None]
    by_group = await _ok(await tina.get("/api/v1/satisfaction?by=group"))
    assert {(r["name"], r["answers"]) for r in by_group["items"]} == {("Network", 1),
                                                                       (None, 1)}


async def test_problem_workflow(server: RunningServer, admin: Client, technician: Client,
                                requester: Client) -> None:
    """A problem takes a root cause and a workaround, publishes it as a KB article that
    new tickets are offered, and resolves with the incidents chosen."""
    tina, rick = technician, requester
    incidents = [await _ok(await rick.post("/api/v1/tickets", json={
        "title": f"Outlook freezes opening calendar {n}",
        "description": "Outlook hangs on the shared calendar."})) for n in range(3)]
    problem = await _ok(await tina.post("/api/v1/tickets", json={
        "kind": "problem", "title": "Outlook freezes on shared calendars"}))
    pid = problem["id"]
    resp = await tina.patch(f"/api/v1/tickets/{incidents[0]['id']}",
                            json={"root_cause": "x"})
    assert (resp.status, resp.json["error"]["code"]) == (422, "not_a_problem")
    await _ok(await tina.post(f"/api/v1/problems/{pid}/incidents",
                              json={"incident_ids": [i["id"] for i in incidents]}))
    resp = await tina.post(f"/api/v1/problems/{pid}/workaround/publish")
    assert (resp.status, resp.json["error"]["code"]) == (422, "no_workaround")
    await _ok(await tina.patch(f"/api/v1/tickets/{pid}", json={
        "root_cause": "A calendar add-in blocks the UI thread.",
        "workaround": "Disable the calendar sync add-in in Outlook options, then restart "
                      "Outlook; shared calendars open again.", "known_error": True}))
    article_id = (await _ok(await tina.post(
        f"/api/v1/problems/{pid}/workaround/publish")))["article_id"]
    shown = await _ok(await tina.get(f"/api/v1/tickets/{pid}"))
    assert shown["known_error"] and shown["workaround_article_id"] == article_id
    found = await _ok(await rick.get("/api/v1/kb/suggest?q=outlook+shared+calendar+freezes"))
    assert article_id in [a["article"]["id"] for a in found["items"]]
    await _ok(await tina.patch(f"/api/v1/tickets/{incidents[2]['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "resolution_note": "Gone."}))
    listed = await _ok(await tina.get(f"/api/v1/problems/{pid}/incidents?open=1"))
    assert [i["id"] for i in listed["items"]] == [incidents[0]["id"], incidents[1]["id"]]
    resp = await tina.post(f"/api/v1/problems/{pid}/resolve", json={
        "message": "Fixed", "incident_ids": [incidents[2]["id"]]})
    assert resp.status == 422  # not an open incident of the problem
    done = await _ok(await tina.post(f"/api/v1/problems/{pid}/resolve", json={
        "message": "The add-in was updated; calendars open again.",
        "incident_ids": [incidents[0]["id"]]}))
    assert done["incident_ids"] == [incidents[0]["id"]]
    statuses = [(await _ok(await tina.get(f"/api/v1/tickets/{t}")))["status"]
                for t in (pid, incidents[0]["id"], incidents[1]["id"])]
    assert statuses == ["resolved", "resolved", "new"]
    count = await server.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(
        ticket_events).where(ticket_events.c.type == "workaround_published")).scalar())
    assert count == 1
