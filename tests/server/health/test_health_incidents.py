"""Health checks end to end: real server, real agents with readings the test sets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.schema import agent_reports
from shared import protocol as p
from tests.support.agents import FakeProbe, RunningAgent, enroll_device, raw_agent, start_agent
from tests.support.server import Client, RunningServer, start_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

DISK = {"name": "Disk /", "kind": "disk", "target": "/", "warning": 80, "critical": 90,
        "hysteresis": 5, "recover_after": 0, "repeat_interval": 1}


async def add_check(admin: Client, **fields: Any) -> dict[str, Any]:
    """Create a check through the API."""
    resp = await admin.post("/api/v1/health-checks", json={**DISK, **fields})
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def incidents(admin: Client) -> list[dict[str, Any]]:
    """Return the monitoring incidents."""
    items = (await admin.get("/api/v1/tickets?limit=100")).json["items"]
    return [t for t in items if t["source"] == "monitoring"]


async def readings(admin: Client, ticket_id: int) -> list[dict[str, Any]]:
    """Return the health readings on an incident's timeline."""
    events = (await admin.get(f"/api/v1/tickets/{ticket_id}/events")).json["items"]
    return [e for e in events if e["type"] == "health_reading"]


async def checked_agent(server: RunningServer, admin: Client, tmp_path: Path,
                        probe: FakeProbe) -> tuple[RunningAgent, int]:
    """Enroll and start an agent that runs checks; wait until it has its configuration."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state, probe=probe)
    await asyncio.wait_for(running.agent.connected.wait(), 10)
    health = running.agent.health
    assert health is not None
    await eventually(lambda: health.config is not None and len(health.config.checks) > 0)
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    return running, device_id


async def device_checks(admin: Client, device_id: int) -> list[dict[str, Any]]:
    return list((await admin.get(f"/api/v1/devices/{device_id}/health")).json["items"])


async def test_failing_check_raises_one_incident_updated_then_resolved(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Over the threshold: one P2 incident; readings update it; recovery resolves it."""
    await add_check(admin)
    probe = FakeProbe()
    running, device_id = await checked_agent(server, admin, tmp_path, probe)
    try:
        await eventually(lambda: _state_is(admin, device_id, "ok"))
        probe.values["disk"] = 95.0
        await eventually(lambda: _has_incidents(admin, 1))
        (incident,) = await incidents(admin)
        assert incident["device_ids"] == [device_id]
        assert (incident["kind"], incident["priority"], incident["status"]) == (
            "incident", 2, "new")
        assert incident["title"] == "Disk / critical on pc-001"
        # Requested by a reserved system user that no person or device login can match.
        assert incident["requester"]["display_name"] == "Health monitoring"
        monitor = await admin.get(f"/api/v1/users/{incident['requester']['id']}")
        assert monitor.json["username"] == "system:monitoring"

        async def updated() -> bool:  # repeated failures: new readings, same incident
            return len(await readings(admin, incident["id"])) >= 3

        await eventually(updated)
        assert len(await incidents(admin)) == 1
        (check,) = await device_checks(admin, device_id)
        assert (check["state"], check["value"]) == ("critical", 95.0)
        assert check["incident"]["id"] == incident["id"]
        failing = await admin.get("/api/v1/devices?health=failing")
        assert [d["id"] for d in failing.json["items"]] == [device_id]

        probe.values["disk"] = 40.0

        async def resolved() -> bool:
            return (await incidents(admin))[0]["status"] == "resolved"

        await eventually(resolved)
        ticket = (await admin.get(f"/api/v1/tickets/{incident['id']}")).json
        assert ticket["resolution_code"] == "recovered"
        assert "Disk /: ok" in ticket["resolution_note"]
        assert (await admin.get("/api/v1/devices?health=failing")).json["items"] == []
        (check,) = await device_checks(admin, device_id)
        assert (check["state"], check["incident"]) == ("ok", None)
    finally:
        await running.stop()


