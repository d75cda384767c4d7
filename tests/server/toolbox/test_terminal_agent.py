"""A terminal on a real agent through the real server: commands, resize, audit, transcript."""

from __future__ import annotations

from pathlib import Path

from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import Client, RunningServer
from tests.support.toolbox import (
    terminal,
    terminal_agent,
    tool_events,
    unattended_group,
)


async def test_a_terminal_runs_commands_resizes_and_is_audited(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """An unattended terminal on a headless device runs a command, follows a resize, keeps a
    transcript, and leaves requested/started/ended steps on the ticket."""
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device, record_terminal=True)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device)
    try:
        resp = await technician.post(f"/api/v1/tickets/{ticket['id']}/tool-sessions",
                                     json={"kind": "terminal", "reason": "disk full"})
        assert resp.status == 201, resp.body
        sid = resp.json["id"]
        async with terminal(server, technician, sid) as term:
            welcome = await term.next("welcome")
            assert welcome["controller"] is True
            status = await term.next("status")
            while status["state"] != "active":
                status = await term.next("status")
            assert status["recorded"] is True and status["account"]
            await term.typed("echo $((6*7))-ok\r")
            await term.until("42-ok")
            await term.send({"type": "resize", "cols": 123, "rows": 45})
            await term.typed("stty size\r")
            await term.until("45 123")
            await term.typed("printf '\\xc3\\xa9t\\xc3\\xa9\\n'\r")  # UTF-8 out: "été"
            await term.until("été")
            ended = await technician.post(f"/api/v1/tool-sessions/{sid}/end")
            assert ended.status == 200 and ended.json["state"] == "ended"
            assert (await term.next("ended"))["by"] == "technician"
        steps = [e["changes"]["step"] for e in await tool_events(technician, ticket["id"])]
        assert steps == ["requested", "started", "ended"]
        got = await technician.get(f"/api/v1/tool-sessions/{sid}")
        assert got.json["transcript"]["state"] == "ready"
        cast = await technician.get(got.json["transcript"]["url"])
        assert cast.status == 200
        assert b'"version": 2' in cast.body and b"42-ok" in cast.body
    finally:
        await agent.stop()
