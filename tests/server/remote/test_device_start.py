"""Starting a session from a device page: the device's tickets, its remote flag, the link check."""

from __future__ import annotations

from pathlib import Path

from server.keys import REMOTE
from tests.support.remote import (
    enrolled,
    remote_agent,
    ticket_with_device,
    timeline,
)
from tests.support.server import Client, RunningServer

OPEN = "new,assigned,in_progress,pending"


async def test_tickets_filter_by_device_lists_its_open_tickets(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """GET /tickets?device_id= lists the device's tickets (open ones with status=)."""
    device = await enrolled(server, admin, tmp_path / "a")
    other = await enrolled(server, admin, tmp_path / "b")
    linked = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    both = await admin.post("/api/v1/tickets", json={
        "title": "Two machines", "device_ids": [device.id, other.id],
        "requester_id": requester.user["id"]})
    elsewhere = await ticket_with_device(admin, other.id)
    done = await ticket_with_device(admin, device.id)
    resolved = await admin.patch(f"/api/v1/tickets/{done['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "resolution_note": "ok"})
    assert resolved.status == 200, resolved.body
    await admin.post("/api/v1/tickets", json={"title": "No device"})

    listed = await technician.get(f"/api/v1/tickets?device_id={device.id}")
    assert listed.status == 200, listed.body
    assert [t["id"] for t in listed.json["items"]] == [done["id"], both.json["id"], linked["id"]]
    open_only = await technician.get(f"/api/v1/tickets?device_id={device.id}&status={OPEN}")
    assert [t["id"] for t in open_only.json["items"]] == [both.json["id"], linked["id"]]
    assert all(device.id in t["device_ids"] for t in open_only.json["items"])
    of_other = await technician.get(f"/api/v1/tickets?device_id={other.id}")
    assert [t["id"] for t in of_other.json["items"]] == [elsewhere["id"], both.json["id"]]
    unknown = await technician.get("/api/v1/tickets?device_id=987654")
    assert (unknown.status, unknown.json["items"]) == (200, [])
    # A requester filtering by device still sees only their own tickets.
    mine = await requester.get(f"/api/v1/tickets?device_id={device.id}")
    assert [t["id"] for t in mine.json["items"]] == [both.json["id"]]


async def test_tickets_device_filter_refuses_bad_input(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A device_id that is not one integer, or no login, gets the error shape."""
    tech = clients["technician"]
    for query in ("device_id=abc", "device_id=1.5", "device_id=", "device_id=1&device_id=2",
                  "device_id=99999999999999999999999"):
        got = await tech.get(f"/api/v1/tickets?{query}")
        assert got.status in (400, 422), (query, got.status, got.body)
        assert set(got.json) == {"error"} and got.json["error"]["message"], query
    anonymous = await clients["anonymous"].get("/api/v1/tickets?device_id=1")
    assert (anonymous.status, anonymous.error_code) == (401, "unauthorized")


async def test_device_tells_whether_it_offers_remote_sessions(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """remote_available is true only while an agent offering remote sessions is connected."""
    device = await enrolled(server, admin, tmp_path / "a")

    async def flag() -> tuple[bool, bool]:
        one = (await technician.get(f"/api/v1/devices/{device.id}")).json["device"]
        listed = (await technician.get("/api/v1/devices")).json["items"]
        assert [d["remote_available"] for d in listed if d["id"] == device.id] == [
            one["remote_available"]]
        return one["online"], one["remote_available"]

    assert await flag() == (False, False)
    async with remote_agent(server, device, capabilities=("inventory",)):
        assert await flag() == (True, False)
    async with remote_agent(server, device):
        assert await flag() == (True, True)


async def test_a_device_not_linked_to_the_chosen_ticket_is_refused(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """An online, capable device that is not linked to the ticket gets no session request."""
    linked = await enrolled(server, admin, tmp_path / "a")
    stranger = await enrolled(server, admin, tmp_path / "b")
    ticket = await ticket_with_device(admin, linked.id, assignee_id=technician.user["id"])
    bare = await admin.post("/api/v1/tickets", json={
        "title": "Nothing linked", "assignee_id": technician.user["id"]})
    async with remote_agent(server, stranger):
        for ticket_id in (ticket["id"], bare.json["id"]):
            got = await technician.post(f"/api/v1/tickets/{ticket_id}/remote-sessions",
                                        json={"reason": "look", "device_id": stranger.id})
            assert (got.status, got.error_code) == (422, "validation_error"), got.body
            assert f"device {stranger.id} is not linked to this ticket" in \
                got.json["error"]["message"]
            assert await timeline(admin, ticket_id) == []
            listed = await technician.get(f"/api/v1/tickets/{ticket_id}/remote-sessions")
            assert listed.json["items"] == []
        # Nothing was opened, so nothing was sent to the device.
        assert server.app[REMOTE].by_id == {}
        assert not server.app[REMOTE].busy(stranger.id)
