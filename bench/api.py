"""Measure the real Deskmate API over TLS against a bare aiohttp baseline; print figures.

Usage: ``python bench/api.py [--concurrency 32] [--seconds 5] [--sqlite-synchronous NORMAL]``

This script is the load generator. Each server (``deskmate-server run`` on a fresh data
directory, then a one-handler aiohttp app serving the same certificate) runs in its own
subprocess, one at a time, on 127.0.0.1. It is a benchmark, not a test: it never passes
or fails, it prints requests/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web

HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # first start runs migrations and makes a CA: a few seconds at most
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0
POLL_INTERVAL = 0.1
SCRIPT = Path(__file__).resolve()
TARGET_USERS_CPU_MS = 0.4  # issue 21: an authenticated GET of 20 users

# Build a body for request number ``seq`` of client ``worker``; None means a GET.
BodyFactory = Callable[[int, int], dict[str, Any] | None]


@dataclass
class Result:
    """What one measured scenario produced."""

    target: str
    label: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0  # CPU seconds the server process (all threads) used
    client_cpu: float = 0.0  # CPU seconds this load generator used

    def cpu_ms_per_request(self, cpu: float) -> float:
        """Return ``cpu`` seconds spread over the successful requests, in ms."""
        return cpu * 1000 / len(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def rate(self) -> float:
        """Return successful requests per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, pct: int) -> float:
        """Return the ``pct``-th latency percentile in ms (NaN with too few samples)."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[pct - 1]


# --- the baseline server (runs in a subprocess: ``api.py --serve-baseline``) ----------


async def _baseline_get(request: web.Request) -> web.Response:
    """Answer with a small fixed JSON object."""
    return web.json_response({"status": "ok", "items": [], "next_cursor": None})


async def _baseline_post(request: web.Request) -> web.Response:
    """Parse the JSON body and answer with it."""
    return web.json_response(await request.json(), status=201)


def serve_baseline(port: int, cert: Path, key: Path) -> None:
    """Serve the baseline app over TLS on 127.0.0.1 until SIGTERM."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # as server/tls.py, so handshakes match
    ctx.load_cert_chain(str(cert), str(key))
    app = web.Application()
    app.router.add_get("/ping", _baseline_get)
    app.router.add_post("/echo", _baseline_post)
    # No access log: a bare floor for aiohttp + TLS, not a model of Deskmate's logging.
    web.run_app(app, host=HOST, port=port, ssl_context=ctx, access_log=None,
                print=None, handle_signals=True)


# --- process management -------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_command() -> list[str]:
    """Return the argv that runs ``deskmate-server run`` from this interpreter's venv."""
    beside = Path(sys.executable).parent / "deskmate-server"
    exe = str(beside) if beside.exists() else shutil.which("deskmate-server")
    if exe is None:
        raise SystemExit("deskmate-server not found; install the package (pip install -e .)")
    return [exe, "run"]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """Return this environment minus any DESKMATE_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    env.update(extra)
    return env


@contextmanager
def subprocess_running(argv: list[str], *, env: dict[str, str],
                       log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` with output to ``log_path``; SIGTERM it (then SIGKILL) on exit."""
    # A file, not a pipe: nobody drains a pipe during the run and a full one would
    # stall the server's logging and so its requests.
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_TIMEOUT)


