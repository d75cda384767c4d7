"""A terminal on a device with a desktop: the agent's own consent dialog names the tool."""

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
from tests.support.server import Client, RunningServer
from tests.support.toolbox import ended, own_login, tool_events
from tests.support.xapps import press_in_window

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]


async def test_the_user_denies_a_terminal_in_the_agents_dialog(
        server: RunningServer, admin: Client, technician: Client, x_display: str,
        tmp_path: Path) -> None:
    """The dialog says "Tina wants to open a terminal on this computer"; Deny refuses it,
    no shell starts, and the ticket says the user refused."""
    device = await enrolled(server, admin, tmp_path / "a")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    report = tmp_path / "ui.jsonl"
    remote = RemoteSupport(x_display, ui_env={ui.REPORT_ENV: str(report)})
    tools = ToolSupport(remote, login=own_login())
    agent = await start_agent(device.state, heartbeat=0.5, remote=remote, tools=tools)
    try:
        await asyncio.wait_for(agent.agent.connected.wait(), 10)
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/tool-sessions",
                                     json={"reason": "clear the print queue"})
        assert resp.status == 201, resp.body
        await press_in_window(x_display, ui.ENGLISH("toolbox.consent.title"), ui.DENY_BUTTON)
        assert (await ended(technician, resp.json["id"]))["outcome"] == "denied"
        assert not tools.history and not tools.sessions  # no shell was started
        drawn = [json.loads(line) for line in report.read_text().splitlines()]
        dialog = next(d for d in drawn if d["window"] == "consent-terminal")
        assert dialog["labels"]["request"]["text"].replace("\n", " ") == (
            "Tina wants to open a terminal on this computer")
        assert "clear the print queue" in dialog["labels"]["reason"]["text"]
        bodies = [e["body"] for e in await tool_events(technician, ticket["id"])]
        assert bodies[-1] == "Terminal not opened: the user refused."
    finally:
        await agent.stop()