async def test_warning_escalates_the_same_incident_to_critical(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Warning opens a P4 incident; critical raises that incident's priority, no second one."""
    await add_check(admin)
    probe = FakeProbe(values={"disk": 85.0})
    running, _ = await checked_agent(server, admin, tmp_path, probe)
    try:
        await eventually(lambda: _has_incidents(admin, 1))
        assert (await incidents(admin))[0]["priority"] == 4
        probe.values["disk"] = 97.0

        async def escalated() -> bool:
            return (await incidents(admin))[0]["priority"] == 2

        await eventually(escalated)
        assert len(await incidents(admin)) == 1
    finally:
        await running.stop()


async def test_flapping_inside_the_hysteresis_window_makes_no_duplicate(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Dips below the threshold shorter than recover_after neither resolve nor duplicate."""
    await add_check(admin, recover_after=3600, repeat_interval=3600)
    probe = FakeProbe(values={"disk": 95.0})
    running, device_id = await checked_agent(server, admin, tmp_path, probe)
    health = running.agent.health
    assert health is not None
    try:
        await eventually(lambda: _has_incidents(admin, 1))
        for _ in range(3):
            probe.values["disk"] = 20.0
            (evaluator,) = health.evaluators.values()
            await eventually(lambda ev=evaluator: ev.better_since is not None)
            probe.values["disk"] = 95.0
            await eventually(lambda ev=evaluator: ev.better_since is None)
        (incident,) = await incidents(admin)
        assert incident["status"] == "new"
        assert len(await readings(admin, incident["id"])) == 1
        (check,) = await device_checks(admin, device_id)
        assert check["state"] == "critical"
    finally:
        await running.stop()


async def test_recovery_can_only_note(server: RunningServer, admin: Client,
                                      tmp_path: Path) -> None:
    """With on_recovery=note the incident stays open with a note; a new failure updates it."""
    await add_check(admin, on_recovery="note")
    probe = FakeProbe(values={"disk": 95.0})
    running, _ = await checked_agent(server, admin, tmp_path, probe)
    try:
        await eventually(lambda: _has_incidents(admin, 1))
        (incident,) = await incidents(admin)
        probe.values["disk"] = 10.0

        async def noted() -> bool:
            events = (await admin.get(f"/api/v1/tickets/{incident['id']}/events")).json
            return any(e["type"] == "health_recovered" for e in events["items"])

        await eventually(noted)
        probe.values["disk"] = 99.0

        async def failed_again() -> bool:
            return len(await readings(admin, incident["id"])) >= 2

        await eventually(failed_again)
        (again,) = await incidents(admin)
        assert again["status"] == "new"
    finally:
        await running.stop()


async def test_results_queued_offline_arrive_once(tmp_path: Path) -> None:
    """A failure seen while the server is down is queued and raises one incident later."""
    data = tmp_path / "data"
    server = await start_server(data)
    admin = await server.login("admin", "admin-password-1")
    await add_check(admin, repeat_interval=3600)
    probe = FakeProbe()
    running, device_id = await checked_agent(server, admin, tmp_path, probe)
    await eventually(lambda: _state_is(admin, device_id, "ok"))
    port = server.port
    await server.close()
    assert running.outbox is not None
    outbox = running.outbox
    try:
        await eventually(lambda: not running.agent.connected.is_set())
        probe.values["disk"] = 96.0

        async def queued() -> bool:
            rows = await asyncio.to_thread(outbox.peek, 100)
            return any(kind == "health" for _, kind, _ in rows)

        await eventually(queued)
        server = await start_server(data, port=port)
        admin = await server.login("admin", "admin-password-1")
        await asyncio.wait_for(running.agent.connected.wait(), 10)

        async def drained() -> bool:
            return await asyncio.to_thread(len, outbox) == 0

        await eventually(drained)
        await eventually(lambda: _has_incidents(admin, 1))
        await running.stop()
        (incident,) = await incidents(admin)
        assert len(await readings(admin, incident["id"])) == 1
        (check,) = await device_checks(admin, device_id)
        assert check["state"] == "critical"
    finally:
        await server.close()


async def test_repeated_report_is_applied_once(server: RunningServer, admin: Client,
                                               tmp_path: Path) -> None:
    """A report sent twice (ack lost) is acknowledged twice and opens one incident."""
    check = await add_check(admin)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    report = p.HealthReport(id="h-1", results=[p.HealthResult(
        check_id=check["id"], state="critical", value=97.0, message="/ is 97% full",
        at=1.7e9)])
    async with raw_agent(server, state) as (ws, _):
        answers = []
        for _ in range(2):
            await ws.send(p.encode(report))
            answers.append(p.decode_server_message(await ws.recv()))
    assert answers == [p.Ack(id="h-1"), p.Ack(id="h-1")]
    (incident,) = await incidents(admin)
    assert len(await readings(admin, incident["id"])) == 1
    stored = await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(agent_reports)).scalar_one())
    assert stored == 1


async def test_agent_without_health_capability_gets_no_config(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """An older agent (no "health" capability) is never sent a health_config."""
    await add_check(admin)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with raw_agent(server, state) as (ws, _):
        await ws.send(p.encode(p.Heartbeat(seq=7)))
        answer = p.decode_server_message(await ws.recv())
    assert answer == p.HeartbeatAck(seq=7)


async def test_bad_health_reports_are_refused_and_change_nothing(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Malformed health reports get invalid_message; unknown checks are skipped but acked."""
    check = await add_check(admin)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    bad = [
        {"type": "health", "id": "b1", "results": [{"check_id": check["id"],
                                                    "state": "on fire", "at": 1.0}]},
        {"type": "health", "id": "b2", "results": []},
        {"type": "health", "id": "b3", "results": [{"check_id": "1", "state": "ok",
                                                    "at": 1.0}]},
        {"type": "health", "id": "b4", "results": [{"check_id": 1, "state": "ok",
                                                    "at": 1.0, "cpu": 3}]},
    ]
    import json

    async with raw_agent(server, state) as (ws, _):
        for frame in bad:
            await ws.send(json.dumps(frame))
            answer = p.decode_server_message(await ws.recv())
            assert isinstance(answer, p.Error), answer
            assert (answer.code, answer.id) == (p.INVALID_MESSAGE, frame["id"])
        unknown = p.HealthReport(id="u1", results=[p.HealthResult(
            check_id=9999, state="critical", at=1.0)])
        await ws.send(p.encode(unknown))
        assert p.decode_server_message(await ws.recv()) == p.Ack(id="u1")
    assert await incidents(admin) == []


async def _state_is(admin: Client, device_id: int, state: str) -> bool:
    checks = await device_checks(admin, device_id)
    return bool(checks) and checks[0]["state"] == state


async def _has_incidents(admin: Client, n: int) -> bool:
    return len(await incidents(admin)) >= n
