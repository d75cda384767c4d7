"""Remote sessions through the API with a hand-driven agent: rights, consent, audit."""

from __future__ import annotations

from pathlib import Path

from shared import protocol as p
from tests.support.remote import (
    enrolled,
    next_message,
    remote_agent,
    ticket_with_device,
    timeline,
    viewer,
    wait_state,
)
from tests.support.server import Client, RunningServer


async def test_session_starts_after_consent_and_ends_with_a_summary(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """The agent is asked with names; the answer starts it; ending it leaves a summary."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with remote_agent(server, device) as ws:
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                     json={"reason": "check the printer queue",
                                           "mode": "control"})
        assert resp.status == 201, resp.body
        session = resp.json
        assert (session["state"], session["mode"], session["device_id"]) == (
            "requested", "control", device.id)
        request = await next_message(ws, p.SessionRequest)
        assert (request.technician, request.ticket, request.consent, request.mode) == (
            "Tina", ticket["number"], True, "control")
        assert request.reason == "check the printer queue"
        assert request.timeout == server.settings.remote_consent_seconds
        await ws.send(p.encode(p.SessionAnswer(
            session=request.session, allowed=True, reason="allowed",
            monitors=[p.Monitor(x=0, y=0, width=1920, height=1080)])))
        async with viewer(server, technician, session["id"]) as v:
            status = await v.next_text("status")
            while status["state"] != "active":
                status = await v.next_text("status")
            assert status["monitors"] == [{"x": 0, "y": 0, "width": 1920, "height": 1080}]
            again = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                          json={"reason": "twice"})
            assert again.status == 409 and again.error_code == "session_busy"
            ended = await technician.post(f"/api/v1/remote-sessions/{session['id']}/end")
            assert ended.status == 200, ended.body
            assert (ended.json["state"], ended.json["ended_by"]) == ("ended", "technician")
            end = await next_message(ws, p.SessionEnd)
            assert end.session == session["id"]
            assert (await v.next_text("ended"))["outcome"] == "completed"
    steps = [e["changes"]["step"] for e in await timeline(technician, ticket["id"])]
    assert steps == ["requested", "started", "ended"]
    summary = (await timeline(technician, ticket["id"]))[-1]
    assert summary["public"] is True
    assert summary["body"].startswith("Remote session ended by Tina after ")
    assert "Watched by Tina" in summary["body"]
    # The requester's view of the same timeline shows who looked at the screen.
    listed = await technician.get(f"/api/v1/tickets/{ticket['id']}/remote-sessions")
    assert [s["outcome"] for s in listed.json["items"]] == ["completed"]


async def test_refusal_and_no_answer_are_recorded(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A denied request and an unanswered one end the session and say why on the ticket."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        for reason in ("denied", "timeout"):
            resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                    json={"reason": "look"})
            assert resp.status == 201
            request = await next_message(ws, p.SessionRequest)
            await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=False,
                                                   reason=reason)))  # type: ignore[arg-type]
            got = await wait_state(admin, request.session, "ended")
            assert (got.json["outcome"], got.json["started_at"]) == (reason, None)
    events = await timeline(admin, ticket["id"])
    bodies = [e["body"] for e in events if e["changes"]["step"] == "ended"]
    assert bodies == ["Remote session not started: the user refused.",
                      "Remote session not started: nobody answered in time."]


async def test_only_staff_with_rights_start_or_join(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """A technician who is neither assignee nor in the ticket's group can neither start nor join."""
    device = await enrolled(server, admin, tmp_path / "a")
    group = await admin.post("/api/v1/groups", json={"name": "Field"})
    ticket = await ticket_with_device(admin, device.id, group_id=group.json["id"])
    async with remote_agent(server, device) as ws:
        denied = await technician.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                       json={"reason": "look"})
        assert denied.status == 403 and denied.error_code == "forbidden"
        as_requester = await requester.post(
            f"/api/v1/tickets/{ticket['id']}/remote-sessions", json={"reason": "look"})
        assert as_requester.status == 403
        started = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                   json={"reason": "look"})
        sid = started.json["id"]
        request = await next_message(ws, p.SessionRequest)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed")))
        assert (await technician.get(f"/api/v1/remote-sessions/{sid}")).status == 404
        assert (await technician.post(f"/api/v1/remote-sessions/{sid}/end")).status == 404
        url = server.base_url.replace("https://", "wss://") + f"/api/v1/remote-sessions/{sid}/ws"
        import aiohttp

        try:
            async with technician.session.ws_connect(url, headers={"Origin": server.base_url}):
                raise AssertionError("a technician without rights joined")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 404
        # Membership of the ticket's group grants the right.
        await admin.put(f"/api/v1/groups/{group.json['id']}/members/{technician.user['id']}")
        assert (await technician.get(f"/api/v1/remote-sessions/{sid}")).status == 200
        async with viewer(server, technician, sid) as v:
            assert (await v.next_text("welcome"))["controller"] is False
    # Nothing of the refused attempts reached the timeline.
    steps = [e["changes"]["step"] for e in await timeline(admin, ticket["id"])]
    assert steps[:2] == ["requested", "started"] and steps.count("requested") == 1


