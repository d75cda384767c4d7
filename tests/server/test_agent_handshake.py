"""Every handshake refusal of the agent socket behaves as docs/protocol.md's table says."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from endpoint_agent.backoff import Backoff
from endpoint_agent.connection import Agent
from endpoint_agent.pinning import pinned_context
from endpoint_agent.state import AgentState
from server.agents import connection as server_connection
from server.keys import HANDSHAKES
from shared import agent_auth
from shared import protocol as p
from tests.support.agents import enroll_device, signed_hello, start_agent, unauthenticated
from tests.support.markdown import code_spans, doc_tables
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

Send = Callable[[ClientConnection, p.Challenge, AgentState], Awaitable[None]]


def documented_refusals() -> dict[str, tuple[bool, int]]:
    """Return {code: (fatal, close code)} from the handshake refusal table."""
    (table,) = [t for t in doc_tables("protocol.md")
                if t.heading == "Handshake" and t.header[0] == "code"]
    return {code: (row["fatal"] == "true", int(row["close code"]))
            for row in table.records() for code in code_spans(row["code"])}


async def refusal(ws: ClientConnection) -> tuple[str, bool, int]:
    """Read the error message and the close that follow a refused hello."""
    answer = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
    assert isinstance(answer, p.Error), answer
    assert answer.id is None
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return answer.code, answer.fatal, closed.value.rcvd.code


async def hello_fields(ws: ClientConnection, challenge: p.Challenge, state: AgentState,
                       **changed: object) -> str:
    """Return a correctly signed hello frame with some fields changed."""
    enrollment, _ = await asyncio.to_thread(state.load)
    key = await asyncio.to_thread(state.load_key)
    frame = p.decode_agent_message(signed_hello(ws, challenge.nonce, key,
                                                enrollment.device_id))
    assert isinstance(frame, p.Hello)
    values = {f: getattr(frame, f) for f in frame.__struct_fields__} | changed
    return p.encode(p.Hello(**values))  # type: ignore[arg-type]


async def send_text(text: str, ws: ClientConnection) -> None:
    await ws.send(text)


SCENARIOS: dict[str, tuple[str, Send]] = {
    "not JSON": ("malformed", lambda ws, c, s: send_text("hello?", ws)),
    "JSON that is not an object": ("invalid_message", lambda ws, c, s: send_text("[1]", ws)),
    "unknown type": ("unknown_type", lambda ws, c, s: send_text('{"type": "helo"}', ws)),
    "hello without signature": ("invalid_message", lambda ws, c, s: send_text(
        '{"type": "hello", "protocol": 1, "device_id": "0b9f3c2e-1a2b-4c3d-8e9f-'
        '0123456789ab", "agent_version": "x", "capabilities": []}', ws)),
    "hello over 64 KiB": ("too_large", lambda ws, c, s: send_text(
        '{"type": "hello", "pad": "' + "x" * p.MAX_CONTROL_BYTES + '"}', ws)),
    "a heartbeat first": ("unexpected_message",
                          lambda ws, c, s: send_text('{"type": "heartbeat", "seq": 0}', ws)),
    "a binary frame first": ("binary_not_allowed", lambda ws, c, s: ws.send(b"\x01hello")),
    "unknown version": ("unsupported_version", lambda ws, c, s: _send_hello(
        ws, c, s, protocol=99)),
    "another certificate": ("channel_mismatch", lambda ws, c, s: _send_hello(
        ws, c, s, channel=agent_auth.b64encode(bytes(32)))),
    "bad signature": ("auth_failed", lambda ws, c, s: _send_hello(
        ws, c, s, signature=agent_auth.b64encode(bytes(64)))),
}


async def _send_hello(ws: ClientConnection, challenge: p.Challenge, state: AgentState,
                      **changed: object) -> None:
    await ws.send(await hello_fields(ws, challenge, state, **changed))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_refused_hello_gets_the_documented_code_fatal_flag_and_close_code(
        server: RunningServer, admin: Client, tmp_path: Path, scenario: str) -> None:
    """Each kind of bad first message is refused as the refusal table says."""
    expected_code, send = SCENARIOS[scenario]
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with unauthenticated(server, state) as (ws, challenge, _key, _enrollment):
        await send(ws, challenge, state)
        code, fatal, close = await refusal(ws)
    assert code == expected_code
    assert (fatal, close) == documented_refusals()[code]


async def test_a_hello_that_cannot_be_read_is_not_closed_as_an_auth_failure(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Malformed hellos close with 4002, never 4001 (which tells agents to re-enroll)."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with unauthenticated(server, state) as (ws, _challenge, _key, _enrollment):
        await ws.send('{"type": "hello"}')
        assert (await refusal(ws))[2] == p.CLOSE_BAD_HELLO != p.CLOSE_AUTH_FAILED


async def test_silence_after_the_challenge_gets_hello_timeout(
        server: RunningServer, admin: Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No hello in time: hello_timeout, not fatal, closed with 1008."""
    monkeypatch.setattr(server_connection, "HELLO_TIMEOUT", 0.2)
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with unauthenticated(server, state) as (ws, _challenge, _key, _enrollment):
        code, fatal, close = await refusal(ws)
    assert code == p.HELLO_TIMEOUT
    assert (fatal, close) == documented_refusals()[code] == (False, 1008)


