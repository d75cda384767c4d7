"""A device's second connection never displaces a live first one (issue 13, item 16)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from endpoint_agent.backoff import Backoff
from endpoint_agent.connection import MAX_ATTEMPT
from server.agents import connection as server_connection
from server.keys import HUB
from shared import protocol as p
from tests.support.agents import (
    enroll_device,
    raw_agent,
    signed_hello,
    start_agent,
    unauthenticated,
)
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually


@dataclass
class RecordingBackoff(Backoff):
    """A fast backoff that remembers the attempt numbers it was asked about."""

    attempts: list[int] = field(default_factory=list)

    def delay(self, attempt: int) -> float:
        """Record the attempt and wait a test-sized time."""
        self.attempts.append(attempt)
        return 0.02


async def _device_id(admin: Client) -> int:
    return int((await admin.get("/api/v1/devices")).json["items"][0]["id"])


async def test_a_second_connection_is_refused_and_the_live_one_keeps_its_place(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A second authenticated connection of a connected device gets already_connected
    and close 4009; the agent's connection stays the device's, untouched."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        device_id = await _device_id(admin)
        link = server.app[HUB].links[device_id]
        async with unauthenticated(server, state) as (ws, challenge, key, enrollment):
            await ws.send(signed_hello(ws, challenge.nonce, key, enrollment.device_id))
            answer = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
            assert isinstance(answer, p.Error)
            assert (answer.code, answer.fatal) == (p.ALREADY_CONNECTED, False)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == p.CLOSE_ALREADY_CONNECTED
        assert server.app[HUB].links[device_id] is link and not link.closing
        assert running.agent.connected.is_set()
        assert running.agent.stats.connections == 1
    finally:
        await running.stop()


async def test_a_connection_that_stopped_answering_is_replaced(
        server: RunningServer, admin: Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the old connection does not answer the server's ping, the new one takes over."""
    monkeypatch.setattr(server_connection, "PROBE_TIMEOUT", 0.3)
    state, enrollment = await enroll_device(server, admin, tmp_path / "agent")
    async with raw_agent(server, state) as (dead, _):
        device_id = await _device_id(admin)
        old = server.app[HUB].links[device_id]
        dead.transport.pause_reading()  # a laptop gone to sleep: nothing is read or answered
        try:
            async with raw_agent(server, state) as (_fresh, welcome):
                assert welcome.device_id == enrollment.device_id
                new = server.app[HUB].links[device_id]
                assert new is not old and old.closing
        finally:
            dead.transport.resume_reading()


async def test_an_agent_refused_as_already_connected_waits_long_and_the_first_stays(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A second agent with the device's identity backs off to its longest wait; the first
    agent is never disconnected by it."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    first = await start_agent(state)
    second = None
    try:
        await asyncio.wait_for(first.agent.connected.wait(), 10)
        second = await start_agent(state)
        backoff = RecordingBackoff()
        second.agent.backoff = backoff
        await eventually(lambda: len(backoff.attempts) >= 2)
        assert set(backoff.attempts) == {MAX_ATTEMPT}
        assert "already connected" in second.agent.stats.last_error
        assert second.agent.stats.connections == 0
        assert first.agent.stats.connections == 1 and first.agent.connected.is_set()
    finally:
        if second is not None:
            await second.stop()
        await first.stop()