async def test_device_must_be_linked_online_and_capable(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Offline, unlinked and incapable devices are refused with named codes."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    path = f"/api/v1/tickets/{ticket['id']}/remote-sessions"
    offline = await admin.post(path, json={"reason": "look"})
    assert offline.status == 409 and offline.error_code == "device_offline"
    async with remote_agent(server, device, capabilities=("inventory",)):
        old = await admin.post(path, json={"reason": "look"})
        assert old.status == 409 and old.error_code == "remote_unavailable"
    bare = await admin.post("/api/v1/tickets", json={"title": "No device"})
    none = await admin.post(f"/api/v1/tickets/{bare.json['id']}/remote-sessions",
                            json={"reason": "look"})
    assert none.status == 409 and none.error_code == "no_device"
    other = await admin.post(path, json={"reason": "look", "device_id": 4242})
    assert other.status == 422
    assert await timeline(admin, ticket["id"]) == []


async def test_unattended_policy_skips_the_question(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """A group allowing unattended access sends consent=false; the default asks the user."""
    device = await enrolled(server, admin, tmp_path / "a")
    group = await admin.post("/api/v1/groups", json={"name": "Kiosks"})
    gid = group.json["id"]
    assert (await admin.get(f"/api/v1/groups/{gid}/remote-policy")).json == {
        "group_id": gid, "unattended": False, "record": False}
    assert (await technician.put(f"/api/v1/groups/{gid}/remote-policy",
                                 json={"unattended": True})).status == 403
    put = await admin.put(f"/api/v1/groups/{gid}/remote-policy", json={"unattended": True})
    assert put.status == 200 and put.json["unattended"] is True
    assert (await admin.patch(f"/api/v1/devices/{device.id}", json={"group_id": gid})
            ).status == 200
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                         json={"reason": "kiosk frozen"})
        request = await next_message(ws, p.SessionRequest)
        assert request.consent is False
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="unattended")))
        got = await wait_state(admin, request.session, "active")
        assert got.json["consent"] == "unattended"
        await ws.send(p.encode(p.SessionEnded(session=request.session, by="user",
                                              reason="pressed End")))
        got = await wait_state(admin, request.session, "ended")
        assert (got.json["ended_by"], got.json["end_reason"]) == ("user", "pressed End")
    body = (await timeline(admin, ticket["id"]))[-1]["body"]
    assert body.startswith("Remote session ended by the user (pressed End) after")


async def test_agent_going_offline_ends_the_session(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A disconnected agent ends its session, recorded as offline."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device) as ws:
        started = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                   json={"reason": "look"})
        request = await next_message(ws, p.SessionRequest)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed")))
        await wait_state(admin, request.session, "active")
    got = await wait_state(admin, started.json["id"], "ended")
    assert (got.json["outcome"], got.json["ended_by"]) == ("agent_offline", "agent")
