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

Then file transfer throughput, in the same run, of one file of ``--file-mb`` MiB:

* through the server: an upload (one streamed PUT) and a download (one GET) of the Files
  tool by ``curl`` (its own process, as scp's client is) — curl -> server (TLS) -> agent
  link (TLS, base64 chunks) -> agent -> disk, and back, SHA-256 checked at both ends;
* beside ``scp`` (OpenSSH, its default cipher) to and from an ``sshd`` this bench starts
  on a loopback port with a throwaway host key and user key (``apt-get install -y
  openssh-server``; without ``/usr/sbin/sshd`` that line is skipped).

The files live in a temporary folder (page cache, as for scp). ``--file-mb 0`` skips this.

    .venv/bin/python bench/toolbox.py [--keys 500] [--file-mb 512]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
        proc, device_id = await _agent_device(server, admin, tmp)
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


async def _agent_device(server: Any, admin: Any, tmp: Path, *args: str,
                        ) -> tuple[subprocess.Popen[bytes], int]:
    """Start a real agent process; return it and its device id once online (unattended)."""
    state, _ = await enroll_device(server, admin, tmp / "agent")
    command = [sys.executable, "-c", "import sys; from endpoint_agent.cli import main; "
               "sys.exit(main())", "run", "--state-dir", str(state.dir), "--no-remote",
               "--terminal-user", own_login(), *args]
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
    return proc, device_id


async def files_through_server(size: int, source: Path, tmp: Path) -> tuple[float, float]:
    """Return the seconds of an upload and of a download of ``source`` through the server."""
    import hashlib

    from tests.support.toolbox import files_session

    root = tmp / "device"
    root.mkdir()
    server = await start_server(tmp / "data")
    proc: subprocess.Popen[bytes] | None = None
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        proc, device_id = await _agent_device(server, admin, tmp, "--files-root", str(root))
        ticket = await ticket_with_device(admin, device_id, assignee_id=admin.user["id"])
        sid = await files_session(admin, ticket["id"])
        sha = await asyncio.to_thread(lambda: hashlib.file_digest(
            source.open("rb"), "sha256").hexdigest())
        base = f"{server.base_url}/api/v1/tool-sessions/{sid}/files/content"
        token = (await admin.post("/api/v1/auth/tokens", json={"name": "bench"})).json["token"]
        # curl is the client, in its own process like scp's, over TLS like the console.
        curl = ["curl", "-sS", "--fail-with-body", "-k", "-H", f"Authorization: Bearer {token}"]
        target = f"{root}/copy.bin"
        query = urlencode({"path": target, "size": size, "sha256": sha})
        started = time.perf_counter()
        put = await asyncio.to_thread(subprocess.run, [
            *curl, "-X", "PUT", "-H", "Content-Type: application/octet-stream",
            "--data-binary", f"@{source}", f"{base}?{query}"], capture_output=True, text=True)
        up = time.perf_counter() - started
        assert put.returncode == 0 and json.loads(put.stdout)["done"], put.stdout + put.stderr
        started = time.perf_counter()
        get = await asyncio.to_thread(subprocess.run, [
            *curl, "-o", str(tmp / "back.bin"), f"{base}?{urlencode({'path': target})}"],
            capture_output=True, text=True)
        down = time.perf_counter() - started
        assert get.returncode == 0 and (tmp / "back.bin").stat().st_size == size, get.stderr
        await admin.post(f"/api/v1/tool-sessions/{sid}/end")
        return up, down
    finally:
        if proc is not None:
            proc.terminate()
            await asyncio.to_thread(proc.wait)
        await server.close()


def scp_loopback(source: Path, tmp: Path) -> tuple[float, float] | None:
    """Return the seconds of scp to and from an sshd on loopback (None: no sshd here)."""
    import shutil
    import socket

    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists()
                                    else None)
    if sshd is None or shutil.which("scp") is None:
        return None
    ssh = tmp / "ssh"
    ssh.mkdir()
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(ssh / name)], check=True)
    (ssh / "authorized_keys").write_text((ssh / "user.pub").read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (ssh / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {ssh / 'host'}\n"
        f"PidFile {ssh / 'sshd.pid'}\nAuthorizedKeysFile {ssh / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin yes\nSubsystem sftp internal-sftp\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege-separation folder
    daemon = subprocess.Popen([sshd, "-D", "-e", "-f", str(ssh / "sshd_config")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s, contextlib.suppress(OSError):
                s.connect(("127.0.0.1", port))
                break
            time.sleep(0.05)
        scp = ["scp", "-q", "-P", str(port), "-i", str(ssh / "user"),
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes"]
        remote = f"{own_login()}@127.0.0.1:{tmp / 'scp-copy.bin'}"
        started = time.perf_counter()
        subprocess.run([*scp, str(source), remote], check=True)
        up = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([*scp, remote, str(tmp / "scp-back.bin")], check=True)
        down = time.perf_counter() - started
        return up, down
    finally:
        daemon.terminate()
        daemon.wait()


def rate(size: int, seconds: float) -> str:
    return f"{size / seconds / 1024**2:7.1f} MiB/s ({seconds:.2f} s)"


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
    if opts.file_mb:
        size = opts.file_mb * 1024 * 1024
        with tempfile.TemporaryDirectory(prefix="deskmate-files-") as tmp:
            source = Path(tmp) / "source.bin"
            with source.open("wb") as f:
                for _ in range(opts.file_mb):
                    f.write(os.urandom(1024 * 1024))
            up, down = await files_through_server(size, source, Path(tmp))
            ssh = await asyncio.to_thread(scp_loopback, source, Path(tmp))
        print(f"file of {opts.file_mb} MiB:")
        print(f"  upload through the server    {rate(size, up)}")
        print(f"  download through the server  {rate(size, down)}")
        if ssh is None:
            print("  scp: no sshd on this machine (apt-get install -y openssh-server)")
        else:
            print(f"  scp to loopback sshd         {rate(size, ssh[0])}  "
                  f"-> upload at {ssh[0] / up:.0%} of scp")
            print(f"  scp from loopback sshd       {rate(size, ssh[1])}  "
                  f"-> download at {ssh[1] / down:.0%} of scp")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--file-mb", type=int, default=512,
                        help="MiB of the file transfer figures (0: skip them)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
