"""Scripts on real agents through the real server: parameters, two devices, output on the
ticket, the timeout, review and roles."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.keys import SETTINGS
from tests.support.remote import enrolled
from tests.support.scripts import approved_script, ended_runs
from tests.support.server import Client, RunningServer
from tests.support.toolbox import terminal_agent, unattended_group

SCRIPT = """printf 'hello %s x%s\\n' "$PARAM_GREETING" "$PARAM_COUNT"
echo "as $(id -un) on $(hostname)" >&2
exit 3
"""


async def test_a_script_runs_on_two_devices_with_its_parameters(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """A technician's script approved by an admin runs on two devices with its parameters
    as data (never code); each device's output is stored, attached to the ticket and on
    its public timeline; a newer unapproved version does not run."""
    first = await enrolled(server, admin, tmp_path / "a")
    second = await enrolled(server, admin, tmp_path / "b")
    gid = await unattended_group(admin, first)
    assert (await admin.patch(f"/api/v1/devices/{second.id}", json={"group_id": gid})
            ).status == 200
    ticket = (await admin.post("/api/v1/tickets", json={
        "title": "Both print servers are stuck", "device_ids": [first.id, second.id],
        "assignee_id": technician.user["id"], "requester_id": requester.user["id"]})).json
    script = await approved_script(technician, admin, name="Greet", body=SCRIPT, parameters=[
        {"name": "greeting", "label": "Greeting", "type": "text", "required": True},
        {"name": "count", "label": "Count", "type": "integer", "default": 2}])
    edited = await technician.put(f"/api/v1/scripts/{script['id']}", json={
        "name": "Greet", "language": "bash", "body": "echo v2"})
    assert edited.json["latest_version"] == 2 and edited.json["approved_version"] == 1
    agents = [await terminal_agent(first), await terminal_agent(second)]
    try:
        url = f"/api/v1/tickets/{ticket['id']}/script-runs"
        refused = await technician.post(url, json={
            "script_id": script["id"], "version": 2, "device_ids": [first.id],
            "reason": "try", "parameters": {"greeting": "x"}})
        assert refused.status == 409 and refused.json["error"]["code"] == "version_not_approved"
        missing = await technician.post(url, json={
            "script_id": script["id"], "device_ids": [first.id], "reason": "try"})
        assert missing.status == 422
        value = "hi; touch /tmp/pwned-$PPID $(id)"
        resp = await technician.post(url, json={
            "script_id": script["id"], "device_ids": [first.id, second.id],
            "reason": "clear the queues", "parameters": {"greeting": value}})
        assert resp.status == 201, resp.body
        runs = await ended_runs(technician, resp.json["items"])
    finally:
        for agent in agents:
            await agent.stop()
    assert {r["device_id"] for r in runs} == {first.id, second.id}
    for run in runs:
        assert run["version"] == 1 and run["outcome"] == "failed" and run["exit_code"] == 3
        assert run["stdout"] == f"hello {value} x2\n"
        assert run["stderr"].startswith("as ")
        assert run["parameters"] == {"greeting": value, "count": "2"}
        body = await requester.get(run["attachment"]["url"])
        assert body.status == 200 and f"hello {value} x2" in body.body.decode()
    events = (await technician.get(f"/api/v1/tickets/{ticket['id']}/events")).json["items"]
    steps = [e["changes"]["step"] for e in events if e["type"] == "script_run"]
    assert steps.count("requested") == 1 and steps.count("ended") == 2
    seen = (await requester.get(f"/api/v1/tickets/{ticket['id']}/events")).json["items"]
    assert len([e for e in seen if e["type"] == "script_run"]) == 3


async def test_the_timeout_kills_the_whole_process_group(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """A script past its timeout is killed with everything it started, and the run says so;
    a running script the technician stops is killed too."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = (await admin.post("/api/v1/tickets", json={
        "title": "Hung job", "device_ids": [device.id],
        "assignee_id": technician.user["id"]})).json
    second_admin = await _second_admin(server, admin)
    script = await approved_script(admin, second_admin, name="Hang", timeout_seconds=1,
                                   body="sleep 300 & echo child=$!\nsleep 300\n")
    stuck = await approved_script(admin, second_admin, name="Stuck", body="sleep 300")
    agent = await terminal_agent(device)
    url = f"/api/v1/tickets/{ticket['id']}/script-runs"
    try:
        resp = await technician.post(url, json={
            "script_id": script["id"], "device_ids": [device.id], "reason": "hang"})
        (run,) = await ended_runs(technician, resp.json["items"])
        (other,) = (await technician.post(url, json={
            "script_id": stuck["id"], "device_ids": [device.id], "reason": "stop it"}
        )).json["items"]
        await _until_running(technician, other["id"])
        stop = await technician.post(f"/api/v1/script-runs/{other['id']}/cancel")
        assert stop.status == 200, stop.body
        (stopped,) = await ended_runs(technician, [other])
    finally:
        await agent.stop()
    assert stopped["outcome"] == "cancelled" and "cancelled by" in stopped["end_reason"]
    assert run["outcome"] == "timeout" and "timeout of 1 s" in run["end_reason"]
    child = int(run["stdout"].split("child=")[1].split()[0])
    assert not _running(child), f"the script's child {child} outlived the timeout"