async def wait_ready(url: str, proc: subprocess.Popen[bytes], *,
                     ssl_ctx: Callable[[], ssl.SSLContext | None], log_path: Path) -> None:
    """Poll ``url`` until it answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "no attempt yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready; "
                             f"log:\n{log_tail(log_path)}")
        ctx = ssl_ctx()
        if ctx is not None:
            try:
                async with aiohttp.ClientSession() as session, session.get(
                        url, ssl=ctx, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        return
                    last = f"status {resp.status}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                last = repr(exc)
        await asyncio.sleep(POLL_INTERVAL)
    raise SystemExit(f"server at {url} not ready after {START_TIMEOUT:.0f}s: {last}")


def trusting(ca_file: Path) -> Callable[[], ssl.SSLContext | None]:
    """Return a factory of client contexts trusting ``ca_file`` once it exists."""

    def make() -> ssl.SSLContext | None:
        if not ca_file.exists():
            return None
        return ssl.create_default_context(cafile=str(ca_file))  # verification stays on

    return make


def log_tail(log_path: Path, *, chars: int = 4000) -> str:
    """Return the end of a server log."""
    return log_path.read_text(errors="replace")[-chars:]


def log_summary(log_path: Path) -> str:
    """Return counts of warning/error lines and tracebacks in a server log."""
    text = log_path.read_text(errors="replace")
    lines = text.splitlines()
    warnings = sum(" WARNING " in line for line in lines)
    errors = sum(" ERROR " in line or " CRITICAL " in line for line in lines)
    tracebacks = text.count("Traceback (most recent call last)")
    return (f"{len(lines)} lines, {warnings} WARNING, {errors} ERROR, "
            f"{tracebacks} tracebacks")


# --- the load generator -------------------------------------------------------------


async def _client(worker: int, *, url: str, ssl_ctx: ssl.SSLContext,
                  headers: dict[str, str], body: BodyFactory, ready: asyncio.Barrier,
                  start: asyncio.Event, stop_at: list[float], result: Result) -> None:
    """Be one keep-alive client: warm up once, then send requests back to back."""
    method = "GET" if body(worker, 0) is None else "POST"
    # One connection per client, as N real clients would hold; limit=1 keeps it so.
    connector = aiohttp.TCPConnector(limit=1, ssl=ssl_ctx)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=timeout) as session:
        # The warm-up request pays the TLS handshake; it is not counted. A failure is
        # recorded, not raised: every client must still reach the barrier.
        try:
            async with session.request(method, url, json=body(worker, 0)) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    result.errors[f"warm-up HTTP {resp.status}"] += 1
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            result.errors[f"warm-up {type(exc).__name__}"] += 1
        await ready.wait()
        await start.wait()
        for seq in itertools.count(1):
            if time.monotonic() >= stop_at[0]:
                break
            t0 = time.perf_counter()
            try:
                async with session.request(method, url, json=body(worker, seq)) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                result.errors[type(exc).__name__] += 1
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            if 200 <= status < 300:
                result.latencies_ms.append(elapsed)
            else:
                result.errors[f"HTTP {status}"] += 1


def cpu_seconds(proc: psutil.Process) -> float:
    """Return the user plus system CPU time of ``proc`` so far."""
    times = proc.cpu_times()
    return float(times.user + times.system)


async def measure(target: str, label: str, *, server: subprocess.Popen[bytes], url: str,
                  ssl_ctx: ssl.SSLContext, headers: dict[str, str], body: BodyFactory,
                  concurrency: int, seconds: float) -> Result:
    """Drive ``url`` with ``concurrency`` clients for ``seconds``; return the figures."""
    result = Result(target=target, label=label, seconds=seconds)
    # CPU time shows who saturates the two cores: the server, or this load generator.
    watched = psutil.Process(server.pid)
    ready = asyncio.Barrier(concurrency + 1)
    start = asyncio.Event()
    stop_at = [float("inf")]
    tasks = [
        asyncio.create_task(_client(i, url=url, ssl_ctx=ssl_ctx, headers=headers,
                                    body=body, ready=ready, start=start, stop_at=stop_at,
                                    result=result))
        for i in range(concurrency)
    ]
    await ready.wait()  # every client connected and warmed up
    server_cpu0, client_cpu0 = cpu_seconds(watched), time.process_time()
    t0 = time.monotonic()
    stop_at[0] = t0 + seconds
    start.set()
    await asyncio.gather(*tasks)
    # Requests in flight at the deadline finish after it; count the time they took.
    result.seconds = time.monotonic() - t0
    result.server_cpu = cpu_seconds(watched) - server_cpu0
    result.client_cpu = time.process_time() - client_cpu0
    return result


def get_body(worker: int, seq: int) -> None:
    """Send no body: the request is a GET."""
    return None


def group_body(run_id: str) -> BodyFactory:
    """Return a factory of group names unique within this run."""

    def make(worker: int, seq: int) -> dict[str, Any]:
        return {"name": f"bench-{run_id}-{worker}-{seq}"}

    return make


def echo_body(worker: int, seq: int) -> dict[str, Any]:
    """Return a body the same size as a group creation."""
    return {"name": f"bench-00000000-{worker}-{seq}"}


# --- the two servers ----------------------------------------------------------------


async def login_and_token(base: str, ssl_ctx: ssl.SSLContext, password: str) -> str:
    """Log in as admin and return a new API token."""
    # The session cookie comes from 127.0.0.1; the default jar refuses IP-address hosts.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.post(f"{base}/api/v1/auth/login", ssl=ssl_ctx,
                                json={"username": "admin", "password": password}) as resp:
            if resp.status != 200:
                raise SystemExit(f"login failed: {resp.status} {await resp.text()}")
            csrf = (await resp.json())["csrf_token"]
        async with session.post(f"{base}/api/v1/auth/tokens", ssl=ssl_ctx,
                                json={"name": "bench"},
                                headers={"X-CSRF-Token": csrf}) as resp:
            if resp.status != 201:
                raise SystemExit(f"token creation failed: {resp.status} {await resp.text()}")
            token: str = (await resp.json())["token"]
            return token


USERS = 25  # so that a page of 20 users is full


async def add_users(base: str, ssl_ctx: ssl.SSLContext, auth: dict[str, str], n: int) -> None:
    """Create ``n`` requesters (no password), so list pages hold real rows."""
    async with aiohttp.ClientSession(headers=auth) as session:
        for i in range(n):
            async with session.post(f"{base}/api/v1/users", ssl=ssl_ctx, json={
                    "username": f"bench-user-{i}", "display_name": f"Bench User {i}",
                    "role": "requester"}) as resp:
                if resp.status != 201:
                    raise SystemExit(f"user creation failed: {resp.status} {await resp.text()}")


@contextmanager
def profiling(directory: Path | None, pid: int, name: str) -> Iterator[None]:
    """Sample ``pid`` with py-spy while the block runs (``--profile``); write collapsed
    stacks (one line per stack and its sample count) to ``directory/name.txt``."""
    if directory is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{name}.txt"
    proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--rate",
                             "250", "--threads", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def bench_deskmate(args: argparse.Namespace, data: Path,
                         results: list[Result]) -> str:
    """Run the real server, measure list-users and create-group; return its log summary."""
    port = free_port()
    password = secrets.token_urlsafe(18)  # 24 characters; the server wants at least 10
    extra = {"DESKMATE_DATA": str(data), "DESKMATE_PORT": str(port),
             "DESKMATE_HOST": HOST, "DESKMATE_ADMIN_PASSWORD": password}
    if args.sqlite_synchronous:
        extra["DESKMATE_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
    if args.access_log == "off":
        extra["DESKMATE_ACCESS_LOG"] = "false"
    log_path = data.parent / "deskmate.log"
    base = f"https://{HOST}:{port}"
    make_ctx = trusting(data / "tls" / "ca.pem")
    with subprocess_running(server_command(), env=clean_env(extra), log_path=log_path) as proc:
        await wait_ready(f"{base}/healthz", proc, ssl_ctx=make_ctx, log_path=log_path)
        ssl_ctx = make_ctx()
        assert ssl_ctx is not None  # wait_ready succeeded, so ca.pem exists
        token = await login_and_token(base, ssl_ctx, password)
        auth = {"Authorization": f"Bearer {token}"}
        await add_users(base, ssl_ctx, auth, USERS)
        with profiling(args.profile, proc.pid, "get-users"):
            results.append(await measure(
                "deskmate", "GET /api/v1/users?limit=20", server=proc,
                url=f"{base}/api/v1/users?limit=20",
                ssl_ctx=ssl_ctx, headers=auth, body=get_body,
                concurrency=args.concurrency, seconds=args.seconds))
        with profiling(args.profile, proc.pid, "post-groups"):
            results.append(await measure(
                "deskmate", "POST /api/v1/groups", server=proc, url=f"{base}/api/v1/groups",
                ssl_ctx=ssl_ctx, headers=auth, body=group_body(secrets.token_hex(4)),
                concurrency=args.concurrency, seconds=args.seconds))
        if proc.poll() is not None:
            raise SystemExit(f"deskmate-server exited with {proc.returncode} during the run")
    return log_summary(log_path)


async def bench_baseline(args: argparse.Namespace, data: Path, results: list[Result]) -> None:
    """Run the bare aiohttp app on the same certificate and measure GET and POST."""
    port = free_port()
    tls = data / "tls"
    argv = [sys.executable, str(SCRIPT), "--serve-baseline",
            "--port", str(port), "--cert", str(tls / "server.pem"),
            "--key", str(tls / "server.key")]
    log_path = data.parent / "baseline.log"
    base = f"https://{HOST}:{port}"
    make_ctx = trusting(tls / "ca.pem")
    with subprocess_running(argv, env=clean_env({}), log_path=log_path) as proc:
        await wait_ready(f"{base}/ping", proc, ssl_ctx=make_ctx, log_path=log_path)
        ssl_ctx = make_ctx()
        assert ssl_ctx is not None
        results.append(await measure(
            "baseline", "GET /ping (small JSON)", server=proc, url=f"{base}/ping", ssl_ctx=ssl_ctx,
            headers={}, body=get_body, concurrency=args.concurrency, seconds=args.seconds))
        results.append(await measure(
            "baseline", "POST /echo (JSON echo)", server=proc, url=f"{base}/echo", ssl_ctx=ssl_ctx,
            headers={}, body=echo_body, concurrency=args.concurrency, seconds=args.seconds))


# --- report -------------------------------------------------------------------------


def print_report(args: argparse.Namespace, results: list[Result], log_line: str,
                 load: tuple[float, float, float]) -> None:
    """Print the settings, the table and the command that produced it."""
    sync = args.sqlite_synchronous or "server default (FULL)"
    print(f"Deskmate API benchmark: {args.concurrency} keep-alive clients, "
          f"{args.seconds:g} s per row, TLS on 127.0.0.1")
    print(f"cpu_count={os.cpu_count()}: load generator and server share these cores "
          "(servers run one at a time)")
    # Other work on the host takes cores from both sides; the figures are only as quiet
    # as the machine was.
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
          f"sqlite_synchronous={sync}, deskmate log level INFO (access log {args.access_log})")
    print()
    header = (f"{'server':<9} {'request':<27} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'ok':>6} {'errors':>6} {'srv cpu':>7} {'srv ms/req':>10} {'gen cpu':>7}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.target:<9} {r.label:<27} {r.rate:>7.0f} {r.percentile(50):>7.1f} "
              f"{r.percentile(99):>7.1f} {len(r.latencies_ms):>6} "
              f"{sum(r.errors.values()):>6} {r.server_cpu / r.seconds:>7.0%} "
              f"{r.cpu_ms_per_request(r.server_cpu):>10.2f} "
              f"{r.client_cpu / r.seconds:>7.0%}")
    print("srv cpu / gen cpu: CPU time of the server process (all threads) and of this "
          "load generator, as a share of one core; 200% would be both cores.")
    for r in results:
        if r.errors:
            kinds = ", ".join(f"{k}: {n}" for k, n in r.errors.most_common())
            print(f"errors in {r.target} {r.label}: {kinds}")
    print()
    users = next((r for r in results if r.label.startswith("GET /api/v1/users")), None)
    if users is not None:
        cpu = users.cpu_ms_per_request(users.server_cpu)
        verdict = "met" if cpu < TARGET_USERS_CPU_MS else "MISSED"
        print(f"target GET of 20 users: server CPU < {TARGET_USERS_CPU_MS} ms per request: "
              f"{cpu:.2f} ms, {verdict}")
    print(f"deskmate server log: {log_line}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


async def run(args: argparse.Namespace) -> None:
    """Measure both servers and print the report."""
    results: list[Result] = []
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp:
        data = Path(tmp) / "data"
        log_line = await bench_deskmate(args, data, results)
        await bench_baseline(args, data, results)
        if args.keep_logs:
            for name in ("deskmate.log", "baseline.log"):
                shutil.copy(Path(tmp) / name, Path.cwd() / f"bench-{name}")
    print_report(args, results, log_line, load)


def positive_int(text: str) -> int:
    """Parse an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return value


