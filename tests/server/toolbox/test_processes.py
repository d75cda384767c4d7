"""The process tool on a real agent through the real server: list, end, kill, refusals."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from server.keys import HUB
from shared import protocol as p
from shared import toolbox as tb
from shared import toolbox_system as ts
from tests.support.remote import enrolled, next_message, remote_agent, ticket_with_device
from tests.support.server import Client, RunningServer
from tests.support.toolbox import ended, terminal_agent, tool_events, unattended_group

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
STUBBORN = [sys.executable, "-c", "import signal, time; "
            "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(600)"]


async def open_tool(staff: Client, ticket_id: int, kind: str, **extra: Any) -> int:
    """Open a tool and wait until it is active; return its id."""
    resp = await staff.post(f"/api/v1/tickets/{ticket_id}/tool-sessions",
                            json={"kind": kind, "reason": "slow computer", **extra})
    assert resp.status == 201, resp.body
    sid = int(resp.json["id"])
    async with asyncio.timeout(10):
        while True:
            if (await staff.get(f"/api/v1/tool-sessions/{sid}")).json["state"] == "active":
                return sid
            await asyncio.sleep(0.02)


async def listed(staff: Client, sid: int, pid: int) -> dict[str, Any]:
    """Wait until the process list shows ``pid``; return its entry."""
    async with asyncio.timeout(10):
        while True:
            snap = (await staff.get(f"/api/v1/tool-sessions/{sid}/snapshot")).json
            found = [x for x in snap["processes"] if x["pid"] == pid]
            if found:
                return dict(found[0])
            await asyncio.sleep(0.05)


async def test_a_process_is_ended_and_another_killed(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """The list shows a process with its user, command and memory; terminate ends it, kill
    ends one that ignores SIGTERM; another user's process is refused without root; every
    action is a public event on the ticket naming the process."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    sleeper = await asyncio.create_subprocess_exec(*SLEEPER)
    stubborn = await asyncio.create_subprocess_exec(*STUBBORN, stdout=asyncio.subprocess.PIPE)
    try:
        assert stubborn.stdout is not None and await stubborn.stdout.readline() == b"ready\n"
        sid = await open_tool(technician, ticket["id"], "processes")
        entry = await listed(technician, sid, sleeper.pid)
        assert entry["user"] and entry["memory"] > 0 and "time.sleep(600)" in entry["command"]
        url = f"/api/v1/tool-sessions/{sid}/actions"
        done = await technician.post(url, json={"action": "terminate", "pid": sleeper.pid})
        assert done.status == 200 and done.json["ok"], done.body
        assert await asyncio.wait_for(sleeper.wait(), 10) == -15
        await listed(technician, sid, stubborn.pid)
        kept = await technician.post(url, json={"action": "terminate", "pid": stubborn.pid})
        assert kept.json["ok"] and stubborn.returncode is None  # it ignores SIGTERM
        killed = await technician.post(url, json={"action": "kill", "pid": stubborn.pid})
        assert killed.json["ok"], killed.body
        assert await asyncio.wait_for(stubborn.wait(), 10) == -9
        gone = await technician.post(url, json={"action": "kill", "pid": stubborn.pid})
        assert (gone.json["ok"], gone.json["code"]) == (False, "not_found")
        # As the user "nobody", without root: the test's own processes are not theirs.
        await technician.post(f"/api/v1/tool-sessions/{sid}/end")
        agent.agent.tools.login = "nobody"  # type: ignore[union-attr]
        other = await asyncio.create_subprocess_exec(*SLEEPER)
        try:
            sid2 = await open_tool(technician, ticket["id"], "processes")
            await listed(technician, sid2, other.pid)
            refused = await technician.post(f"/api/v1/tool-sessions/{sid2}/actions",
                                            json={"action": "kill", "pid": other.pid})
            assert (refused.json["ok"], refused.json["code"]) == (False, "not_permitted")
            assert "does not run as nobody" in refused.json["message"]
            assert other.returncode is None
        finally:
            other.kill()
            await other.wait()
        bodies = [e["body"] for e in await tool_events(admin, ticket["id"])]
        assert any(f"ended process {sleeper.pid} (python" in b for b in bodies), bodies
        assert any(f"killed process {stubborn.pid}" in b for b in bodies), bodies
        assert any("tried to kill" in b and "not_permitted" in b for b in bodies), bodies
        events = await tool_events(admin, ticket["id"])
        assert all(e["public"] for e in events)
    finally:
        for proc in (sleeper, stubborn):
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        await agent.stop()


