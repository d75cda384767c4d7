"""Benchmark: keystroke-to-echo latency of a terminal through the server, beside a local pty.

Prints figures, never passes or fails. In the same run:

* baseline: a login shell (bash, readline echo) in a pty opened by the agent's own
  ``Terminal`` class in this process: a key written to the pty, timed until its echo is
  read back — what the shell and the kernel cost, with no network;
* through the server: the real server (TLS on loopback) and a real agent process
  (``deskmate-agent run --no-remote``) serving an unattended terminal; a key sent on the
  console's viewer socket, timed until its echo arrives on that socket — viewer -> server
  -> agent -> pty -> agent -> server -> viewer.

Keys alternate between a letter and DEL (so the line never grows); each sample waits for
the previous echo, with a short pause between keys like a fast typist.

    .venv/bin/python bench/toolbox.py [--keys 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from endpoint_agent.toolbox.terminal import Terminal, account
from tests.support.agents import enroll_device
from tests.support.remote import ticket_with_device
from tests.support.server import ADMIN_PASSWORD, start_server
from tests.support.toolbox import own_login, terminal

PAUSE = 0.01  # seconds between keys


def figures(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"p50 {statistics.median(ms):6.2f} ms  p99 {p99:6.2f} ms  "
            f"max {ms[-1]:6.2f} ms  ({len(ms)} keys)")


async def local_pty(keys: int) -> list[float]:
    """Time keys written straight to a local shell's pty until their echo is read."""
    echoed: asyncio.Queue[str] = asyncio.Queue()

    async def send(text: str) -> None:
        echoed.put_nowait(text)

    term = Terminal(await asyncio.to_thread(account, own_login()), cols=80, rows=24, send=send)
    await term.start()
    pump = asyncio.create_task(term.pump())
    await asyncio.sleep(1.0)  # the prompt
    while not echoed.empty():
        echoed.get_nowait()
    samples = []
    for i in range(keys):
        started = time.perf_counter()
        term.write("a" if i % 2 == 0 else "\x7f")
        await echoed.get()
        samples.append(time.perf_counter() - started)
        await asyncio.sleep(PAUSE)
        while not echoed.empty():
            echoed.get_nowait()
    await term.close()
    pump.cancel()
    return samples


async def through_server(keys: int, tmp: Path) -> list[float]:
    """Time keys sent on the viewer socket until their echo comes back on it."""
    server = await start_server(tmp / "data")
    proc: subprocess.Popen[bytes] | None = None
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        state, _ = await enroll_device(server, admin, tmp / "agent")
        command = [sys.executable, "-c", "import sys; from endpoint_agent.cli import main; "
                   "sys.exit(main())", "run", "--state-dir", str(state.dir), "--no-remote",
                   "--terminal-user", own_login()]
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        proc = await asyncio.to_thread(subprocess.Popen, command, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        device_id = None
        async with asyncio.timeout(30):
            while device_id is None:
                items = (await admin.get("/api/v1/devices")).json["items"]
                online = [d for d in items if d["online"]]
                device_id = online[0]["id"] if online else None
                await asyncio.sleep(0.1)
        gid = (await admin.post("/api/v1/groups", json={"name": "Bench"})).json["id"]
        await admin.put(f"/api/v1/groups/{gid}/remote-policy", json={"unattended": True})
        await admin.patch(f"/api/v1/devices/{device_id}", json={"group_id": gid})
        ticket = await ticket_with_device(admin, device_id, assignee_id=admin.user["id"])
        created = await admin.post(f"/api/v1/tickets/{ticket['id']}/tool-sessions",
                                   json={"reason": "bench"})
        sid = created.json["id"]
        async with terminal(server, admin, sid) as term:
            while (await term.next("status"))["state"] != "active":
                pass
            await asyncio.sleep(1.0)  # the prompt
            samples = []
            for i in range(keys):
                started = time.perf_counter()
                await term.typed("a" if i % 2 == 0 else "\x7f")
                await term.next("output")
                samples.append(time.perf_counter() - started)
                await asyncio.sleep(PAUSE)
                await _drain(term.ws)
        await admin.post(f"/api/v1/tool-sessions/{sid}/end")
        return samples
    finally:
        if proc is not None:
            proc.terminate()
            await asyncio.to_thread(proc.wait)
        await server.close()


async def _drain(ws: Any) -> None:
    """Read whatever else already arrived (a second output piece), without waiting."""
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), 0.001)
        except TimeoutError:
            return
        if msg.type.name != "TEXT" or json.loads(msg.data)["type"] == "ended":
            return


async def bench(opts: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    print(f"{psutil.cpu_count()} cores; load average {load:.2f}; {opts.keys} keys each")
    base = await local_pty(opts.keys)
    print(f"local pty (baseline)      {figures(base)}")
    with tempfile.TemporaryDirectory(prefix="deskmate-toolbox-") as tmp:
        relayed = await through_server(opts.keys, Path(tmp))
    print(f"through the server        {figures(relayed)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=500)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
