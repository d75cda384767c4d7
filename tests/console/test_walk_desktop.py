"""Every console page on a laptop (1280x800), each opened once: layout and axe-core.

The pages come from tests/console/walk.py (every route of console/static/app.js, with real
ids, for each role that may open it); :func:`walk.check_every_page` runs each check on each
page and names the check, role and page of every problem. The phone's walk is
tests/console/test_walk_phone.py (its own file, so the two walks run side by side).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.console import walk
from tests.support.server import ADMIN_PASSWORD, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(module_server: RunningServer,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[walk.Desk]:
    """The walk's small desk, with its agent running."""
    admin = await module_server.login("admin", ADMIN_PASSWORD)
    seeded = await walk.seed(module_server, admin, tmp_path_factory.mktemp("agents"))
    try:
        yield seeded
    finally:
        await seeded.stop()


@pytest.mark.asyncio(loop_scope="module")
async def test_every_page_on_a_laptop_fits_and_passes_axe(
        module_browser: Any, module_server: RunningServer, desk: walk.Desk) -> None:
    """No page is wider than a laptop screen or covers text, and axe-core finds no serious or critical violation, for any role."""  # noqa: E501
    problems = await walk.check_every_page(module_browser, module_server, desk, walk.DESKTOP,
                                           targets=False)
    assert not problems, "\n".join(problems)
