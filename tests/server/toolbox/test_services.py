"""The services tool on a real agent and a real systemd user manager: units, journal, power."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from endpoint_agent.toolbox.services import ServiceConfig
from endpoint_agent.toolbox.support import ToolSupport
from tests.server.toolbox.test_processes import open_tool
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import Client, RunningServer
from tests.support.systemd import user_manager
from tests.support.toolbox import own_login, terminal_agent, tool_events, unattended_group

UNIT = "deskmate-demo.service"
UNIT_FILE = f"""[Unit]
Description=Deskmate demo service

[Service]
ExecStart={sys.executable} -c "import os, time; print('demo up', os.getpid(), flush=True); \
time.sleep(600)"
"""


async def test_a_unit_is_restarted_its_journal_read_and_a_reboot_announced(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """The unit list shows a unit the test installed; start and restart really run it (a
    new main PID), its journal shows its output, a reboot waits for root in the policy
    then runs the power command after its delay with a notice; all on the timeline."""
    async with user_manager(tmp_path / "systemd") as manager:
        await manager.write_unit(UNIT, UNIT_FILE)
        marker = tmp_path / "power"
        config = ServiceConfig(scope="user", journal_directory=str(manager.journal),
                               environ=manager.environ,
                               power_command=["sh", "-c", f'echo "$0" > {marker}'])
        device = await enrolled(server, admin, tmp_path / "a")
        gid = await unattended_group(admin, device)
        ticket = await ticket_with_device(admin, device.id,
                                          assignee_id=technician.user["id"])
        agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                              services=config))
        try:
            sid = await open_tool(technician, ticket["id"], "services")
            async with asyncio.timeout(15):
                while True:
                    snap = (await technician.get(f"/api/v1/tool-sessions/{sid}/snapshot")).json
                    if any(u["name"] == UNIT for u in snap["units"]):
                        break
                    await asyncio.sleep(0.05)
            assert snap["scope"] == "user"
            url = f"/api/v1/tool-sessions/{sid}/actions"
            started = await technician.post(url, json={"action": "start", "unit": UNIT})
            assert started.json["ok"], started.body
            assert "active (running)" in started.json["message"]
            first = await manager.show(UNIT, "MainPID")
            restarted = await technician.post(url, json={"action": "restart", "unit": UNIT})
            assert restarted.json["ok"], restarted.body
            second = await manager.show(UNIT, "MainPID")
            assert await manager.show(UNIT, "ActiveState") == "active"
            assert first != second and int(second) > 0
            async with asyncio.timeout(10):
                while True:
                    journal = await technician.post(url, json={"action": "journal",
                                                               "unit": UNIT, "lines": 20})
                    assert journal.json["ok"], journal.body
                    if any(f"demo up {second}" in line for line in journal.json["lines"]):
                        break
                    await asyncio.sleep(0.1)
            missing = await technician.post(url, json={"action": "restart",
                                                       "unit": "nothing-here.service"})
            assert (missing.json["ok"], missing.json["code"]) == (False, "not_found")
            stopped = await technician.post(url, json={"action": "stop", "unit": UNIT})
            assert stopped.json["ok"] and await manager.show(UNIT, "ActiveState") == "inactive"
            no_root = await technician.post(url, json={"action": "reboot"})
            assert (no_root.status, no_root.error_code) == (403, "root_not_allowed")
            await technician.post(f"/api/v1/tool-sessions/{sid}/end")
            await admin.put(f"/api/v1/groups/{gid}/toolbox-policy", json={"system_root": True})
            sid = await open_tool(technician, ticket["id"], "services", as_root=True)
            reboot = await technician.post(f"/api/v1/tool-sessions/{sid}/actions",
                                           json={"action": "reboot", "delay_seconds": 1,
                                                 "notice": "New kernel."})
            assert reboot.json["ok"], reboot.body
            assert "Save your work. New kernel." in config.notices[-1]
            async with asyncio.timeout(10):
                while True:
                    if await asyncio.to_thread(marker.exists):
                        written = await asyncio.to_thread(marker.read_text)
                        if written:
                            break
                    await asyncio.sleep(0.05)
            assert written.strip() == "reboot"
            bodies = [e["body"] for e in await tool_events(admin, ticket["id"])]
            assert any(f"restarted unit {UNIT}" in b for b in bodies), bodies
            assert any(f"read the journal of unit {UNIT}" in b for b in bodies), bodies
            assert any("asked to restart" in b for b in bodies), bodies
        finally:
            await agent.stop()
