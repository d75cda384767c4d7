"""A script on a device with a desktop whose group asks the user: the agent's dialog."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from endpoint_agent.toolbox.support import ToolSupport
from tests.support.agents import start_agent
from tests.support.remote import enrolled, ticket_with_device
from tests.support.scripts import approved_script, ended_runs
from tests.support.server import Client, RunningServer
from tests.support.toolbox import own_login
from tests.support.xapps import press_in_window

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]


async def test_the_user_denies_a_script_in_the_agents_dialog(
        server: RunningServer, admin: Client, technician: Client, x_display: str,
        tmp_path: Path) -> None:
    """The dialog says "Tina wants to run a script on this computer" with the script's name;
    Deny refuses it, nothing runs, and the run says the user refused."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    marker = tmp_path / "ran"
    script = await approved_script(technician, admin, name="Touch", body=f"touch {marker}")
    report = tmp_path / "ui.jsonl"
    remote = RemoteSupport(x_display, ui_env={ui.REPORT_ENV: str(report)})
    tools = ToolSupport(remote, login=own_login())
    agent = await start_agent(device.state, heartbeat=0.5, remote=remote, tools=tools)
    try:
        await asyncio.wait_for(agent.agent.connected.wait(), 10)
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/script-runs", json={
            "script_id": script["id"], "device_ids": [device.id], "reason": "clear the queue"})
        assert resp.status == 201, resp.body
        await press_in_window(x_display, ui.ENGLISH("toolbox.consent.script_title"),
                              ui.DENY_BUTTON)
        (run,) = await ended_runs(technician, resp.json["items"])
    finally:
        await agent.stop()
    assert run["outcome"] == "denied" and run["attachment"] is None
    assert not await asyncio.to_thread(marker.exists)
    drawn = [json.loads(line) for line in report.read_text().splitlines()]
    dialog = next(d for d in drawn if d["window"] == "consent-script")
    assert dialog["labels"]["request"]["text"].replace("\n", " ") == (
        "Tina wants to run a script on this computer")
    assert "Touch (v1): clear the queue" in dialog["labels"]["reason"]["text"]
