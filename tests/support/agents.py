"""Real agents for tests: enrolled through the API, connected over TLS to the test server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from endpoint_agent.backoff import Backoff
from endpoint_agent.connection import Agent
from endpoint_agent.enroll import enroll
from endpoint_agent.errors import FatalConnectionError
from endpoint_agent.health.probes import ProbeError
from endpoint_agent.health.runner import HealthRunner
from endpoint_agent.outbox import Outbox
from endpoint_agent.pinning import pinned_context
from endpoint_agent.state import AgentState, Enrollment
from shared import agent_auth
from shared import protocol as p
from tests.support.server import Client, RunningServer

SAMPLE = p.Metrics(cpu_percent=12.5, memory_percent=40.0, disk_percent=55.0, load1=0.5)


def fake_inventory(hostname: str = "pc-001") -> dict[str, Any]:
    """Return a small but realistic inventory in the agent's section format."""
    return {
        "hardware": {"name": hostname, "memory": 16384},
        "operatingsystem": {"name": "Debian GNU/Linux", "version": "12", "arch": "x86_64",
                            "kernel_name": "linux", "kernel_version": "6.1.0"},
        "bios": {"ssn": f"SN-{hostname}", "smanufacturer": "ACME"},
        "softwares": [{"name": "firefox-esr", "version": "128.5", "arch": "amd64"},
                      {"name": "openssl", "version": "3.0.15", "arch": "amd64"}],
        "users": [{"login": "alice"}],
        "versionclient": "deskmate-agent 0.1.0",
    }


async def create_token(admin: Client, **body: Any) -> dict[str, Any]:
    """Create an enrollment token through the API."""
    resp = await admin.post("/api/v1/enrollment-tokens", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def enroll_device(server: RunningServer, admin: Client, state_dir: Path,
                        token: str | None = None) -> tuple[AgentState, Enrollment]:
    """Enroll a new device exactly as `deskmate-agent enroll` does."""
    if token is None:
        token = (await create_token(admin))["token"]
    assert server.tls is not None
    state = AgentState(state_dir)
    enrollment = await asyncio.to_thread(enroll, state, server.base_url, token,
                                         server.tls.fingerprint)
    return state, enrollment


@dataclass
class FakeProbe:
    """Check readings a test sets: a value per check kind (None: cannot be read)."""

    values: dict[str, float | None] = field(default_factory=lambda: {
        "disk": 40.0, "memory": 30.0, "cpu": 5.0, "service": 0.0, "process": 0.0})
    reads: int = 0

    def read(self, check: p.HealthCheck, *, cpu: float | None = None) -> tuple[float, str]:
        """Return the value set for the check's kind, as the real probes would."""
        self.reads += 1
        value = self.values.get(check.kind)
        if value is None:
            raise ProbeError(f"no reading for {check.kind}")
        return value, ""


@dataclass
class RunningAgent:
    """An agent task and what tests control of it."""

    agent: Agent
    task: asyncio.Task[None]
    inventory: dict[str, Any] = field(default_factory=dict)
    outbox: Outbox | None = None
    probe: FakeProbe | None = None

    async def stop(self) -> None:
        """Stop the agent; re-raise a crash, but not the fatal refusal a test provoked."""
        self.agent.stop()
        try:
            await asyncio.wait_for(self.task, 10)
        except FatalConnectionError:
            pass
        finally:
            if self.outbox is not None:
                await asyncio.to_thread(self.outbox.close)


async def start_agent(state: AgentState, *, inventory: dict[str, Any] | None = None,
                      heartbeat: float = 0.05, offline_sample: float = 3600.0,
                      inventory_interval: float = 3600.0,
                      key: agent_auth.Signer | None = None,
                      enrollment: Enrollment | None = None,
                      sample: Callable[[], p.Metrics] = lambda: SAMPLE,
                      probe: FakeProbe | None = None,
                      health_interval: float = 0.02,
                      remote: Any = None, remote_unavailable: str = "",
                      tools: Any = None, languages: Any = None) -> RunningAgent:
    """Start a real agent on the event loop with fast, test-sized timings.

    With ``probe``, the agent runs the server's health checks on readings the test sets,
    sampling every ``health_interval`` seconds.
    """
    stored, ca_pem = await asyncio.to_thread(state.load)
    outbox = await asyncio.to_thread(Outbox, state.outbox_file)
    inv = inventory if inventory is not None else fake_inventory()
    health = (HealthRunner(state.health_file, outbox, read=probe.read,
                           interval=health_interval) if probe is not None else None)
    agent = Agent(enrollment or stored, key or await asyncio.to_thread(state.load_key), ca_pem,
                  outbox, collect_inventory=lambda: inv, sample=sample,
                  backoff=Backoff(initial=0.02, maximum=0.1), heartbeat_interval=heartbeat,
                  offline_sample_interval=offline_sample, inventory_interval=inventory_interval,
                  health=health, remote=remote, remote_unavailable=remote_unavailable,
                  tools=tools, languages=languages)
    task = asyncio.create_task(agent.run(), name="agent")
    return RunningAgent(agent=agent, task=task, inventory=inv, outbox=outbox, probe=probe)


def signed_hello(ws: ClientConnection, nonce: str, key: agent_auth.Signer, device_id: str,
                 *, protocol: int = p.PROTOCOL_VERSION) -> str:
    """Return a correctly signed hello frame for this connection's challenge."""
    cert = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    return p.encode(p.Hello(
        protocol=protocol, device_id=device_id, agent_version="test", capabilities=[],
        signature=agent_auth.sign(key, nonce, device_id, agent_auth.channel_binding(cert))))


@contextlib.asynccontextmanager
async def unauthenticated(server: RunningServer, state: AgentState) -> AsyncIterator[
        tuple[ClientConnection, p.Challenge, agent_auth.Signer, Enrollment]]:
    """Open a protocol connection and read its challenge, for handshake-level tests."""
    enrollment, ca_pem = await asyncio.to_thread(state.load)
    key = await asyncio.to_thread(state.load_key)
    ctx = await asyncio.to_thread(pinned_context, ca_pem)
    url = server.base_url.replace("https://", "wss://") + p.WS_PATH
    async with connect(url, ssl=ctx, compression=None, max_size=None) as ws:
        challenge = p.decode_server_message(await ws.recv())
        assert isinstance(challenge, p.Challenge)
        yield ws, challenge, key, enrollment


@contextlib.asynccontextmanager
async def raw_agent(server: RunningServer, state: AgentState) -> AsyncIterator[
        tuple[ClientConnection, p.Welcome]]:
    """Open an authenticated protocol connection by hand, for protocol-level tests."""
    async with unauthenticated(server, state) as (ws, challenge, key, enrollment):
        await ws.send(signed_hello(ws, challenge.nonce, key, enrollment.device_id))
        welcome = p.decode_server_message(await ws.recv())
        assert isinstance(welcome, p.Welcome), welcome
        yield ws, welcome
