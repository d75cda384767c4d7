"""Benchmark: N simulated agents connect, authenticate and heartbeat over real TLS WebSockets.

Prints figures, never passes or fails. For each N it starts a fresh server (its own
temporary data directory, devices registered straight into the database as a fixture),
spreads N agents over a few worker processes that each run the real protocol (challenge,
signed TLS-bound hello, welcome, heartbeats) with the ``websockets`` client, and reports
connections held, connect rate, heartbeat round-trip times, and the server's RSS per
connection and CPU use.

Issue target: 10,000 agents on a 2-core machine, heartbeat p99 under 100 ms, under 50 KB
of server memory per agent.

    .venv/bin/python bench/agents.py [--agents 1000 10000] [--workers 2] [--interval 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import multiprocessing as mp
import os
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from endpoint_agent.pinning import pinned_context
from server.app import open_database
from server.auth import credentials
from server.db.schema import devices, users, utcnow
from server.gc_policy import GcPolicy
from server.settings import load
from shared import agent_auth
from shared import protocol as p

SAMPLE = p.Metrics(cpu_percent=12.5, memory_percent=40.0, disk_percent=55.0, load1=0.5)
HANDSHAKE_TIMEOUT = 30.0  # TCP + TLS + upgrade, then each of challenge and welcome
ACK_TIMEOUT = 30.0  # a heartbeat without an answer by then counts as lost
WARMUP_AGENTS = 5  # per worker, connected and closed before the baseline RSS
LAG_TICK = 0.05  # the workers' own event-loop lag is sampled this often


class BenchError(Exception):
    """The benchmark could not run (server or workers failed)."""


# --- small helpers ---------------------------------------------------------------------


def raise_nofile() -> tuple[int, int]:
    """Raise the soft open-files limit to the hard limit; return the new (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def percentile(values: list[float], q: float) -> float:
    """Return the nearest-rank ``q`` percentile (0-100) of ``values`` (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


def mb(size: float) -> str:
    """Format bytes as MB."""
    return f"{size / 1e6:.1f} MB"


# --- worker process: the simulated agents ----------------------------------------------


@dataclass
class WorkerConfig:
    """What one worker process needs: where to connect and its share of devices."""

    url: str
    ca_pem: bytes
    devices: list[tuple[str, bytes]]  # (device id, raw Ed25519 private key)
    inflight: int
    interval: float
    seed: int


@dataclass
class WorkerState:
    """What one worker has seen; sent to the bench process when asked."""

    handshakes: list[tuple[float, float]] = field(default_factory=list)  # (start, end)
    failures: Counter[str] = field(default_factory=Counter)
    sends: list[float] = field(default_factory=list)  # heartbeat send times (monotonic)
    acks: list[tuple[float, float]] = field(default_factory=list)  # (send time, rtt)
    ack_timeouts: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    lag: list[tuple[float, float]] = field(default_factory=list)  # (time, loop lag)


class Worker:
    """Run a share of the agents in one process and answer the bench's commands."""

    def __init__(self, pipe: Pipe, config: WorkerConfig) -> None:
        self.pipe = pipe
        self.config = config
        self.ctx = pinned_context(config.ca_pem)
        self.keys = [(uid, Ed25519PrivateKey.from_private_bytes(raw))
                     for uid, raw in config.devices]
        self.rng = random.Random(config.seed)
        self.state = WorkerState()
        self.conns: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.attempted = 0
        self.all_attempted = asyncio.Event()

    async def run(self) -> None:
        """Answer commands until told to close."""
        lag = asyncio.create_task(self._lag_monitor())
        # A worker simulates thousands of agents in one process, so its own collector
        # would pause it the way the server's did (a real agent has one connection): it
        # runs the server's policy, so the round trips measure the server, not the harness.
        policy = GcPolicy()
        policy.start()
        freezer = asyncio.create_task(policy.run())
        self.pipe.send(("ready", None))
        try:
            for _ in range(100):  # a handful of commands; bounded all the same
                command = await asyncio.to_thread(self.pipe.recv)
                if command == "warmup":
                    self.pipe.send(("warmed", await self._warmup()))
                elif command == "connect":
                    await self._connect_all()
                    self.pipe.send(("connected", {"handshakes": self.state.handshakes,
                                                  "failures": dict(self.state.failures)}))
                elif command == "report":
                    self.pipe.send(("report", self._report()))
                elif command == "close":
                    await self._close_all()
                    self.pipe.send(("closed", None))
                    return
        finally:
            lag.cancel()
            freezer.cancel()

    async def _lag_monitor(self) -> None:
        """Sample how late this worker's own loop wakes up (it adds to every RTT)."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_TICK
            await asyncio.sleep(LAG_TICK)
            now = time.monotonic()
            self.state.lag.append((now, max(0.0, loop.time() - due)))

    async def _open(self, uid: str, key: Ed25519PrivateKey) -> ClientConnection:
        """Connect and authenticate one device the way the real agent does."""
        ws = await connect(
            self.config.url, ssl=self.ctx, compression=None, ping_interval=None,
            open_timeout=HANDSHAKE_TIMEOUT, close_timeout=5, max_size=p.MAX_MESSAGE_BYTES,
            user_agent_header="deskmate-bench")
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                challenge = p.decode_server_message(await ws.recv())
            if not isinstance(challenge, p.Challenge):
                raise p.ProtocolError(p.UNEXPECTED, f"expected challenge, got {challenge!r}")
            cert = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
            binding = agent_auth.channel_binding(cert)
            await ws.send(p.encode(p.Hello(
                protocol=p.PROTOCOL_VERSION, device_id=uid, agent_version="bench",
                capabilities=["metrics"],
                signature=agent_auth.sign(key, challenge.nonce, uid, binding))))
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                welcome = p.decode_server_message(await ws.recv())
            if not isinstance(welcome, p.Welcome):
                raise p.ProtocolError(p.UNEXPECTED, f"expected welcome, got {welcome!r}")
        except BaseException:
            ws.transport.abort()
            raise
        return ws

    async def _warmup(self) -> int:
        """Connect, heartbeat once and close a few agents, so the server has warmed up."""

        async def one(uid: str, key: Ed25519PrivateKey) -> bool:
            try:
                ws = await self._open(uid, key)
                await ws.send(p.encode(p.Heartbeat(seq=0, metrics=SAMPLE)))
                async with asyncio.timeout(ACK_TIMEOUT):
                    await ws.recv()
                await ws.close()
            except Exception as exc:
                self.state.failures[f"warm-up: {type(exc).__name__}: {str(exc)[:100]}"] += 1
                return False
            return True

        # At once, so the server's database reader threads start now, not during the run.
        done = await asyncio.gather(*(one(uid, key) for uid, key in self.keys[:WARMUP_AGENTS]))
        return sum(done)

    async def _connect_all(self) -> None:
        """Start every agent; return once each has authenticated or failed."""
        gate = asyncio.Semaphore(self.config.inflight)
        self.tasks = [asyncio.create_task(self._agent(uid, key, gate))
                      for uid, key in self.keys]
        await self.all_attempted.wait()  # every attempt is bounded by its timeouts

    def _attempt_done(self) -> None:
        self.attempted += 1
        if self.attempted == len(self.keys):
            self.all_attempted.set()

    async def _agent(self, uid: str, key: Ed25519PrivateKey, gate: asyncio.Semaphore) -> None:
        """One agent: authenticate (a bounded number at a time), then heartbeat."""
        async with gate:
            start = time.monotonic()
            try:
                ws = await self._open(uid, key)
            except Exception as exc:
                self.state.failures[f"{type(exc).__name__}: {str(exc)[:100]}"] += 1
                self._attempt_done()
                return
            self.state.handshakes.append((start, time.monotonic()))
            self.conns.append(ws)
        self._attempt_done()
        await self._heartbeats(ws)

    async def _heartbeats(self, ws: ClientConnection) -> None:
        """Heartbeat at once (as the agent does), then every interval from a random phase."""
        interval = self.config.interval
        due = time.monotonic()
        seq = 0
        try:
            while True:
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.monotonic()
                self.state.sends.append(sent)
                await ws.send(p.encode(p.Heartbeat(seq=seq, metrics=SAMPLE)))
                await self._await_ack(ws, seq, sent)
                due = sent + self.rng.uniform(0, interval) if seq == 0 else due + interval
                due = max(due, time.monotonic())  # late: no catch-up burst
                seq += 1
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            self.state.closed[f"{code} {reason}".strip() if code else "no close frame"] += 1
        except p.ProtocolError as exc:
            self.state.closed[f"protocol error {exc.code}"] += 1
            await ws.close()

    async def _await_ack(self, ws: ClientConnection, seq: int, sent: float) -> None:
        """Wait for the heartbeat_ack of ``seq``; record its round trip or a timeout."""
        deadline = sent + ACK_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, remaining)):
                    frame = await ws.recv()
            except TimeoutError:
                self.state.ack_timeouts += 1
                return
            message = p.decode_server_message(frame)
            if isinstance(message, p.HeartbeatAck):
                if message.seq == seq:
                    self.state.acks.append((sent, time.monotonic() - sent))
                    return
                continue  # the late answer to an earlier heartbeat
            self.state.unexpected[type(message).__name__] += 1

    def _report(self) -> dict[str, Any]:
        held = sum(1 for ws in self.conns if ws.state is State.OPEN)
        s = self.state
        return {"held": held, "sends": s.sends, "acks": s.acks, "ack_timeouts": s.ack_timeouts,
                "unexpected": dict(s.unexpected), "closed": dict(s.closed), "lag": s.lag}

    async def _close_all(self) -> None:
        """Stop the heartbeats and close every connection (bounded in time)."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        gate = asyncio.Semaphore(200)

        async def close(ws: ClientConnection) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await ws.close()

        try:
            async with asyncio.timeout(30):
                await asyncio.gather(*(close(ws) for ws in self.conns))
        except TimeoutError:
            for ws in self.conns:
                ws.transport.abort()


def worker_main(pipe: Pipe, config: WorkerConfig) -> None:
    """Entry point of a worker process."""
    raise_nofile()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the bench process decides when to stop
    asyncio.run(Worker(pipe, config).run())


# --- bench process: fixture, server, orchestration -------------------------------------


@dataclass
class Summary:
    """One row of the final table."""

    agents: int
    held: int
    server_online: int | None
    connect_rate: float
    rss_per_conn: float
    rss_per_conn_end: float
    p50: float
    p99: float
    cpu_window: float


def server_command() -> list[str]:
    """Return the command that runs deskmate-server from this environment."""
    script = Path(sys.executable).parent / "deskmate-server"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


def make_devices(n: int) -> list[tuple[str, bytes, bytes]]:
    """Return ``n`` (device id, private key, public key) triples, all raw bytes."""
    out = []
    for _ in range(n):
        key = Ed25519PrivateKey.generate()
        out.append((str(uuid.uuid4()), key.private_bytes_raw(), agent_auth.public_bytes(key)))
    return out


def register(data: Path, devs: list[tuple[str, bytes, bytes]]) -> str:
    """Write the devices as enrolled (a fixture) and return an admin API token."""
    settings = load(overrides={"data": str(data)})
    db = open_database(settings)
    try:
        def run(conn: Connection) -> str:
            now = utcnow()
            conn.execute(devices.insert(), [
                {"uid": uid, "public_key": public, "hostname": f"bench-{i:05d}",
                 "os_name": "Debian GNU/Linux", "os_version": "12", "serial": "",
                 "logged_in_users": "", "agent_version": "bench", "group_id": None,
                 "enrollment_token_id": None, "enrolled_at": now, "last_address": ""}
                for i, (uid, _private, public) in enumerate(devs)])
            admin_id = conn.execute(sa.select(users.c.id).where(
                users.c.username == settings.admin_username.strip().lower())).scalar_one()
            return credentials.create_token(conn, admin_id, "bench", now=now,
                                            expires_at=None).secret
        return db.write_sync(run)
    finally:
        db.close()


def https_get(port: int, ctx: ssl.SSLContext, path: str,
              token: str | None = None) -> tuple[int, Any]:
    """GET a JSON resource from the server."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else None
    finally:
        conn.close()


def wait_healthy(port: int, ctx: ssl.SSLContext, server: subprocess.Popen[bytes]) -> None:
    """Wait (up to 60 s) for /healthz to answer ok."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"server exited with code {server.returncode} while starting")
        with contextlib.suppress(OSError, ValueError):
            status, _ = https_get(port, ctx, "/healthz")
            if status == 200:
                return
        time.sleep(0.2)
    raise BenchError("server did not become healthy within 60 s")


def online_count(port: int, ctx: ssl.SSLContext, token: str, n: int) -> int:
    """Count online devices as the server sees them, paging the device list by 200."""
    count, cursor = 0, None
    for _ in range(n // 200 + 5):
        path = "/api/v1/devices?online=true&limit=200"
        if cursor:
            path += f"&cursor={cursor}"
        status, body = https_get(port, ctx, path, token)
        if status != 200:
            raise BenchError(f"device list answered {status}: {body}")
        count += len(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return count


def expect(workers: list[tuple[mp.process.BaseProcess, Pipe]], reply: str,
           timeout: float) -> list[Any]:
    """Collect one ``reply`` from every worker within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    out = []
    for proc, pipe in workers:
        while not pipe.poll(0.5):
            if not proc.is_alive():
                raise BenchError(f"worker {proc.pid} exited with code {proc.exitcode}")
            if time.monotonic() > deadline:
                raise BenchError(f"worker {proc.pid} did not answer {reply!r} "
                                 f"within {timeout:.0f} s")
        kind, payload = pipe.recv()
        if kind != reply:
            raise BenchError(f"worker {proc.pid} answered {kind!r}, expected {reply!r}")
        out.append(payload)
    return out


def broadcast(workers: list[tuple[mp.process.BaseProcess, Pipe]], command: str) -> None:
    """Send a command to every worker."""
    for _, pipe in workers:
        pipe.send(command)


def cpu_percent(procs: list[psutil.Process]) -> float:
    """Return the summed CPU % of ``procs`` since the previous call (100 = one core)."""
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.cpu_percent(None)
    return total


def server_log_summary(path: Path, limit: int = 15) -> list[str]:
    """Return the server's stderr lines, timestamps removed, counted when repeated."""
    if not path.exists():
        return []
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
    conn_id = re.compile(r"agent-[0-9a-f]{8}")
    counts: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        counts[conn_id.sub("agent-…", stamp.sub("", line))] += 1
    return [f"{n:>6} x {text[:200]}" for text, n in counts.most_common(limit)]


def stop_process(proc: subprocess.Popen[bytes] | mp.process.BaseProcess,
                 timeout: float) -> None:
    """Terminate a child process, killing it if it does not exit in time."""
    if isinstance(proc, subprocess.Popen):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join(5)


def bench(n: int, opts: argparse.Namespace) -> Summary:
    """Run one benchmark with ``n`` agents and print its figures."""
    load1, load5, _ = os.getloadavg()
    print(f"\n== N = {n} agents (machine load average {load1:.1f} / {load5:.1f} "
          "before starting) ==", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="deskmate-bench-"))
    data = tmp / "data"
    port = free_port()
    env = {**os.environ, "DESKMATE_DATA": str(data), "DESKMATE_HOST": "127.0.0.1",
           "DESKMATE_PORT": str(port), "DESKMATE_LOG_LEVEL": "WARNING",
           "DESKMATE_ADMIN_PASSWORD": secrets.token_urlsafe(18)}
    if opts.gc_full_minutes is not None:
        env["DESKMATE_GC_FULL_MINUTES"] = str(opts.gc_full_minutes)
    server: subprocess.Popen[bytes] | None = None
    workers: list[tuple[mp.process.BaseProcess, Pipe]] = []
    try:
        subprocess.run([*server_command(), "init"], env=env, check=True,
                       capture_output=True, timeout=120)
        started = time.monotonic()
        devs = make_devices(n)
        token = register(data, devs)
        print(f"fixture: {n} devices with Ed25519 keys written to the database in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        ca_pem = (data / "tls" / "ca.pem").read_bytes()
        ctx = pinned_context(ca_pem)
        err_path = tmp / "server.stderr"
        with (tmp / "server.stdout").open("wb") as out, err_path.open("wb") as err:
            server = subprocess.Popen([*server_command(), "run"], env=env, stdout=out,
                                      stderr=err)
        wait_healthy(port, ctx, server)
        sproc = psutil.Process(server.pid)
        rss_start = sproc.memory_info().rss

        spawn = mp.get_context("spawn")
        url = f"wss://127.0.0.1:{port}{p.WS_PATH}"
        shares = [devs[i::opts.workers] for i in range(opts.workers)]
        for i, share in enumerate(shares):
            parent, child = spawn.Pipe()
            config = WorkerConfig(url=url, ca_pem=ca_pem,
                                  devices=[(uid, private) for uid, private, _ in share],
                                  inflight=opts.inflight, interval=opts.interval, seed=i)
            proc = spawn.Process(target=worker_main, args=(child, config), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
        expect(workers, "ready", 120)
        wprocs = [psutil.Process(proc.pid) for proc, _ in workers if proc.pid is not None]

        broadcast(workers, "warmup")
        warmed = sum(expect(workers, "warmed", 120))
        time.sleep(2)
        rss_before = sproc.memory_info().rss
        print(f"server RSS: {mb(rss_start)} when healthy, {mb(rss_before)} after a warm-up "
              f"of {warmed} agents (connected at once, one heartbeat, closed): the baseline",
              flush=True)

        cpu_percent([sproc, *wprocs])
        psutil.cpu_percent(None)
        t_go = time.monotonic()
        broadcast(workers, "connect")
        connected = expect(workers, "connected", 120 + n / 10)
        t_connected = time.monotonic()
        cpu_server_connect = sproc.cpu_percent(None)
        cpu_workers_connect = cpu_percent(wprocs)
        cpu_other_connect = (psutil.cpu_percent(None) * (psutil.cpu_count() or 1)
                             - cpu_server_connect - cpu_workers_connect)
        rss_connected = sproc.memory_info().rss
        handshakes = [h for c in connected for h in c["handshakes"]]
        failures: Counter[str] = Counter()
        for c in connected:
            failures.update(c["failures"])
        ok = len(handshakes)
        last = max((end for _, end in handshakes), default=t_go)
        rate = ok / (last - t_go) if last > t_go else float("nan")
        durations = [end - start for start, end in handshakes]
        print(f"connect: {ok}/{n} authenticated in {last - t_go:.1f} s -> {rate:.0f} "
              f"connections/s ({opts.workers} workers x {opts.inflight} handshakes in "
              f"flight); handshake p50 {ms(percentile(durations, 50))}, "
              f"p99 {ms(percentile(durations, 99))}, max {ms(max(durations, default=0))}",
              flush=True)
        for text, count in failures.most_common(10):
            print(f"  failed: {count} x {text}")
        print(f"  CPU during connect: server {cpu_server_connect:.0f}%, workers "
              f"{cpu_workers_connect:.0f}%, other processes {max(0.0, cpu_other_connect):.0f}%")
        grown = rss_connected - rss_before
        print(f"server RSS after connect: {mb(rss_connected)} (+{mb(grown)}, "
              f"{grown / max(ok, 1) / 1024:.1f} KB per connection)", flush=True)

        time.sleep(opts.settle)
        sproc.cpu_percent(None)
        cpu_percent(wprocs)
        psutil.cpu_percent(None)
        w_start = time.monotonic()
        time.sleep(opts.window)
        w_end = time.monotonic()
        cpu_server = sproc.cpu_percent(None)
        cpu_workers = cpu_percent(wprocs)
        cpu_other = psutil.cpu_percent(None) * (psutil.cpu_count() or 1) - cpu_server - cpu_workers
        rss_end = sproc.memory_info().rss
        time.sleep(min(5.0, ACK_TIMEOUT))  # answers to the window's last heartbeats
        if server.poll() is not None:
            raise BenchError(f"server exited with code {server.returncode}")
        broadcast(workers, "report")
        reports = expect(workers, "report", 120)

        held = sum(r["held"] for r in reports)
        sends = [t for r in reports for t in r["sends"]]
        acks = [(t, rtt) for r in reports for t, rtt in r["acks"]]
        in_window = [rtt for t, rtt in acks if w_start <= t < w_end]
        sent_window = sum(1 for t in sends if w_start <= t < w_end)
        in_connect = [rtt for t, rtt in acks if t_go <= t < t_connected]
        lag = [v for r in reports for t, v in r["lag"] if w_start <= t < w_end]
        closed: Counter[str] = Counter()
        unexpected: Counter[str] = Counter()
        for r in reports:
            closed.update(r["closed"])
            unexpected.update(r["unexpected"])
        timeouts = sum(r["ack_timeouts"] for r in reports)

        print(f"heartbeats in the {opts.window:.0f} s window (every {opts.interval:g} s per "
              f"agent, {opts.settle:g} s after the last connect): sent {sent_window} "
              f"({sent_window / opts.window:.0f}/s), acked {len(in_window)}, "
              f"unanswered {sent_window - len(in_window)}")
        print(f"  RTT p50 {ms(percentile(in_window, 50))}, p99 {ms(percentile(in_window, 99))}, "
              f"max {ms(max(in_window, default=float('nan')))}")
        print(f"  worker loop lag in window (part of every RTT): p50 "
              f"{ms(percentile(lag, 50))}, p99 {ms(percentile(lag, 99))}, "
              f"max {ms(max(lag, default=float('nan')))}")
        print(f"  during the connect phase: {len(in_connect)} acked, RTT p50 "
              f"{ms(percentile(in_connect, 50))}, p99 {ms(percentile(in_connect, 99))}")
        if timeouts or unexpected:
            print(f"  ack timeouts ({ACK_TIMEOUT:g} s): {timeouts}; unexpected messages: "
                  f"{dict(unexpected) or 'none'}")
        print(f"CPU during window: server {cpu_server:.0f}%, workers {cpu_workers:.0f}%, "
              f"other processes {max(0.0, cpu_other):.0f}% (100% = one core; "
              f"{psutil.cpu_count()} cores)")
        grown_end = rss_end - rss_before
        print(f"server RSS after window: {mb(rss_end)} (+{mb(grown_end)}, "
              f"{grown_end / max(held, 1) / 1024:.1f} KB per held connection)")

        server_online: int | None = None
        try:
            started = time.monotonic()
            server_online = online_count(port, ctx, token, n)
            print(f"connections held at the end: {held} (workers' view), {server_online} "
                  f"(server's view: online devices via the API, counted in "
                  f"{time.monotonic() - started:.1f} s)")
        except (BenchError, OSError, ValueError, KeyError) as exc:
            print(f"connections held at the end: {held} (workers' view); server's view "
                  f"unavailable: {exc}")
        for text, count in closed.most_common(10):
            print(f"  closed early: {count} x {text}")

        broadcast(workers, "close")
        expect(workers, "closed", 90)
        return Summary(agents=n, held=held, server_online=server_online, connect_rate=rate,
                       rss_per_conn=grown / max(ok, 1) / 1024,
                       rss_per_conn_end=grown_end / max(held, 1) / 1024,
                       p50=percentile(in_window, 50), p99=percentile(in_window, 99),
                       cpu_window=cpu_server)
    finally:
        for proc, pipe in workers:
            stop_process(proc, 10)
            pipe.close()
        if server is not None:
            stop_process(server, 20)
            lines = server_log_summary(tmp / "server.stderr")
            print(f"server stderr (exit code {server.returncode}): "
                  f"{'empty' if not lines else ''}")
            for line in lines:
                print(f"  {line}")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    """Run the benchmark for each requested N and print a summary table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1000, 10000],
                        help="numbers of agents, one run each (default 1000 10000)")
    parser.add_argument("--workers", type=int, default=2,
                        help="client processes the agents are spread over (default 2)")
    parser.add_argument("--inflight", type=int, default=100,
                        help="handshakes in flight per worker (default 100)")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="heartbeat interval per agent in seconds (default 10; the "
                             "real agent uses 30)")
    parser.add_argument("--window", type=float, default=30.0,
                        help="heartbeat measurement window in seconds (default 30)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="pause between the last connect and the window (default 2)")
    parser.add_argument("--gc-full-minutes", type=int, default=None,
                        help="the server's gc_full_minutes (default: the server's default; "
                             "1 puts a full collection inside a 70 s window)")
    opts = parser.parse_args()

    print("$ " + " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]))
    soft, hard = raise_nofile()
    print(f"machine: {psutil.cpu_count()} cores, {mb(psutil.virtual_memory().total)} RAM, "
          f"Python {sys.version.split()[0]}; open files limit raised to {soft} (hard {hard})")
    print(f"settings: agents {opts.agents}, {opts.workers} workers, {opts.inflight} "
          f"handshakes in flight per worker, heartbeat every {opts.interval:g} s, "
          f"window {opts.window:g} s, settle {opts.settle:g} s, server gc_full_minutes "
          f"{'default' if opts.gc_full_minutes is None else opts.gc_full_minutes}")
    print("target: 10000 agents, heartbeat p99 < 100 ms, < 50 KB server RSS per agent",
          flush=True)
    needed = max(opts.agents) + 100
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"warning: the open files limit {soft} is below {needed}; the server will "
              "run out of descriptors")

    results: list[Summary] = []
    for n in opts.agents:
        try:
            results.append(bench(n, opts))
        except (BenchError, subprocess.SubprocessError, OSError) as exc:
            print(f"N = {n}: benchmark could not complete: {exc}", flush=True)

    print("\n== summary ==")
    print(f"{'agents':>7} {'held':>7} {'online':>7} {'conn/s':>7} {'KB/conn':>8} "
          f"{'KB/conn end':>11} {'p50 ms':>7} {'p99 ms':>7} {'srv CPU':>8}")
    for r in results:
        online = "-" if r.server_online is None else str(r.server_online)
        print(f"{r.agents:>7} {r.held:>7} {online:>7} {r.connect_rate:>7.0f} "
              f"{r.rss_per_conn:>8.1f} {r.rss_per_conn_end:>11.1f} {r.p50 * 1000:>7.1f} "
              f"{r.p99 * 1000:>7.1f} {r.cpu_window:>7.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
