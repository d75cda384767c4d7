"""Shared fixtures: a real server per test, clients per role, Xvfb, Chromium, loop guard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer, start_server
from tests.support.xvfb import xvfb_display


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test in which Deskmate code makes a blocking call on the event loop."""
    with blockbuster_ctx(["server", "shared", "endpoint_agent"]) as bb:
        yield bb


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """Start the real server over TLS on 127.0.0.1 port 0 with a temporary data dir."""
    running = await start_server(tmp_path / "data")
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def admin(server: RunningServer) -> Client:
    """A console session of the first admin."""
    return await server.login("admin", ADMIN_PASSWORD)


@pytest.fixture
async def technician(server: RunningServer, admin: Client) -> Client:
    """A console session of a technician."""
    await server.create_user(admin, "tina", "technician")
    return await server.login("tina")


@pytest.fixture
async def requester(server: RunningServer, admin: Client) -> Client:
    """A console session of a requester."""
    await server.create_user(admin, "rick", "requester")
    return await server.login("rick")


@pytest.fixture
async def clients(server: RunningServer, admin: Client, technician: Client,
                  requester: Client) -> dict[str, Client]:
    """One logged-in client per role, plus an anonymous one."""
    return {"admin": admin, "technician": technician, "requester": requester,
            "anonymous": server.client()}


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A private Xvfb display (1920x1080x24) for the test session."""
    with xvfb_display() as display:
        yield display


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    return chromium_path()


@pytest.fixture
async def browser(chromium_executable: str) -> AsyncIterator[Any]:
    """A headless Chromium instance (Playwright, Debian's binary, never a download)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=chromium_executable,
                                            headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


# Chromium logs every 4xx answer to fetch() as a console error. For the API these are
# expected answers (the session probe gets 401 when logged out, a wrong password gets
# 401) that the console shows in its notice area; anything else is still an error.
_API_4XX = "Failed to load resource: the server responded with a status of 4"


def _is_api_4xx(msg: Any) -> bool:
    return bool(msg.text.startswith(_API_4XX) and urlsplit(
        msg.location.get("url", "")).path.startswith("/api/"))


@pytest.fixture
async def page(browser: Any, server: RunningServer) -> AsyncIterator[Any]:
    """A fresh page on the test server that fails the test on errors in the page."""
    # The server's CA is not in Chromium's store; the context accepts the test server's
    # certificate, which is ours and was just created on loopback.
    context = await browser.new_context(ignore_https_errors=True, base_url=server.base_url,
                                        viewport={"width": 1280, "height": 800})
    pg = await context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text)
          if msg.type == "error" and not _is_api_4xx(msg) else None)
    try:
        yield pg
    finally:
        await context.close()
    assert not errors, f"errors in the page: {errors}"
