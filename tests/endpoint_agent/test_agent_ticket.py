"""Tickets raised on a device: linked to it, for its user, with inventory and screenshot."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import msgspec

from endpoint_agent.outbox import Outbox
from endpoint_agent.ticket import build
from shared import protocol as p
from tests.support.agents import enroll_device, fake_inventory, raw_agent, start_agent
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

AGENT = [sys.executable, "-m", "endpoint_agent.cli"]


async def test_cli_ticket_with_screenshot_is_linked_to_the_device(
        server: RunningServer, admin: Client, tmp_path: Path, x_display: str) -> None:
    """`deskmate-agent ticket --screenshot` files a tray ticket for the user, on the device."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    env["DISPLAY"] = x_display
    proc = await asyncio.create_subprocess_exec(
        *AGENT, "ticket", "Outlook crashes on start", "--description", "Since this morning",
        "--screenshot", "--requester", "Alice.Smith", "--state-dir", str(state.dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.strip() == b"created INC-000001"
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    assert ticket["device_ids"] == [device_id]
    assert (ticket["source"], ticket["requester"]["display_name"]) == ("tray", "Alice.Smith")
    files = (await admin.get(f"/api/v1/tickets/{ticket['id']}/attachments")).json["items"]
    assert {(f["filename"], f["content_type"]) for f in files} == {
        ("inventory.json", "text/plain"), ("screenshot.png", "image/png")}
    shot = next(f for f in files if f["filename"] == "screenshot.png")
    png = await admin.get(shot["url"])
    assert png.body.startswith(b"\x89PNG") and len(png.body) > 1000
    user = await admin.get(f"/api/v1/users/{ticket['requester']['id']}")
    assert (user.json["username"], user.json["role"]) == ("alice.smith", "requester")


async def test_same_ticket_message_creates_one_ticket(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A ticket message repeated after a lost answer gets the same ticket back."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    message = build("Printer offline", description="", requester="bob",
                    inventory=fake_inventory(), screenshot=None)
    async with raw_agent(server, state) as (ws, _):
        answers = []
        for _ in range(2):
            await ws.send(p.encode(message))
            answers.append(p.decode_server_message(await ws.recv()))
    assert answers[0] == answers[1]
    assert isinstance(answers[0], p.TicketCreated)
    assert len((await admin.get("/api/v1/tickets")).json["items"]) == 1


async def test_bad_ticket_files_are_refused(server: RunningServer, admin: Client,
                                            tmp_path: Path) -> None:
    """A file that is not base64, or an executable, is refused and nothing is filed."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with raw_agent(server, state) as (ws, _):
        for data in ("not base64!!", "f0VMRgIBAQAAAAAAAAAAAAIAPgABAAAA"):
            bad = p.TicketRequest(id="t1", title="x", requester_login="bob",
                                  files=[p.FileData(filename="a", data=data)])
            await ws.send(p.encode(bad))
            answer = p.decode_server_message(await ws.recv())
            assert isinstance(answer, p.Error) and answer.code == p.INVALID_MESSAGE
            assert answer.id == "t1"
    assert (await admin.get("/api/v1/tickets")).json["items"] == []


async def test_ticket_queued_offline_is_filed_once_when_the_agent_connects(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A ticket put in the outbox while offline is filed by the running agent, once."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    message = build("No network", description="cable?", requester="carol",
                    inventory=fake_inventory(), screenshot=None, help_now=True)

    def queue() -> None:
        box = Outbox(state.outbox_file)
        box.put_with_id(message.id, "ticket", msgspec.to_builtins(message))
        box.close()

    await asyncio.to_thread(queue)
    running = await start_agent(state)
    try:
        await eventually(lambda: running.agent.stats.reports_acked == 1)
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    assert ticket["tags"] == ["help-now"]
    assert ticket["priority"] == 4  # impact 3, urgency raised to 2
