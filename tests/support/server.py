"""A real Deskmate server on 127.0.0.1 port 0, and HTTP clients logged in per role."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from server.app import make_app, open_database
from server.bootstrap import ensure_admin, prepare_tls
from server.db.database import Database
from server.settings import Settings, load
from server.slow_clients import AppRunner
from server.tls import TlsInfo, server_context
from tests.support.migrated import copy_migrated

ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "user-password-1"


@dataclass
class Response:
    """What a test needs of an HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """Return the body decoded as JSON."""
        import json

        return json.loads(self.body)

    @property
    def error_code(self) -> str:
        """Return the error code of an error body (asserting its shape)."""
        body = self.json
        assert set(body) == {"error"}, body
        # A validation error may name the offending field (server/errors.py).
        assert set(body["error"]) - {"field"} == {"code", "message"}, body
        assert isinstance(body["error"].get("field", ""), str), body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
        return str(body["error"]["code"])


@dataclass
class Client:
    """An HTTP client for one caller; adds the CSRF header for session callers."""

    session: aiohttp.ClientSession
    base_url: str
    csrf_token: str = ""
    bearer: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    async def request(self, method: str, path: str, *, json: Any = None,
                      data: Any = None, headers: Mapping[str, str] | None = None,
                      csrf: bool = True) -> Response:
        """Send one request and read the whole answer."""
        sent = dict(headers or {})
        if csrf and self.csrf_token and method not in ("GET", "HEAD", "OPTIONS"):
            sent.setdefault("X-CSRF-Token", self.csrf_token)
        if self.bearer:
            sent.setdefault("Authorization", f"Bearer {self.bearer}")
        async with self.session.request(method, self.base_url + path, json=json, data=data,
                                        headers=sent) as resp:
            return Response(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kw: Any) -> Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Response:
        return await self.request("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> Response:
        return await self.request("PATCH", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> Response:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> Response:
        return await self.request("DELETE", path, **kw)


@dataclass
class RunningServer:
    """A started server and what tests need to reach it."""

    settings: Settings
    app: web.Application
    runner: web.AppRunner
    tls: TlsInfo | None
    base_url: str
    port: int
    db: Database
    _sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    def ssl_context(self) -> ssl.SSLContext:
        """Return a client context that trusts only this server's CA."""
        assert self.tls is not None and self.tls.ca_file is not None
        return ssl.create_default_context(cafile=str(self.tls.ca_file))

    def client(self) -> Client:
        """Return an anonymous client (closed with the server)."""
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.ssl_context() if self.tls else False),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for an IP host
        )
        self._sessions.append(session)
        return Client(session=session, base_url=self.base_url)

    async def login(self, username: str, password: str = PASSWORD) -> Client:
        """Return a client logged in with a console session."""
        client = self.client()
        resp = await client.post("/api/v1/auth/login",
                                 json={"username": username, "password": password})
        assert resp.status == 200, resp.body
        client.csrf_token = resp.json["csrf_token"]
        client.user = resp.json["user"]
        return client

    async def create_user(self, admin: Client, username: str, role: str,
                          password: str = PASSWORD) -> dict[str, Any]:
        """Create a user through the API and return it."""
        resp = await admin.post("/api/v1/users", json={
            "username": username, "display_name": username.title(), "role": role,
            "password": password})
        assert resp.status == 201, resp.body
        return dict(resp.json)

    async def close(self) -> None:
        for session in self._sessions:
            await session.close()
        # A TLS connection closed politely waits (up to 30 s) for the client's reply, and one
        # still waiting when the test's loop stops is never closed: abort what clients left.
        if (web_server := self.runner.server) is not None:
            for handler in web_server.connections:
                if handler.transport is not None:
                    handler.transport.abort()
        await self.runner.cleanup()


async def start_server(data_dir: Path, **overrides: Any) -> RunningServer:
    """Start the real server with TLS on 127.0.0.1 port 0 and a fresh data directory."""
    values: dict[str, Any] = {"data": str(data_dir), "host": "127.0.0.1", "port": 0,
                              "admin_password": ADMIN_PASSWORD}
    values.update(overrides)
    settings = await asyncio.to_thread(load, environ={}, overrides=values)

    def prepare() -> tuple[TlsInfo | None, Database, web.Application]:
        # Start-up work touches files; it runs before serving, off the loop.
        if not settings.database_url:  # a new SQLite database starts migrated (migrated.py)
            copy_migrated(settings.data_dir / "deskmate.db")
        tls = prepare_tls(settings)
        db = open_database(settings)
        ensure_admin(db, settings)
        return tls, db, make_app(settings, tls=tls, database=db)

    tls, db, app = await asyncio.to_thread(prepare)
    runner = AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    ssl_context = await asyncio.to_thread(server_context, tls) if tls is not None else None
    site = web.TCPSite(runner, "127.0.0.1", settings.port, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if tls is not None else "http"
    return RunningServer(settings=settings, app=app, runner=runner, tls=tls,
                         base_url=f"{scheme}://127.0.0.1:{port}", port=port, db=db)
