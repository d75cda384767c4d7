"""Recording sessions through the API with a hand-driven agent: policy, rights, retention."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.app import housekeeping_pass
from server.db.schema import audit_events
from server.remote import recfile, recordings
from server.remote.tables import remote_recordings
from shared import protocol as p
from shared import screen
from tests.support.remote import (
    Device,
    enrolled,
    frame,
    next_message,
    remote_agent,
    ticket_with_device,
    timeline,
    viewer,
    wait_state,
)
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

RECORDING_AGENT = ("inventory", "remote", p.RECORDING_CAPABILITY)


async def recorded_group(admin: Client, device: Device, name: str = "Recorded") -> int:
    """Make a group that records its sessions and put the device in it."""
    group = await admin.post("/api/v1/groups", json={"name": name})
    gid = int(group.json["id"])
    put = await admin.put(f"/api/v1/groups/{gid}/remote-policy", json={"record": True})
    assert put.status == 200, put.body
    assert (await admin.patch(f"/api/v1/devices/{device.id}", json={"group_id": gid})
            ).status == 200
    return gid


async def audit_actions(server: RunningServer, prefix: str) -> list[tuple[str, Any]]:
    rows = await server.db.read(lambda c: c.execute(
        sa.select(audit_events.c.action, audit_events.c.detail)
        .where(audit_events.c.action.like(prefix + "%")).order_by(audit_events.c.id)).all())
    return [(r.action, r.detail) for r in rows]


async def run_recorded_session(server: RunningServer, staff: Client, ws: Any, ticket_id: int,
                               frames: list[bytes]) -> int:
    """Start a session, let the agent send ``frames`` (after one stray delta), end it."""
    resp = await staff.post(f"/api/v1/tickets/{ticket_id}/remote-sessions",
                            json={"reason": "look"})
    assert resp.status == 201, resp.body
    assert resp.json["recording"]["state"] == "pending"
    request = await next_message(ws, p.SessionRequest)
    assert request.record is True
    await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                           reason="allowed")))
    await wait_state(staff, request.session, "active")
    # A delta before any key frame cannot start a recording: the server asks for a key.
    await ws.send(frame(0))
    await next_message(ws, p.SessionKeyFrame)
    for data in frames:
        await ws.send(data)
    sid = int(request.session)
    await eventually(lambda: server.app[_remote()].by_id[sid].recorder.frames  # type: ignore[union-attr]
                     == len(frames))
    busy = await staff.get(f"/api/v1/remote-sessions/{sid}/recording")
    assert busy.status == 409 and busy.error_code == "recording_in_progress"
    live = await staff.get(f"/api/v1/remote-sessions/{sid}")
    assert live.json["recording"]["state"] == "recording"
    assert live.json["recording"]["frames"] == len(frames)
    ended = await staff.post(f"/api/v1/remote-sessions/{sid}/end")
    assert ended.status == 200, ended.body
    return sid


def _remote() -> Any:
    from server.keys import REMOTE

    return REMOTE


async def test_policy_record_switch_is_admin_only_partial_and_audited(
        server: RunningServer, admin: Client, technician: Client) -> None:
    """record defaults to false; each field left out keeps its value; changes are audited."""
    gid = (await admin.post("/api/v1/groups", json={"name": "Kiosks"})).json["id"]
    path = f"/api/v1/groups/{gid}/remote-policy"
    assert (await admin.get(path)).json == {"group_id": gid, "unattended": False,
                                            "record": False}
    assert (await admin.put(path, json={"record": True})).json == {
        "group_id": gid, "unattended": False, "record": True}
    assert (await admin.put(path, json={"unattended": True})).json == {
        "group_id": gid, "unattended": True, "record": True}
    assert (await admin.get(path)).json["record"] is True
    for bad in ({}, {"record": "yes"}, {"record": None}, {"record": True, "zzz": 1}):
        resp = await admin.put(path, json=bad)
        assert resp.status == 422 and resp.error_code == "validation_error", bad
    assert (await technician.put(path, json={"record": False})).status == 403
    assert (await technician.get(path)).status == 403
    missing = await admin.put("/api/v1/groups/999999/remote-policy", json={"record": True})
    assert missing.status == 404
    assert (await admin.get(path)).json == {"group_id": gid, "unattended": True,
                                            "record": True}
    details = [d for _a, d in await audit_actions(server, "remote_policy.")]
    assert details == [{"unattended": False, "record": True},
                       {"unattended": True, "record": True}]


async def test_recorded_session_replays_the_frames_sent_to_staff_with_rights(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """The file holds the agent's frames byte for byte; only staff with rights fetch it."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    sent = [frame(1, key=True, size=500), frame(2, size=70), frame(3, size=90),
            frame(3, key=True, refresh=True, size=400), frame(4, size=60)]
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket["id"], sent)
    got = await wait_state(admin, sid, "ended")
    info = got.json["recording"]
    assert (info["state"], info["frames"], info["dropped_frames"], info["complete"]) == (
        "ready", 5, 1, True)  # the stray delta before the first key frame
    assert info["url"] == f"/api/v1/remote-sessions/{sid}/recording"
    resp = await admin.get(info["url"])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/vnd.deskmate.recording"
    assert "no-store" in resp.headers["Cache-Control"]
    assert len(resp.body) == info["bytes"]
    parsed = recfile.parse(resp.body)
    assert [bytes(r.frame) for r in parsed.records] == sent
    assert screen.read_header(parsed.records[0].frame).key
    offsets = [r.offset_ms for r in parsed.records]
    assert offsets == sorted(offsets)
    assert parsed.header["session"] == sid and parsed.header["ticket"] == ticket["number"]
    assert parsed.complete
    # The same rule as joining: no rights on the ticket -> 404; requesters never.
    assert (await technician.get(info["url"])).status == 404
    assert (await requester.get(info["url"])).status == 403
    await admin.patch(f"/api/v1/tickets/{ticket['id']}",
                      json={"assignee_id": technician.user["id"]})
    assert (await technician.get(info["url"])).status == 200
    # The ticket says it was recorded, from the request to the end.
    events = await timeline(admin, ticket["id"])
    bodies = {e["changes"]["step"]: e["body"] for e in events}
    assert "the session will be recorded" in bodies["requested"]
    assert bodies["started"].endswith("It is recorded.")
    assert "Recorded: " in bodies["ended"]
    assert [a for a, _d in await audit_actions(server, "remote_recording.view")] == [
        "remote_recording.view"] * 2


