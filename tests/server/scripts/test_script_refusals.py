"""Script runs refused or misused on the wire: old agents, malformed and absurd messages."""

from __future__ import annotations

import json
from pathlib import Path

from server.keys import HUB
from shared import protocol as p
from shared import scripts as sc
from tests.support.remote import enrolled, next_message, remote_agent
from tests.support.scripts import approved_script, ended_runs
from tests.support.server import Client, RunningServer
from tests.support.toolbox import terminal_agent, unattended_group


async def test_old_agents_are_skipped_and_bad_messages_refused(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """An agent without the scripts capability is skipped with its reason; an agent's
    malformed, unknown or contradictory script messages get named errors and the link
    keeps serving; a real agent sent a malformed run still runs the next one."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = (await admin.post("/api/v1/tickets", json={
        "title": "Old agent", "device_ids": [device.id],
        "assignee_id": technician.user["id"]})).json
    script = await approved_script(technician, admin, name="Echo", body='echo "[$PARAM_X]"',
                                   parameters=[{"name": "x", "label": "X"}])
    url = f"/api/v1/tickets/{ticket['id']}/script-runs"
    body = {"script_id": script["id"], "device_ids": [device.id], "reason": "r",
            "parameters": {"x": "$(reboot)"}}
    async with remote_agent(server, device, capabilities=("inventory", "terminal")):
        (old,) = (await technician.post(url, json=body)).json["items"]
    assert old["outcome"] == "skipped" and "does not run scripts" in old["end_reason"]
    async with remote_agent(server, device, capabilities=("inventory", "scripts")) as ws:
        (run,) = (await technician.post(url, json=body)).json["items"]
        sent = await next_message(ws, sc.ScriptRun)  # type: ignore[arg-type]
        assert isinstance(sent, sc.ScriptRun) and sent.params == {"x": "$(reboot)"}
        assert sent.body == 'echo "[$PARAM_X]"'
        for raw, code in ((json.dumps({"type": "script_output", "run": run["id"],
                                       "stream": "stdin", "data": "x"}), p.INVALID_MESSAGE),
                          (json.dumps({"type": "script_done", "run": run["id"],
                                       "exit_code": 9999}), p.INVALID_MESSAGE),
                          (json.dumps({"type": "script_launch", "run": 1}), p.UNKNOWN_TYPE),
                          (p.encode(sc.ScriptOutput(run=run["id"], stream="stdout",
                                                    data="early")), p.NO_SESSION),
                          (p.encode(sc.ScriptDone(run=999, exit_code=0)), p.NO_SESSION)):
            await ws.send(raw)
            assert (await next_message(ws, p.Error)).code == code, raw
        await ws.send(p.encode(sc.ScriptAnswer(run=run["id"], allowed=True, reason="denied")))
        assert (await next_message(ws, p.Error)).code == p.INVALID_MESSAGE
        await ws.send(p.encode(p.Heartbeat(seq=7)))
        assert (await next_message(ws, p.HeartbeatAck)).seq == 7
    (failed,) = await ended_runs(technician, [run])
    assert failed["outcome"] == "failed" and "contradicted" in failed["end_reason"]
    agent = await terminal_agent(device)
    try:
        server.app[HUB].links[device.id].send(json.dumps({
            "type": "script_run", "run": 5, "script": "x", "version": 1,
            "language": "cobol", "body": "x"}))
        (good,) = (await technician.post(url, json=body)).json["items"]
        (good,) = await ended_runs(technician, [good])
    finally:
        await agent.stop()
    assert good["outcome"] == "succeeded" and good["stdout"] == "[$(reboot)]\n"