async def test_refusals_and_bad_input_leave_the_agent_serving(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """No rights, a watcher acting, a tool the policy turns off, root without the policy,
    malformed actions and an old agent are refused with named errors; the user's refusal is
    recorded; absurd agent messages get protocol errors and the tool keeps working."""
    device = await enrolled(server, admin, tmp_path / "a")
    gid = await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)  # assigned to nobody
    url = f"/api/v1/tickets/{ticket['id']}/tool-sessions"
    agent = await terminal_agent(device)
    try:
        no_rights = await technician.post(url, json={"kind": "processes", "reason": "look"})
        assert no_rights.status == 403, no_rights.body
        root = await admin.post(url, json={"kind": "processes", "reason": "x", "as_root": True})
        assert (root.status, root.error_code) == (403, "root_not_allowed")
        await admin.put(f"/api/v1/groups/{gid}/toolbox-policy",
                        json={"allowed_tools": ["terminal"]})
        off = await admin.post(url, json={"kind": "processes", "reason": "look"})
        assert (off.status, off.error_code) == (403, "tool_disabled")
        await admin.put(f"/api/v1/groups/{gid}/toolbox-policy",
                        json={"allowed_tools": ["terminal", "processes"]})
        sid = await open_tool(admin, ticket["id"], "processes")
        actions = f"/api/v1/tool-sessions/{sid}/actions"
        await admin.patch(f"/api/v1/tickets/{ticket['id']}",
                          json={"assignee_id": technician.user["id"]})
        watcher = await technician.post(actions, json={"action": "kill", "pid": 1})
        assert (watcher.status, watcher.error_code) == (403, "not_controller")
        for body, status in (({"action": "kill"}, 422),  # no pid
                             ({"action": "restart", "unit": "cron.service"}, 422),
                             ({"action": "kill", "pid": 0}, 422),
                             ({"action": "format", "pid": 5}, 422),
                             ({"action": "kill", "pid": 5, "signal": 9}, 422),
                             ({"action": "reboot"}, 422)):
            bad = await admin.post(actions, json=body)
            assert bad.status == status, (body, bad.body)
            assert bad.error_code
        raw = await admin.post(actions, data=b"{not json",
                               headers={"Content-Type": "application/json"})
        assert raw.status == 400 and raw.error_code
        init = await admin.post(actions, json={"action": "kill", "pid": 1})
        assert (init.json["ok"], init.json["code"]) == (False, "not_permitted")
        # The server sends the agent a call that does not fit its tool: answered, not fatal.
        link = server.app[HUB].links[device.id]
        link.send(p.encode(ts.ToolCall(tool=sid, call=999, action="restart", unit="x.service")))
        link.send(json.dumps({"type": "tool_call", "tool": sid, "call": 1, "action": "melt"}))
        snap = await admin.get(f"/api/v1/tool-sessions/{sid}/snapshot")
        assert snap.json["kind"] == "processes" and snap.json["state"] == "active"
        assert snap.json["processes"], snap.body
        still = await admin.post(actions, json={"action": "kill", "pid": 1})
        assert still.json["code"] == "not_permitted"
        await admin.post(f"/api/v1/tool-sessions/{sid}/end")
        term = await admin.get(f"/api/v1/tool-sessions/{sid}/snapshot")
        assert term.status == 200 and term.json["state"] == "ended"
        late = await admin.post(actions, json={"action": "kill", "pid": 1})
        assert (late.status, late.error_code) == (409, "session_ended")
    finally:
        await agent.stop()
    async with remote_agent(server, device, capabilities=("inventory", "terminal")):
        old = await admin.post(url, json={"kind": "processes", "reason": "look"})
        assert (old.status, old.error_code) == (409, "tool_unavailable")
    # A device that asks its user (policy "ask"): refused, recorded; bad agent messages.
    await admin.put(f"/api/v1/groups/{gid}/toolbox-policy", json={"consent": "ask"})
    async with remote_agent(server, device, capabilities=("inventory", "processes")) as ws:
        first = (await admin.post(url, json={"kind": "processes", "reason": "look"})).json
        request = await next_message(ws, tb.ToolRequest)
        assert (request.kind, request.consent) == ("processes", True)
        await ws.send(p.encode(tb.ToolAnswer(tool=request.tool, allowed=False, reason="denied")))
        assert (await ended(admin, first["id"]))["outcome"] == "denied"
        second = (await admin.post(url, json={"kind": "processes", "reason": "again"})).json
        request = await next_message(ws, tb.ToolRequest)
        await ws.send(p.encode(tb.ToolAnswer(tool=request.tool, allowed=True,
                                             reason="allowed")))
        await ws.send(p.encode(ts.ToolResult(tool=request.tool, call=77, ok=True)))
        assert (await next_message(ws, p.Error)).code == p.UNEXPECTED
        await ws.send(json.dumps({"type": "tool_snapshot", "tool": request.tool,
                                  "processes": [{"pid": -4}]}))
        assert (await next_message(ws, p.Error)).code == p.INVALID_MESSAGE
        huge = json.dumps({"type": "tool_snapshot", "tool": request.tool,
                           "processes": [], "pad": "x" * (ts.SNAPSHOT_BYTES + 10)})
        await ws.send(huge)
        assert (await next_message(ws, p.Error)).code == p.TOO_LARGE
        await ws.send(p.encode(p.Heartbeat(seq=3)))
        assert (await next_message(ws, p.HeartbeatAck)).seq == 3
        await admin.post(f"/api/v1/tool-sessions/{second['id']}/end")
    bodies = [e["body"] for e in await tool_events(admin, ticket["id"])]
    assert "Process list not opened: the user refused." in bodies
    # "Tell the user": an agent that knows it is told, an older one is asked instead.
    await admin.put(f"/api/v1/groups/{gid}/toolbox-policy", json={"consent": "notify"})
    for capabilities, notify in ((("inventory", "processes", "tool_notify"), True),
                                 (("inventory", "processes"), False)):
        async with remote_agent(server, device, capabilities=capabilities) as ws:
            sid = (await admin.post(url, json={"kind": "processes", "reason": "x"})).json["id"]
            request = await next_message(ws, tb.ToolRequest)
            assert (request.notify, request.consent) == (notify, not notify)
            await admin.post(f"/api/v1/tool-sessions/{sid}/end")
