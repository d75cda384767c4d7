"""The health-check API: thresholds per device group, validation, pushes to agents."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.server.health.test_health_incidents import DISK, add_check
from tests.support.agents import FakeProbe, enroll_device, start_agent
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually


async def make_group(admin: Client, name: str) -> int:
    resp = await admin.post("/api/v1/groups", json={"name": name})
    assert resp.status == 201, resp.body
    return int(resp.json["id"])


async def test_checks_per_group_override_defaults(server: RunningServer,
                                                  admin: Client, tmp_path: Path) -> None:
    """A device in a group runs the group's checks and the defaults the group leaves."""
    group = await make_group(admin, "Office PCs")
    await add_check(admin)  # default Disk /
    await add_check(admin, name="Memory", kind="memory", target="", warning=85, critical=None)
    await add_check(admin, group_id=group, critical=98, warning=95)  # the group's Disk /
    token = (await admin.post("/api/v1/enrollment-tokens", json={"group_id": group})).json
    state, _ = await enroll_device(server, admin, tmp_path / "agent", token=token["token"])
    running = await start_agent(state, probe=FakeProbe())
    try:
        health = running.agent.health
        assert health is not None
        await eventually(lambda: health.config is not None)
        assert health.config is not None
        got = {(c.name, c.critical) for c in health.config.checks}
        assert got == {("Disk /", 98.0), ("Memory", None)}
        device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
        shown = (await admin.get(f"/api/v1/devices/{device_id}/health")).json["items"]
        assert {c["check"]["group_id"] for c in shown} == {group, None}
        listed = await admin.get(f"/api/v1/health-checks?group_id={group}")
        assert [c["name"] for c in listed.json["items"]] == ["Disk /"]
        defaults = await admin.get("/api/v1/health-checks?defaults=true")
        assert [c["name"] for c in defaults.json["items"]] == ["Disk /", "Memory"]
    finally:
        await running.stop()


async def test_changed_levels_reach_connected_agents(server: RunningServer, admin: Client,
                                                     tmp_path: Path) -> None:
    """Changing, adding or deleting a check sends connected agents their new checks."""
    check = await add_check(admin)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state, probe=FakeProbe())
    health = running.agent.health
    assert health is not None
    try:
        await eventually(lambda: health.config is not None)
        resp = await admin.patch(f"/api/v1/health-checks/{check['id']}",
                                 json={"critical": 99, "hysteresis": 2})
        assert resp.status == 200, resp.body
        assert (resp.json["critical"], resp.json["hysteresis"]) == (99, 2)
        await eventually(lambda: health.config is not None
                         and health.config.checks[0].critical == 99)
        assert (await admin.delete(f"/api/v1/health-checks/{check['id']}")).status == 204
        await eventually(lambda: health.config is not None and health.config.checks == [])
        # Kept for the next start without a server.
        saved = await asyncio.to_thread(state.health_file.read_bytes)
        assert b'"checks":[]' in saved
    finally:
        await running.stop()


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("warning above critical", {"warning": 95, "critical": 90}, 422, "validation_error"),
    ("no levels", {"warning": None, "critical": None}, 422, "validation_error"),
    ("level over 100", {"critical": 150}, 422, "validation_error"),
    ("unknown kind", {"kind": "registry"}, 422, "validation_error"),
    ("service without unit", {"kind": "service", "target": ""}, 422, "validation_error"),
    ("target with shell characters", {"kind": "process", "target": "a;rm -rf"}, 422,
     "validation_error"),
    ("unknown group", {"group_id": 999}, 422, "validation_error"),
    ("wrong type", {"window": "5m"}, 422, "validation_error"),
    ("unknown field", {"command": "reboot"}, 422, "validation_error"),
    ("bad on_recovery", {"on_recovery": "delete"}, 422, "validation_error"),
    ("repeat too often", {"repeat_interval": 0.01}, 422, "validation_error"),
]


