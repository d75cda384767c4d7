"""The tray's local channel: a 0600 Unix socket, peer credentials, tickets through the agent."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import pwd
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from endpoint_agent.state import AgentState
from endpoint_agent.tray import local
from tests.support.agents import RunningAgent, enroll_device, fake_inventory, start_agent
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

PNG = base64.b64decode(  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@contextlib.asynccontextmanager
async def serving(running: RunningAgent, state: AgentState, *,
                  allowed: set[int] | None = None) -> AsyncIterator[Path]:
    """Serve the local channel of a running agent, as `deskmate-agent run` does."""
    server = local.LocalServer(state.tray_socket, status=running.agent.status,
                               send_ticket=running.agent.submit_ticket,
                               inventory=fake_inventory,
                               history_file=state.dir / "tray-tickets.json",
                               allowed_uids=allowed,
                               send_rating=running.agent.submit_rating,
                               ticket_statuses=running.agent.ticket_statuses)
    running.agent.on_ticket_update = server.push
    async with server.serving():
        yield state.tray_socket


async def ask(path: Path, message: dict[str, object]) -> dict[str, object]:
    return await asyncio.to_thread(local.request, path, message)


async def test_ticket_from_the_tray_is_linked_with_screenshot_and_snapshot(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A tray ticket is filed for the socket peer's login, on the device, with both files."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as path:
            mode = stat.S_IMODE((await asyncio.to_thread(os.stat, path)).st_mode)
            assert mode == 0o600
            status = await ask(path, {"op": "status"})
            assert status["connected"] is True
            answer = await ask(path, {"op": "ticket", "title": "Screen flickers",
                                      "description": "since the update", "snapshot": True,
                                      "screenshot": base64.b64encode(PNG).decode()})
            assert answer["number"] == "INC-000001"
            mine = await ask(path, {"op": "my_tickets"})
            assert [t["number"] for t in mine["tickets"]] == ["INC-000001"]  # type: ignore[index]
    finally:
        await running.stop()
    (ticket,) = (await admin.get("/api/v1/tickets")).json["items"]
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    assert ticket["device_ids"] == [device_id]
    login = pwd.getpwuid(os.geteuid()).pw_name
    # The login is the kernel's word for the socket peer, kept as reported; it is bound to
    # nobody here, so the ticket is the device's unknown user's.
    assert (ticket["source"], ticket["reported"]["login"]) == ("tray", login)
    assert ticket["requester"]["display_name"].startswith("Unknown user")
    files = (await admin.get(f"/api/v1/tickets/{ticket['id']}/attachments")).json["items"]
    assert {f["filename"] for f in files} == {"screenshot.png", "system-snapshot.json"}


async def test_other_users_are_refused(server: RunningServer, admin: Client,
                                       tmp_path: Path) -> None:
    """A peer whose user id is not the agent's gets 'not allowed' and files nothing."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        async with serving(running, state, allowed={os.geteuid() + 4242}) as path:
            with pytest.raises(local.LocalError, match="not allowed"):
                await ask(path, {"op": "ticket", "title": "let me in"})
    finally:
        await running.stop()
    assert (await admin.get("/api/v1/tickets")).json["items"] == []


async def test_bad_requests_get_errors_and_file_nothing(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Garbage, unknown operations, empty titles and bad screenshots are refused."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as path:
            for bad, error in ((["a list"], "not an object"), ({"op": "format_disk"}, "unknown op"),
                               ({"op": "ticket", "title": "  "}, "needs a title"),
                               ({"op": "ticket"}, "title"),
                               ({"op": "ticket", "title": "x", "screenshot": 5},
                                "screenshot too large")):
                with pytest.raises(local.LocalError, match=error):
                    await ask(path, bad)  # type: ignore[arg-type]

            def raw(data: bytes) -> bytes:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(path))
                    sock.sendall(data)
                    return sock.recv(1000)

            assert b"bad request" in await asyncio.to_thread(raw, b"{not json\n")
            # Not an accepted file type: the server refuses it, the agent says so (as a
            # failure, not a success) and keeps nothing in the user's ticket history.
            with pytest.raises(local.LocalError, match="not an accepted type"):
                await ask(path, {"op": "ticket", "title": "exe", "screenshot":
                                 base64.b64encode(b"\x7fELF" + b"\0" * 60).decode()})
            assert (await ask(path, {"op": "my_tickets"}))["tickets"] == []
    finally:
        await running.stop()
    assert (await admin.get("/api/v1/tickets")).json["items"] == []


