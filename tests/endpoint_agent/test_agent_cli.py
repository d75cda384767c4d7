"""``deskmate-agent`` as an admin runs it: enroll, run, stop on SIGTERM, print inventory."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.support.agents import create_token
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

AGENT = [sys.executable, "-m", "endpoint_agent.cli"]


async def _agent(*args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    return await asyncio.create_subprocess_exec(
        *AGENT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env)


async def test_enroll_run_and_stop_with_the_real_cli(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """The CLI enrolls, runs until the device is online with its inventory, stops on SIGTERM."""
    assert server.tls is not None
    token = (await create_token(admin))["token"]
    state = str(tmp_path / "agent")
    enroll = await _agent("enroll", server.base_url, "--token", token, "--fingerprint",
                          server.tls.fingerprint, "--state-dir", state)
    out, err = await enroll.communicate()
    assert enroll.returncode == 0, err.decode()
    assert b"enrolled as device" in out
    again = await _agent("enroll", server.base_url, "--token", token, "--fingerprint",
                         server.tls.fingerprint, "--state-dir", state)
    _, err = await again.communicate()
    assert again.returncode == 2 and b"already enrolled" in err

    run = await _agent("run", "--state-dir", state, "--heartbeat", "0.2")
    try:
        async def online_with_inventory() -> bool:
            items = (await admin.get("/api/v1/devices?online=true")).json["items"]
            if not items:
                return False
            detail = await admin.get(f"/api/v1/devices/{items[0]['id']}")
            return "softwares" in detail.json["inventory"]

        await eventually(online_with_inventory, within=20)
        run.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(run.communicate(), 15)
        assert run.returncode == 0, err.decode()[-2000:]
    finally:
        if run.returncode is None:
            run.kill()
            await run.wait()

    async def offline() -> bool:
        return (await admin.get("/api/v1/devices?online=true")).json["items"] == []

    await eventually(offline)


async def test_enroll_with_wrong_fingerprint_fails_cleanly(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A wrong fingerprint ends enroll with exit 2 and a message, not a traceback."""
    token = (await create_token(admin))["token"]
    proc = await _agent("enroll", server.base_url, "--token", token, "--fingerprint",
                        "sha256:" + "ab" * 32, "--state-dir", str(tmp_path / "agent"))
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"refusing" in err and b"Traceback" not in err


async def test_run_without_enrollment_says_how_to_enroll(tmp_path: Path) -> None:
    """Running an agent that was never enrolled explains what to do."""
    proc = await _agent("run", "--state-dir", str(tmp_path / "agent"))
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"deskmate-agent enroll" in err


async def test_inventory_json_prints_every_section() -> None:
    """`deskmate-agent inventory --json` prints the sections the agent would send."""
    proc = await _agent("inventory", "--json")
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    inventory = json.loads(out)
    assert {"operatingsystem", "hardware", "cpus", "drives", "networks", "softwares"} <= set(
        inventory)