@pytest.mark.parametrize(("label", "change", "status", "code"), BAD, ids=[b[0] for b in BAD])
async def test_bad_checks_are_refused(admin: Client, label: str, change: dict[str, Any],
                                      status: int, code: str) -> None:
    """A bad check is refused with the error shape, and nothing is stored."""
    resp = await admin.post("/api/v1/health-checks", json={**DISK, **change})
    assert (resp.status, resp.error_code) == (status, code), resp.body
    assert (await admin.get("/api/v1/health-checks")).json["items"] == []


async def test_duplicate_names_and_bad_updates(admin: Client) -> None:
    """Names are unique per group; an update cannot make a check nonsensical."""
    check = await add_check(admin)
    dup = await admin.post("/api/v1/health-checks", json=DISK)
    assert (dup.status, dup.error_code) == (409, "conflict")
    bad = await admin.patch(f"/api/v1/health-checks/{check['id']}", json={"warning": 95})
    assert (bad.status, bad.error_code) == (422, "validation_error")
    kind = await admin.patch(f"/api/v1/health-checks/{check['id']}", json={"kind": "cpu"})
    assert (kind.status, kind.error_code) == (422, "validation_error")
    missing = await admin.patch("/api/v1/health-checks/999", json={"warning": 1})
    assert (missing.status, missing.error_code) == (404, "not_found")
    assert (await admin.delete("/api/v1/health-checks/999")).status == 404
    stored = (await admin.get(f"/api/v1/health-checks/{check['id']}")).json
    assert (stored["warning"], stored["critical"]) == (80, 90)


async def test_roles_and_queries(clients: dict[str, Client], admin: Client) -> None:
    """Technicians read checks, only admins change them; bad filters are refused."""
    check = await add_check(admin)
    tech, req = clients["technician"], clients["requester"]
    assert (await tech.get("/api/v1/health-checks")).status == 200
    assert (await tech.post("/api/v1/health-checks", json=DISK)).status == 403
    assert (await tech.patch(f"/api/v1/health-checks/{check['id']}",
                             json={"critical": 91})).status == 403
    assert (await req.get("/api/v1/health-checks")).status == 403
    assert (await clients["anonymous"].get("/api/v1/health-checks")).status == 401
    for query in ("group_id=x", "defaults=maybe", "zzz=1"):
        resp = await admin.get(f"/api/v1/health-checks?{query}")
        assert (resp.status, resp.error_code) == (422, "validation_error"), query
    resp = await admin.get("/api/v1/devices?health=broken")
    assert (resp.status, resp.error_code) == (422, "validation_error")
    resp = await admin.get("/api/v1/devices/999/health")
    assert (resp.status, resp.error_code) == (404, "not_found")


async def test_group_change_stops_counting_a_default_check_that_no_longer_applies(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A group check replacing a failing default: the default no longer counts as failing."""
    from tests.server.health.test_health_incidents import incidents

    group = await make_group(admin, "Lab")
    await add_check(admin)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state, probe=FakeProbe(values={"disk": 96.0}))
    try:
        async def failing() -> list[int]:
            items = (await admin.get("/api/v1/devices?health=critical")).json["items"]
            return [d["id"] for d in items]

        await eventually(lambda: _truthy(failing()))
        device_id = (await failing())[0]
        await add_check(admin, group_id=group, warning=97, critical=99)
        resp = await admin.patch(f"/api/v1/devices/{device_id}", json={"group_id": group})
        assert resp.status == 200
        assert await failing() == []
        health = running.agent.health
        assert health is not None
        await eventually(lambda: health.config is not None
                         and [c.critical for c in health.config.checks] == [99])

        async def shown_ok() -> bool:
            items = (await admin.get(f"/api/v1/devices/{device_id}/health")).json["items"]
            return [(c["check"]["group_id"], c["state"]) for c in items] == [(group, "ok")]

        await eventually(shown_ok)
        assert len(await incidents(admin)) == 1  # the default's incident stays for a human
    finally:
        await running.stop()


async def _truthy(value: Any) -> bool:
    return bool(await value)
