"""The SLA preview: unsaved targets on a saved or unsaved calendar, by the server's clock."""

from __future__ import annotations

import datetime as dt

from server.sla import clock
from server.sla.policy import calendar_from_parts
from tests.support.server import Client

OFFICE = {"tz": "Europe/Berlin", "hours": {d: ["09:00-17:00"] for d in
                                           ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-12-24"], "recurring_holidays": ["12-25"]}
# A Wednesday afternoon in Berlin (UTC+1 in December).
START = "2026-12-23T15:00:00+00:00"


async def test_preview_on_an_unsaved_calendar_uses_business_time(admin: Client) -> None:
    """Two business hours from Wed 16:00 Berlin skip the holidays and land on Mon 10:00."""
    resp = await admin.post("/api/v1/sla/preview", json={
        "calendar": OFFICE, "targets": {"first_response": 120, "resolution": 960},
        "warn_percents": [50], "start": START, "priority": 2, "kind": "incident"})
    assert resp.status == 200, resp.body
    body = resp.json
    assert (body["priority"], body["kind"], body["tz"]) == (2, "incident", "Europe/Berlin")
    due = {c["clock"]: dt.datetime.fromisoformat(c["due_at"]) for c in body["clocks"]}
    # Wed 16:00-17:00 counts 1 h; Thu 24th and Fri 25th are holidays; Mon 28th 09:00 + 1 h.
    assert due["first_response"] == dt.datetime(2026, 12, 28, 9, 0, tzinfo=dt.UTC)
    cal = calendar_from_parts(name="x", **OFFICE)
    start = dt.datetime.fromisoformat(START)
    assert due["resolution"] == clock.add_business_minutes(cal, start, 960)
    assert [c["clock"] for c in body["clocks"]] == ["first_response", "resolution"]
    assert len(body["clocks"][0]["warnings_at"]) == 1


async def test_preview_on_a_saved_calendar(admin: Client) -> None:
    """The 24x7 preset counts every minute: 90 minutes after the start."""
    resp = await admin.post("/api/v1/sla/preview", json={
        "calendar_id": 1, "targets": {"resolution": 90}, "start": START})
    assert resp.status == 200, resp.body
    assert resp.json["calendar_name"] == "24x7"
    assert resp.json["clocks"][0]["due_at"].startswith("2026-12-23T16:30:00")


async def test_bad_previews_are_refused(admin: Client, technician: Client) -> None:
    """Both or neither calendar, a bad zone, a missing calendar or a naive start get 4xx; a technician is refused."""  # noqa: E501
    targets = {"resolution": 60}
    cases = [
        ({"targets": targets}, 422, "either calendar_id or calendar"),
        ({"targets": targets, "calendar_id": 1, "calendar": OFFICE}, 422, "either"),
        ({"targets": targets, "calendar": {**OFFICE, "tz": "Mars/Base"}}, 422, "Mars/Base"),
        ({"targets": targets, "calendar_id": 999}, 404, "no calendar"),
        ({"targets": targets, "calendar_id": 1, "start": "2026-12-23T15:00:00"}, 422,
         "time zone"),
        ({"targets": {"resolution": 0}, "calendar_id": 1}, 422, "resolution"),
    ]
    for body, status, words in cases:
        resp = await admin.post("/api/v1/sla/preview", json=body)
        assert resp.status == status, (body, resp.body)
        assert words in resp.json["error"]["message"], resp.body
    refused = await technician.post("/api/v1/sla/preview", json={"targets": targets,
                                                                  "calendar_id": 1})
    assert refused.status == 403


async def test_notify_rule_names_a_staff_member_only(
        admin: Client, technician: Client, requester: Client) -> None:
    """A notify rule may name a staff member; a requester or a user_id on another action is refused."""  # noqa: E501
    base = {"name": "P1", "calendar_id": 1, "targets": {"resolution": 60}}
    tech_id, req_id = technician.user["id"], requester.user["id"]
    refused = await admin.post("/api/v1/sla/policies", json={**base, "escalations": [
        {"on": "breach", "action": "notify", "user_id": req_id}]})
    assert refused.status == 422
    assert "no active staff member" in refused.json["error"]["message"]
    wrong = await admin.post("/api/v1/sla/policies", json={**base, "escalations": [
        {"on": "breach", "action": "raise_priority", "user_id": tech_id}]})
    assert wrong.status == 422
    assert (await admin.get("/api/v1/sla/policies")).json["items"] == []
    ok = await admin.post("/api/v1/sla/policies", json={**base, "escalations": [
        {"on": "breach", "action": "notify", "user_id": tech_id}]})
    assert ok.status == 201, ok.body
    assert ok.json["escalations"][0]["user_id"] == tech_id
