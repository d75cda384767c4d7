"""The requester reads the remote sessions on their ticket; staff without rights list none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.remote.test_recordings_api import (
    RECORDING_AGENT,
    recorded_group,
    run_recorded_session,
)
from tests.support.remote import enrolled, frame, remote_agent, wait_state
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

# Words of the desk's own bookkeeping that a requester's timeline never carries.
DESK_ONLY = ("frames", "MB", "input events", "Recorded:", "dropped", "gaps")


async def ticket_of(admin: Client, requester: Client, device_id: int) -> dict[str, Any]:
    resp = await admin.post("/api/v1/tickets", json={
        "title": "Screen flickers", "device_ids": [device_id],
        "requester_id": requester.user["id"]})
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def test_requester_timeline_shows_who_looked_when_how_and_if_recorded(
        server: RunningServer, admin: Client, requester: Client, tmp_path: Path) -> None:
    """The requester's timeline has each session step with technician, mode and recording, and nothing of the desk's counters."""  # noqa: E501
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_of(admin, requester, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket["id"],
                                         [frame(1, key=True, size=300), frame(2)])
    await wait_state(admin, sid, "ended")
    staff_view = [e for e in (await admin.get(f"/api/v1/tickets/{ticket['id']}/events")
                              ).json["items"] if e["type"] == "remote_session"]
    mine = [e for e in (await requester.get(f"/api/v1/tickets/{ticket['id']}/events")
                        ).json["items"] if e["type"] == "remote_session"]
    assert [e["changes"]["step"] for e in mine] == ["requested", "started", "ended"]
    assert [e["id"] for e in mine] == [e["id"] for e in staff_view]
    requested, started, ended = mine
    # Who and how: the technician who asked, the mode, and that it would be recorded.
    assert requested["actor"]["display_name"] == "Administrator"
    assert (requested["changes"]["mode"], requested["changes"]["record"]) == ("view", True)
    assert requested["body"] == staff_view[0]["body"]
    assert started["changes"]["consent"] == "user"
    # How it ended, in the requester's words: who watched, how long, that it was recorded.
    assert ended["changes"]["recorded"] is True
    assert ended["changes"]["watchers"] == [] and ended["changes"]["final_mode"] == "view"
    assert ended["body"].startswith("Remote session ended by Administrator after ")
    assert ended["body"].endswith("It was recorded.")
    for word in DESK_ONLY:
        assert word not in ended["body"], ended["body"]
    assert "Recorded: " in staff_view[-1]["body"]  # the desk keeps its details
    for event in mine:
        assert not {"summary", "recording", "device_id"} & set(event["changes"]), event
        assert event["at"] and event["public"] is True
    # A requester still cannot read the session records or the recording.
    assert (await requester.get(f"/api/v1/tickets/{ticket['id']}/remote-sessions")
            ).status == 403
    assert (await requester.get(f"/api/v1/remote-sessions/{sid}/recording")).status == 403


async def test_session_listing_needs_rights_on_the_ticket(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """A technician who may not open a ticket's sessions may not list them either."""
    device = await enrolled(server, admin, tmp_path / "a")
    group = await admin.post("/api/v1/groups", json={"name": "Field"})
    ticket = await admin.post("/api/v1/tickets", json={
        "title": "Screen flickers", "device_ids": [device.id], "group_id": group.json["id"]})
    path = f"/api/v1/tickets/{ticket.json['id']}/remote-sessions"
    async with remote_agent(server, device):
        assert (await admin.post(path, json={"reason": "look"})).status == 201
    listed = await technician.get(path)
    assert listed.status == 403 and listed.error_code == "forbidden", listed.body
    assert "assignee" in listed.json["error"]["message"]
    # Unknown tickets stay 404; rights on the ticket (its group) open the listing.
    assert (await technician.get("/api/v1/tickets/999999/remote-sessions")).status == 404
    await admin.put(f"/api/v1/groups/{group.json['id']}/members/{technician.user['id']}")
    allowed = await technician.get(path)
    assert allowed.status == 200 and len(allowed.json["items"]) == 1