def positive_float(text: str) -> float:
    """Parse a number greater than 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark the Deskmate REST API over TLS against a bare aiohttp "
                    "baseline. Starts each server as a subprocess on 127.0.0.1 with a "
                    "fresh data directory and prints requests/s and latency p50/p99.")
    parser.add_argument("--concurrency", type=positive_int, default=32,
                        help="concurrent keep-alive clients (default: 32)")
    parser.add_argument("--seconds", type=positive_float, default=5.0,
                        help="measuring time per request kind (default: 5)")
    parser.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL", "EXTRA"],
                        type=str.upper, default=None,
                        help="set DESKMATE_SQLITE_SYNCHRONOUS (default: the server's, FULL)")
    parser.add_argument("--access-log", choices=["on", "off"], default="on",
                        help="the server's access log (default: on, as installed)")
    parser.add_argument("--profile", type=Path, metavar="DIR", default=None,
                        help="sample the Deskmate server with py-spy during each row and "
                             "write collapsed stacks to DIR (the figures then include "
                             "the sampler's cost)")
    parser.add_argument("--keep-logs", action="store_true",
                        help="copy the servers' logs to ./bench-deskmate.log and "
                             "./bench-baseline.log")
    # Internal: how the script starts the baseline server in a subprocess.
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cert", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    """Run the benchmark, or the baseline server when asked to."""
    args = parse_args()
    if args.serve_baseline:
        serve_baseline(args.port, args.cert, args.key)
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