async def test_unrecorded_sessions_and_agents_that_cannot_tell_the_user(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """No policy: no recording (404). An agent without the capability is not recorded."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "look"})
        sid = resp.json["id"]
        assert resp.json["recording"] is None
        raw = await ws.recv()
        while '"session_request"' not in raw:
            raw = await ws.recv()
        assert "record" not in json.loads(raw)  # older agents refuse unknown fields
        assert "lossless" not in json.loads(raw)  # nor PNG tiles to an agent without it
        await admin.post(f"/api/v1/remote-sessions/{sid}/end")
    missing = await admin.get(f"/api/v1/remote-sessions/{sid}/recording")
    assert missing.status == 404 and missing.error_code == "not_found"
    assert (await admin.get("/api/v1/remote-sessions/999999/recording")).status == 404
    await recorded_group(admin, device)
    async with remote_agent(server, device) as ws:  # "remote" only
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "again"})
        request = await next_message(ws, p.SessionRequest)
        assert request.record is False and resp.json["recording"] is None
        await admin.post(f"/api/v1/remote-sessions/{resp.json['id']}/end")
    requested = [e for e in await timeline(admin, ticket["id"])
                 if e["changes"]["step"] == "requested"]
    assert "not recorded: the agent cannot tell the user" in requested[-1]["body"]


async def test_admin_deletes_a_recording_and_it_is_audited(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Only an admin deletes; the file goes, the totals stay, audit and timeline say so."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, technician, ws, ticket["id"],
                                         [frame(1, key=True)])
    await wait_state(admin, sid, "ended")
    path = server.settings.data_dir / "recordings" / f"{sid}.dmrec"
    assert path.exists()
    url = f"/api/v1/remote-sessions/{sid}/recording"
    assert (await technician.delete(url)).status == 403
    assert (await admin.delete(url)).status == 204
    assert not path.exists()
    assert (await admin.delete(url)).status == 404
    assert (await admin.get(url)).status == 404
    info = (await admin.get(f"/api/v1/remote-sessions/{sid}")).json["recording"]
    assert (info["state"], info["delete_reason"], info["url"]) == ("deleted", "admin", None)
    assert info["frames"] == 1 and info["deleted_at"]
    assert [d["reason"] for _a, d in await audit_actions(server, "remote_recording.delete")
            ] == ["admin"]
    last = (await timeline(admin, ticket["id"]))[-1]
    assert last["changes"]["step"] == "recording_deleted"
    assert last["body"] == "The recording of the remote session was deleted by Administrator."


async def test_retention_deletes_only_recordings_past_their_days(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Housekeeping deletes recordings that ended over remote_recording_days ago."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    sids = []
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        for _ in range(2):
            sid = await run_recorded_session(server, admin, ws, ticket["id"],
                                             [frame(1, key=True)])
            await wait_state(admin, sid, "ended")
            sids.append(sid)
    old, fresh = sids
    days = server.settings.remote_recording_days
    assert days == 30
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=days, hours=1)
    await server.db.write(lambda c: c.execute(remote_recordings.update().where(
        remote_recordings.c.session_id == old).values(ended_at=long_ago)))
    root = server.settings.data_dir / "recordings"
    # 0 days means keep: nothing goes.
    assert await recordings.expire(server.db, root, days=0,
                                   now=dt.datetime.now(dt.UTC)) == 0
    await housekeeping_pass(server.app)
    await housekeeping_pass(server.app)  # a second pass finds nothing more
    states = {sid: (await admin.get(f"/api/v1/remote-sessions/{sid}")).json["recording"]
              for sid in sids}
    assert (states[old]["state"], states[old]["delete_reason"]) == ("deleted", "retention")
    assert states[fresh]["state"] == "ready"
    assert not (root / f"{old}.dmrec").exists()
    assert (root / f"{fresh}.dmrec").exists()
    deletions = await audit_actions(server, "remote_recording.delete")
    assert [d["reason"] for _a, d in deletions] == ["retention"]
    steps = [e["changes"]["step"] for e in await timeline(admin, ticket["id"])]
    assert steps.count("recording_deleted") == 1


async def test_a_recording_cut_by_a_server_stop_is_closed_at_the_next_start(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A recording left 'recording' is closed at start-up with what its file holds."""
    from server.remote.manager import close_cut_recordings

    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket["id"],
                                         [frame(1, key=True), frame(2)])
    await wait_state(admin, sid, "ended")
    root = server.settings.data_dir / "recordings"
    path = root / f"{sid}.dmrec"
    data = path.read_bytes()
    # As if the server had stopped after the second record: no end record, state open.
    _header, start = recfile.read_header(data)
    cut = next(pos for _ms, pos, body in recfile.iter_records(data, start) if body is None)
    path.write_bytes(data[:cut])
    await server.db.write(lambda c: c.execute(remote_recordings.update().where(
        remote_recordings.c.session_id == sid).values(state="recording")))
    await close_cut_recordings(server.db, root)
    info = (await admin.get(f"/api/v1/remote-sessions/{sid}")).json["recording"]
    assert (info["state"], info["frames"], info["complete"]) == ("ready", 2, False)
    assert info["error"] == "the server stopped while recording"
    assert (await admin.get(info["url"])).status == 200