async def test_offline_tray_ticket_is_queued_and_filed_once(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Raised while the agent is offline, a tray ticket is queued and filed once later."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    running.agent.stop()
    await running.task
    async with serving(running, state) as path:
        answer = await ask(path, {"op": "ticket", "title": "VPN down"})
        assert answer["queued"] is True
    assert running.outbox is not None
    await asyncio.to_thread(running.outbox.close)
    again = await start_agent(state)
    try:
        await eventually(lambda: again.agent.stats.reports_acked == 1)
    finally:
        await again.stop()
    tickets = (await admin.get("/api/v1/tickets")).json["items"]
    assert [t["title"] for t in tickets] == ["VPN down"]
    history = json.loads(await asyncio.to_thread((state.dir / "tray-tickets.json").read_text))
    assert history[0]["queued"] is True


@pytest.mark.expect_error_log(r"deskmate\.agent\.tray: tray request failed\n"
                              r"RuntimeError: the outbox is closed")
async def test_a_failure_inside_the_agent_is_answered_not_dropped(tmp_path: Path) -> None:
    """An unexpected error while handling a request reaches the tray as an error answer."""
    async def broken(message: object) -> dict[str, object]:
        raise RuntimeError("the outbox is closed")

    state = AgentState(tmp_path / "agent")
    await asyncio.to_thread(state.dir.mkdir, parents=True)
    server = local.LocalServer(state.tray_socket, status=lambda: {}, send_ticket=broken,
                               inventory=fake_inventory,
                               history_file=state.dir / "tray-tickets.json")
    async with server.serving():
        with pytest.raises(local.LocalError, match="internal error"):
            await ask(state.tray_socket, {"op": "ticket", "title": "Printer"})
        assert (await ask(state.tray_socket, {"op": "status"}))["ok"] is True


def _exchange(path: Path, data: bytes) -> dict[str, object]:
    """Send raw bytes on the tray socket and return the one answer line."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # an oversized line is answered before it is all sent
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return dict(json.loads(answer))


BAD_LINES = [
    ("deeply nested arrays", b"[" * 100_000 + b"\n", "malformed"),
    ("deeply nested in a field", b'{"op": "ticket", "title": ' + b"[" * 100_000 + b"\n",
     "malformed"),
    ("deeply nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n", "malformed"),
    ("not JSON", b"{not json\n", "malformed"),
    ("not UTF-8", b'{"op": "\xff\xfe"}\n', "malformed"),
    ("not an object", b"[1, 2]\n", "invalid_message"),
    ("unknown operation", b'{"op": "format_disk"}\n', "invalid_message"),
    ("oversized line", b'{"op": "ticket", "title": "' + b"x" * local.MAX_REQUEST + b'"}\n',
     "too_large"),
]


@pytest.mark.parametrize(("label", "data", "code"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
async def test_malformed_lines_get_a_named_error_not_a_traceback(
        tmp_path: Path, label: str, data: bytes, code: str) -> None:
    """A line the agent cannot read (deep nesting, not JSON, too long) gets an error answer
    with its code, logs no error, and the agent goes on answering."""
    async def nothing(message: object) -> dict[str, object]:
        raise AssertionError("nothing is filed")

    state = AgentState(tmp_path / "agent")
    await asyncio.to_thread(state.dir.mkdir, parents=True)
    server = local.LocalServer(state.tray_socket, status=lambda: {}, send_ticket=nothing,
                               inventory=fake_inventory,
                               history_file=state.dir / "tray-tickets.json")
    async with server.serving():
        answer = await asyncio.to_thread(_exchange, state.tray_socket, data)
        assert (answer["ok"], answer["code"]) == (False, code), (label, answer)
        assert (await ask(state.tray_socket, {"op": "status"}))["ok"] is True
