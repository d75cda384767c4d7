"""Tickets raised on a device: through the running agent, for the caller, with files."""

from __future__ import annotations

import asyncio
import os
import pwd
import sys
from pathlib import Path

import msgspec

from endpoint_agent.outbox import Outbox
from endpoint_agent.ticket import build
from server.keys import HUB
from shared import protocol as p
from tests.endpoint_agent.test_tray_channel import ask, serving
from tests.support.agents import enroll_device, fake_inventory, raw_agent, start_agent
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

AGENT = [sys.executable, "-m", "endpoint_agent.cli"]
LOGIN = pwd.getpwuid(os.geteuid()).pw_name


async def _cli(state_dir: Path, *args: str, display: str | None = None) -> tuple[int, str, str]:
    """Run `deskmate-agent ticket ...` as a user would; return (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    if display is not None:
        env["DISPLAY"] = display
    proc = await asyncio.create_subprocess_exec(
        *AGENT, "ticket", *args, "--state-dir", str(state_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode().strip(), err.decode()


async def test_cli_ticket_goes_through_the_running_agent_which_stays_connected(
        server: RunningServer, admin: Client, tmp_path: Path, x_display: str) -> None:
    """`deskmate-agent ticket --screenshot` is filed by the running agent over its local
    socket, for the caller's login, on the device; the agent's connection is untouched."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
        link = server.app[HUB].links[device_id]
        async with serving(running, state):
            code, out, err = await _cli(state.dir, "Outlook crashes on start", "--description",
                                        "Since this morning", "--screenshot",
                                        display=x_display)
            assert code == 0, err
            assert out == "created INC-000001"
            mine = await ask(state.tray_socket, {"op": "my_tickets"})
            assert [t["number"] for t in mine["tickets"]] == ["INC-000001"]  # type: ignore[index]
        assert server.app[HUB].links[device_id] is link and not link.closing
        assert running.agent.stats.connections == 1 and running.agent.connected.is_set()
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    assert ticket["device_ids"] == [device_id]
    assert (ticket["source"], ticket["reported"]["login"]) == ("tray", LOGIN)
    files = (await admin.get(f"/api/v1/tickets/{ticket['id']}/attachments")).json["items"]
    assert {(f["filename"], f["content_type"]) for f in files} == {
        ("system-snapshot.json", "text/plain"), ("screenshot.png", "image/png")}
    shot = next(f for f in files if f["filename"] == "screenshot.png")
    png = await admin.get(shot["url"])
    assert png.body.startswith(b"\x89PNG") and len(png.body) > 1000


async def test_cli_ticket_is_queued_when_no_agent_runs_and_filed_when_it_starts(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Without a running agent the command connects nowhere: the ticket waits in the
    outbox, and the agent files it once, for the caller's login, when it starts."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    code, out, err = await _cli(state.dir, "No network", "--help-now")
    assert code == 0, err
    assert "queued" in out
    assert (await admin.get("/api/v1/tickets")).json["items"] == []
    assert (await admin.get("/api/v1/devices")).json["items"][0]["last_seen_at"] is None
    running = await start_agent(state)
    try:
        await eventually(lambda: running.agent.stats.reports_acked == 1)
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    assert (ticket["reported"]["login"], ticket["tags"]) == (LOGIN, ["help-now"])


async def test_cli_has_no_way_to_name_the_requester(tmp_path: Path) -> None:
    """`--requester` is gone: the ticket is always the caller's."""
    code, _out, err = await _cli(tmp_path, "x", "--requester", "admin")
    assert code == 2 and "unrecognized arguments: --requester admin" in err


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
