"""One real server and one Chromium per test module, for walks that only read.

Seeding a desk (users, tickets, an online agent, articles) takes seconds; the tests that
walk every page only read it, so a module's walks share one server, one seeded desk and
one browser instead of seeding per test. Their tests run in the module's event loop::

    (tests/console/conftest.py offers both to the console's tests)

    @pytest.mark.asyncio(loop_scope="module")
    async def test_walk(module_server, module_browser, walked_desk): ...

A module-scoped async fixture of the test module (``walked_desk`` above) is declared the
same way: ``@pytest_asyncio.fixture(scope="module", loop_scope="module")``. Tests that
change data keep using the per-test ``server`` fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.support.browser import CHROMIUM_ARGS
from tests.support.server import RunningServer, start_server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_server(tmp_path_factory: pytest.TempPathFactory,
                        ) -> AsyncIterator[RunningServer]:
    """A real server (SQLite) for the whole module, on the module's event loop."""
    running = await start_server(tmp_path_factory.mktemp("module-server") / "data")
    try:
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_browser(chromium_executable: str) -> AsyncIterator[Any]:
    """A headless Chromium for the whole module (each test still opens its own context)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=chromium_executable,
                                            headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()