async def test_revoked_device_gets_the_documented_refusal(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A revoked device's correct hello is refused as revoked, 4003."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    assert (await admin.post(f"/api/v1/devices/{device_id}/revoke")).status == 200
    async with unauthenticated(server, state) as (ws, challenge, _key, _enrollment):
        await _send_hello(ws, challenge, state)
        code, fatal, close = await refusal(ws)
    assert code == p.REVOKED
    assert (fatal, close) == documented_refusals()[code]


@contextlib.asynccontextmanager
async def all_handshake_slots_taken(server: RunningServer) -> AsyncIterator[None]:
    slots = server.app[HANDSHAKES]
    taken = 0
    while not slots.locked():
        await slots.acquire()
        taken += 1
    try:
        yield
    finally:
        for _ in range(taken):
            slots.release()


async def test_busy_server_refuses_before_the_challenge(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """While every handshake slot is taken, a new socket gets busy (not fatal), 1013."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    _enrollment, ca_pem = await asyncio.to_thread(state.load)
    ctx = await asyncio.to_thread(pinned_context, ca_pem)
    url = server.base_url.replace("https://", "wss://") + p.WS_PATH
    async with all_handshake_slots_taken(server), connect(url, ssl=ctx, compression=None) as ws:
        code, fatal, close = await refusal(ws)
    assert code == p.BUSY
    assert (fatal, close) == documented_refusals()[code]


class CountingBackoff(Backoff):
    """A fast backoff that records the attempt numbers it was asked about."""

    def __init__(self) -> None:
        super().__init__(initial=0.01, maximum=0.05)
        self.attempts: list[int] = []

    def delay(self, attempt: int) -> float:
        self.attempts.append(attempt)
        return super().delay(attempt)


async def test_agent_whose_hello_is_refused_keeps_its_enrollment_and_retries_slowly(
        server: RunningServer, admin: Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused hello (4002) is not an auth failure: the agent goes on at the longest delay."""
    monkeypatch.setattr(Agent, "capabilities", property(lambda self: ["x" * 300]))
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    backoff = CountingBackoff()
    running.agent.backoff = backoff
    try:
        await eventually(lambda: len(backoff.attempts) >= 2)
        assert not running.task.done()  # no FatalConnectionError: the enrollment stands
        assert "hello refused (invalid_message)" in running.agent.stats.last_error
        assert set(backoff.attempts) == {32}
    finally:
        await running.stop()
    assert state.enrollment_file.exists()
