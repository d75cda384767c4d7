"""Benchmark: the agent's memory when idle, with a remote session open, and after it.

Prints figures, never passes or fails. Starts its own Xvfb, a real server (in this
process, TLS on loopback) and a real ``deskmate-agent run`` in a separate process, as a
machine runs it. It reads the agent's RSS and PSS (``/proc/PID/smaps_rollup``: PSS
shares each shared page among the processes that map it) and those of its children:

1. idle, connected, after its first inventory and a few heartbeats;
2. with a remote session open (consent clicked through XTEST, the first frame drawn by a
   viewer that decodes nothing);
3. after the session has ended.

Beside the agent, the same run imports the agent's idle modules and the session
modules in fresh interpreters, so the share of the capture stack is visible.

    .venv/bin/python bench/agent_memory.py [--settle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from endpoint_agent.remote import ui
from shared import screen
from tests.support.agents import enroll_device
from tests.support.remote import ticket_with_device
from tests.support.server import ADMIN_PASSWORD, start_server
from tests.support.xapps import click, wait_window
from tests.support.xvfb import xvfb_display

IMPORTS = r'''
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
rollup = {}
for line in open("/proc/self/smaps_rollup"):
    parts = line.split()
    if parts[0] in ("Rss:", "Pss:"):
        rollup[parts[0][:-1]] = int(parts[1]) * 1024
print(json.dumps(rollup))
'''
IDLE_MODULES = ["endpoint_agent.cli", "endpoint_agent.connection", "endpoint_agent.inventory",
                "endpoint_agent.health.runner", "endpoint_agent.sampling",
                "endpoint_agent.tray.local"]
SESSION_MODULES = ["endpoint_agent.remote.capture", "endpoint_agent.remote.inject",
                   "endpoint_agent.remote.clipboard"]


def memory(pid: int) -> tuple[int, int]:
    """Return the RSS and PSS of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                values[parts[0]] = int(parts[1]) * 1024
    return values["Rss:"], values["Pss:"]


def snapshot(proc: psutil.Process) -> dict[str, Any]:
    """Return the memory of the agent and of each of its children (name, RSS, PSS)."""
    rss, pss = memory(proc.pid)
    children = []
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error, FileNotFoundError, ProcessLookupError):
            c_rss, c_pss = memory(child.pid)
            cmd = child.cmdline()
            children.append((" ".join(Path(a).name for a in cmd[1:3]) or child.name(),
                             c_rss, c_pss))
    return {"rss": rss, "pss": pss, "children": children,
            "modules": None}