def _running(pid: int) -> bool:
    """Tell whether a process runs (a zombie nobody reaped yet has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _until_running(staff: Client, run_id: int) -> None:
    async with asyncio.timeout(10):
        while True:
            if (await staff.get(f"/api/v1/script-runs/{run_id}")).json["state"] == "running":
                return
            await asyncio.sleep(0.05)


async def _second_admin(server: RunningServer, admin: Client) -> Client:
    await server.create_user(admin, "ada", "admin")
    return await server.login("ada")


async def test_review_and_roles_are_enforced(
        server: RunningServer, admin: Client, technician: Client, requester: Client,
        tmp_path: Path) -> None:
    """The author cannot approve their own version, technicians never approve, requesters
    see no library, and technicians run scripts only while the setting allows it and only
    on tickets they have rights on."""
    made = await admin.post("/api/v1/scripts", json={
        "name": "Mine", "language": "python", "body": "print(1)"})
    own = await admin.post(f"/api/v1/scripts/{made.json['id']}/versions/1/approve")
    assert own.status == 403 and own.json["error"]["code"] == "own_version"
    assert (await technician.post(f"/api/v1/scripts/{made.json['id']}/versions/1/approve")
            ).status == 403
    assert (await requester.get("/api/v1/scripts")).status == 403
    assert (await requester.post("/api/v1/scripts", json={
        "name": "x", "language": "bash", "body": "id"})).status == 403
    bad = await admin.post("/api/v1/scripts", json={
        "name": "Dup", "language": "bash", "body": "id", "parameters": [
            {"name": "a", "label": "A"}, {"name": "a", "label": "A again"}]})
    assert bad.status == 422
    approved = await approved_script(technician, admin, name="Ok")
    device = await enrolled(server, admin, tmp_path / "a")
    mine = (await admin.post("/api/v1/tickets", json={
        "title": "t", "device_ids": [device.id], "assignee_id": technician.user["id"]})).json
    others = (await admin.post("/api/v1/tickets", json={
        "title": "u", "device_ids": [device.id]})).json
    body = {"script_id": approved["id"], "device_ids": [device.id], "reason": "r"}
    no_rights = await technician.post(f"/api/v1/tickets/{others['id']}/script-runs", json=body)
    assert no_rights.status == 403
    assert (await requester.post(f"/api/v1/tickets/{mine['id']}/script-runs",
                                 json=body)).status == 403
    root = await technician.post(f"/api/v1/tickets/{mine['id']}/script-runs",
                                 json={**body, "as_root": True})
    assert root.status == 403 and root.json["error"]["code"] == "root_not_allowed"
    settings = server.app[SETTINGS]
    object.__setattr__(settings, "scripts_technicians_run", False)
    try:
        off = await technician.post(f"/api/v1/tickets/{mine['id']}/script-runs", json=body)
        assert off.status == 403 and off.json["error"]["code"] == "scripts_admins_only"
    finally:
        object.__setattr__(settings, "scripts_technicians_run", True)
    offline = await technician.post(f"/api/v1/tickets/{mine['id']}/script-runs", json=body)
    assert offline.status == 201
    assert offline.json["items"][0]["outcome"] == "offline"
