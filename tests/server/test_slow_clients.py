"""Connections that trickle their request head are closed in time; normal ones are not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.server import ADMIN_PASSWORD, RunningServer, start_server

LIMIT = 0.4  # request_head_timeout, patched down from 20 s


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A server that gives clients LIMIT seconds for a request head."""
    running = await start_server(tmp_path / "data", request_head_timeout=LIMIT)
    try:
        yield running
    finally:
        await running.close()


async def _connect(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port, ssl=server.ssl_context(),
                                         server_hostname="127.0.0.1")


async def _closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                  trickle: bool) -> bool:
    """Send header lines now and then until the server closes the connection."""
    for i in range(100):  # 100 x 0.1 s: far past LIMIT, yet bounded
        if trickle:
            try:
                writer.write(f"X-Slow-{i}: {i}\r\n".encode())
                await writer.drain()
            except ConnectionError:
                return True
        try:
            data = await asyncio.wait_for(reader.read(1000), 0.1)
        except TimeoutError:
            continue
        except ConnectionError:
            return True
        if data == b"":
            return True
    return False


async def _slow_heads(server: RunningServer) -> float:
    admin = await server.login("admin", ADMIN_PASSWORD)
    text = (await admin.get("/metrics")).body.decode()
    line = next(x for x in text.splitlines() if x.startswith("deskmate_http_slow_heads_total"))
    return float(line.split()[-1])


async def test_trickled_request_heads_are_closed_and_counted(quick: RunningServer) -> None:
    """Five clients sending one header line at a time are all cut off and counted."""
    conns = [await _connect(quick) for _ in range(5)]
    for _, writer in conns:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = await asyncio.gather(*(_closed(r, w, trickle=True) for r, w in conns))
    assert closed == [True] * 5
    silent = await _connect(quick)  # connects and says nothing at all
    assert await _closed(*silent, trickle=False)
    assert await _slow_heads(quick) == 6
    for _, writer in [*conns, silent]:
        writer.close()


async def test_prompt_clients_are_not_cut_off(quick: RunningServer) -> None:
    """A keep-alive connection idle past the limit, and a slow body, are still served."""
    reader, writer = await _connect(quick)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _ in range(2):
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
        await asyncio.sleep(LIMIT * 2)  # idle between requests: keep-alive's business
    body = b'{"username": "admin", "password": "wrong-password-1"}'
    writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    for i in range(0, len(body), 10):  # the body may come slowly: the head was in time
        writer.write(body[i:i + 10])
        await asyncio.sleep(LIMIT / 2)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 401"), head
    writer.close()
    assert await _slow_heads(quick) == 0