def imported(modules: list[str]) -> dict[str, int]:
    """Return RSS and PSS of a fresh interpreter after importing ``modules``."""
    out = subprocess.run([sys.executable, "-c", IMPORTS, *modules], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    return dict(json.loads(out.stdout))


async def wait_online(admin: Any) -> int:
    """Wait for the agent's device to be online; return its id."""
    async with asyncio.timeout(30):
        while True:
            items = (await admin.get("/api/v1/devices")).json["items"]
            online = [d for d in items if d["online"]]
            if online:
                return int(online[0]["id"])
            await asyncio.sleep(0.1)


async def bench(opts: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="deskmate-memory-") as tmp, \
            xvfb_display(width=1920, height=1080) as display:
        env = {**os.environ, "DISPLAY": display}
        server = await start_server(Path(tmp) / "data")
        print(f"server on {server.base_url}", flush=True)
        agent_proc: subprocess.Popen[bytes] | None = None
        agent_err = None
        rows: list[tuple[str, dict[str, Any]]] = []
        try:
            admin = await server.login("admin", ADMIN_PASSWORD)
            state, _enrollment = await enroll_device(server, admin, Path(tmp) / "agent")
            command = [sys.executable, *(["-X", "importtime"] if opts.importtime else []),
                       "-m", "endpoint_agent.cli", "run", "--state-dir", str(state.dir),
                       "--display", display]
            if opts.importtime:
                agent_err = await asyncio.to_thread(Path(opts.importtime).open, "wb")
            agent_proc = await asyncio.to_thread(
                subprocess.Popen, command, env=env, stdout=subprocess.DEVNULL,
                stderr=agent_err or subprocess.DEVNULL)
            ps = psutil.Process(agent_proc.pid)
            device_id = await wait_online(admin)
            print("agent online; settling", flush=True)
            await asyncio.sleep(opts.settle)  # inventory sent, a few heartbeats
            rows.append(("idle (connected)", snapshot(ps)))
            if opts.smaps:
                smaps = await asyncio.to_thread(Path(f"/proc/{ps.pid}/smaps").read_text)
                await asyncio.to_thread(Path(opts.smaps).write_text, smaps)

            ticket = await ticket_with_device(admin, device_id)
            resp = await admin.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                    json={"reason": "benchmark", "mode": "view"})
            sid = resp.json["id"]
            url = server.base_url.replace("https://", "wss://") + \
                f"/api/v1/remote-sessions/{sid}/ws"
            async with admin.session.ws_connect(
                    url, headers={"Origin": server.base_url}, compress=0,
                    max_msg_size=screen.MAX_FRAME_BYTES) as ws:
                await ws.send_str(json.dumps({"type": "hello", "csrf": admin.csrf_token}))
                wx, wy, _w, _h = await wait_window(display, ui.DIALOG_TITLE)
                await asyncio.sleep(0.5)  # let Tk draw its buttons before the click
                x, y, w, h = ui.ALLOW_BUTTON
                await asyncio.to_thread(click, display, wx + x + w // 2, wy + y + h // 2)
                print("consent given", flush=True)
                frames: list[int] = []
                first = asyncio.Event()

                async def viewer() -> None:
                    async for msg in ws:
                        if msg.type.name == "BINARY":
                            header = screen.read_header(msg.data)
                            frames.append(header.seq)
                            first.set()
                            await ws.send_str(json.dumps({"type": "ack", "seq": header.seq}))

                reading = asyncio.create_task(viewer())
                await asyncio.wait_for(first.wait(), 20)
                await asyncio.sleep(opts.settle)
                rows.append((f"session open ({len(frames)} frames drawn)", snapshot(ps)))
                await admin.post(f"/api/v1/remote-sessions/{sid}/end")
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
            await asyncio.sleep(opts.settle)
            rows.append(("after the session", snapshot(ps)))
        finally:
            if agent_proc is not None:
                agent_proc.terminate()
                try:
                    agent_proc.wait(10)
                except subprocess.TimeoutExpired:
                    agent_proc.kill()
            if agent_err is not None:
                agent_err.close()
            await server.close()

    idle_imports = await asyncio.to_thread(imported, IDLE_MODULES)
    session_imports = await asyncio.to_thread(imported, IDLE_MODULES + SESSION_MODULES)
    bare = await asyncio.to_thread(imported, [])

    def mb(n: float) -> str:
        return f"{n / 1024 / 1024:7.1f}"

    print(f"deskmate-agent run on Xvfb {display} 1920x1080, Python "
          f"{sys.version.split()[0]}; MiB\n")
    print(f"{'agent':36} {'RSS':>7} {'PSS':>7}   children (RSS / PSS)")
    for label, snap in rows:
        kids = ", ".join(f"{name} {mb(r).strip()} / {mb(p).strip()}"
                         for name, r, p in snap["children"]) or "none"
        print(f"{label:36} {mb(snap['rss'])} {mb(snap['pss'])}   {kids}")
    print(f"\n{'fresh interpreter importing':36} {'RSS':>7} {'PSS':>7}")
    for label, figures in (("nothing", bare), ("the idle agent's modules", idle_imports),
                           ("idle + session modules", session_imports)):
        print(f"{label:36} {mb(figures['Rss'])} {mb(figures['Pss'])}")
    print("\nRSS counts every page the process maps; PSS divides each shared page among the "
          "processes that map it. Target (issue 19): idle agent under 35 MB RSS.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds to let each state settle before it is measured")
    parser.add_argument("--importtime", metavar="FILE",
                        help="run the agent with -X importtime, its stderr (every import, "
                             "with its log) into FILE")
    parser.add_argument("--smaps", metavar="FILE",
                        help="also save the idle agent's /proc/PID/smaps (where its memory is)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