async def test_a_viewer_and_the_recording_get_the_same_frames(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Recording beside a live viewer: the viewer still gets every frame."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                json={"reason": "look"})
        request = await next_message(ws, p.SessionRequest)
        await ws.send(p.encode(p.SessionAnswer(session=request.session, allowed=True,
                                               reason="allowed")))
        await wait_state(admin, resp.json["id"], "active")
        async with viewer(server, admin, resp.json["id"]) as v:
            await v.next_text("welcome")
            await next_message(ws, p.SessionKeyFrame)  # the viewer joined
            await ws.send(frame(1, key=True))
            await ws.send(frame(2))
            assert (await v.next_frame()).seq == 1
            assert (await v.next_frame()).seq == 2
        await admin.post(f"/api/v1/remote-sessions/{resp.json['id']}/end")
    got = await wait_state(admin, resp.json["id"], "ended")
    assert got.json["recording"]["frames"] == 2


async def test_bad_input_on_the_recording_endpoints_changes_nothing(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Bodies, queries, ids, auth and CSRF that are wrong get the error shape; nothing moves."""
    from tests.server.test_bad_input import snapshot

    device = await enrolled(server, admin, tmp_path / "a")
    gid = await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket["id"], [frame(1, key=True)])
    await wait_state(admin, sid, "ended")
    url = f"/api/v1/remote-sessions/{sid}/recording"
    before = await snapshot(server)
    checks = [
        (await admin.get(url + "?offset=5"), 422, "validation_error"),
        (await admin.request("DELETE", url, csrf=False), 403, "csrf_failed"),
        (await admin.get("/api/v1/remote-sessions/abc/recording"), 404, "not_found"),
        (await admin.get("/api/v1/remote-sessions/99999999999999999999/recording"), 404,
         "not_found"),
        (await admin.request("PATCH", url), 405, "method_not_allowed"),
        (await server.client().get(url, headers={"Authorization": "Bearer dm_nope"}), 401,
         "unauthorized"),
        (await server.client().request("DELETE", url), 401, "unauthorized"),
        (await admin.put(f"/api/v1/groups/{gid}/remote-policy",
                         data=io.BytesIO(b'{"record": ' + b" " * server.settings.max_body_bytes
                                         + b"true}"),
                         headers={"Content-Type": "application/json"}), 413, "body_too_large"),
        (await admin.put(f"/api/v1/groups/{gid}/remote-policy", json={"record": 1}), 422,
         "validation_error"),
    ]
    for resp, status, code in checks:
        assert resp.status == status, (status, resp.status, resp.body[:200])
        assert resp.error_code == code, resp.body
    # Fetching is audited, so compare after refusals only: nothing stored changed.
    assert await snapshot(server) == before


async def test_a_recording_whose_file_went_missing_is_not_found(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A row without its file (removed by hand) answers 404 in the error shape."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)
    async with remote_agent(server, device, capabilities=RECORDING_AGENT) as ws:
        sid = await run_recorded_session(server, admin, ws, ticket["id"], [frame(1, key=True)])
    await wait_state(admin, sid, "ended")
    (server.settings.data_dir / "recordings" / f"{sid}.dmrec").unlink()
    resp = await admin.get(f"/api/v1/remote-sessions/{sid}/recording")
    assert resp.status == 404 and resp.error_code == "not_found"
    assert "missing" in resp.json["error"]["message"]
