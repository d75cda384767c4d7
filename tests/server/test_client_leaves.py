"""A client that leaves in the middle of a file or before a stream starts is not a
server error: nothing is logged as one (the error-log guard fails the test if it is)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.server import ADMIN_PASSWORD, RunningServer, start_server

BIG_FILE = "/static/vendor/xterm/xterm.mjs"  # ~340 KB: many TLS records


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data")
    try:
        yield running
    finally:
        await running.close()


async def _leave_after_first_bytes(server: RunningServer, context: ssl.SSLContext,
                                   path: str) -> bytes:
    """Ask for ``path``, read the first bytes of the answer, then drop the connection."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, ssl=context, server_hostname="127.0.0.1")
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    first = await reader.read(64)
    writer.transport.abort()  # no TLS close_notify, no FIN handshake: gone
    return first


async def test_leaving_mid_file_logs_no_error(server: RunningServer) -> None:
    """Twenty clients drop a large static file after its first bytes; the server keeps
    serving it whole to the next one."""
    context = server.ssl_context()
    firsts = await asyncio.gather(*(
        _leave_after_first_bytes(server, context, BIG_FILE) for _ in range(20)))
    assert all(first.startswith(b"HTTP/1.1 200") for first in firsts)
    await asyncio.sleep(0.5)  # let the server notice every closed connection
    response = await server.client().get(BIG_FILE)
    assert response.status == 200
    assert len(response.body) > 300_000


@pytest.mark.parametrize("when", ["before_headers", "after_headers"])
async def test_leaving_the_event_stream_logs_no_error(server: RunningServer,
                                                      when: str) -> None:
    """A page that closes while its event stream starts ends the stream quietly."""
    admin = await server.login("admin", ADMIN_PASSWORD)
    cookie = "; ".join(f"{c.key}={c.value}" for c in admin.session.cookie_jar)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, ssl=server.ssl_context(), server_hostname="127.0.0.1")
    writer.write(("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    if when == "after_headers":
        assert (await reader.read(64)).startswith(b"HTTP/1.1 200")
    writer.transport.abort()
    await asyncio.sleep(0.5)
    assert (await admin.get("/api/v1/auth/session")).status == 200
