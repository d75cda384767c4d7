"""axe-core over every console page, on a phone and a laptop: no serious or critical faults.

axe-core is vendored under tests/console/vendor (MPL-2.0, its licence beside it) and put
into the page by the tests only; the server never serves it. The pages come from
tests/console/walk.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.console import walk
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
SIZES = {"phone": walk.PHONE, "desktop": walk.DESKTOP}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(module_server: RunningServer,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[walk.Desk]:
    """The walk's small desk, with its agent running, shared by the module's walks."""
    admin = await module_server.login("admin", ADMIN_PASSWORD)
    seeded = await walk.seed(module_server, admin, tmp_path_factory.mktemp("agents"))
    try:
        yield seeded
    finally:
        await seeded.stop()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("size", SIZES)
async def test_no_page_has_serious_or_critical_accessibility_faults(
        module_browser: Any, module_server: RunningServer, desk: walk.Desk, size: str,
) -> None:
    """axe-core finds no serious or critical violation on any page, for any role."""
    found = []
    async with open_page(module_browser, module_server.base_url, viewport=SIZES[size]) as page:
        await page.goto("/")
        await page.get_by_label("User name").wait_for()
        found += [f"login: {v}" for v in await walk.axe_violations(page)]
    for role, paths in walk.paths_for(desk).items():
        async with open_page(module_browser, module_server.base_url, viewport=SIZES[size]) as page:
            await walk.log_in(page, walk.ROLE_USERS[role])
            for path in paths:
                await walk.visit(page, path)
                found += [f"{role} {path}: {v}" for v in await walk.axe_violations(page)]
    assert not found, "\n".join(found)


async def test_drawer_dialogs_notices_and_field_errors_have_no_serious_faults(
        browser: Any, server: RunningServer, admin: Client) -> None:
    """The open phone drawer, a dialog, a field error and a notice pass axe-core as well."""
    found = []
    async with open_page(browser, server.base_url, viewport=walk.PHONE) as page:
        await walk.log_in(page, "admin")
        await walk.visit(page, "/admin/users")
        await page.get_by_role("button", name="Menu").click()
        await expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        found += [f"drawer: {v}" for v in await walk.axe_violations(page)]
        await page.keyboard.press("Escape")
        await page.get_by_role("button", name="New user").click()
        dialog = page.get_by_role("dialog", name="New user")
        await expect(dialog).to_be_visible()
        found += [f"dialog: {v}" for v in await walk.axe_violations(page)]
        await dialog.get_by_label("User name").fill("nora")
        await dialog.get_by_role("button", name="Create user").click()
        await expect(dialog.get_by_label("Display name")).to_have_attribute("aria-invalid", "true")
        found += [f"field error: {v}" for v in await walk.axe_violations(page)]
        await dialog.get_by_label("Display name").fill("Nora Smith")
        await dialog.get_by_role("button", name="Create user").click()
        await expect(page.get_by_role("status")).to_contain_text("User nora created")
        found += [f"notice: {v}" for v in await walk.axe_violations(page)]
    assert not found, "\n".join(found)


async def test_the_axe_run_reports_what_it_should(browser: Any, server: RunningServer,
                                                 admin: Client) -> None:
    """A control without a label and pale text are reported (the harness really runs axe)."""
    async with open_page(browser, server.base_url) as page:
        await walk.log_in(page, "admin")
        await walk.visit(page, "/account")
        await page.evaluate("""() => {
          const box = document.createElement('input');
          const pale = document.createElement('p');
          pale.textContent = 'Barely readable';
          pale.style.color = '#c8c8c8';
          document.querySelector('.content').append(box, pale);
        }""")
        found = await walk.axe_violations(page)
        assert any(v.startswith("label (critical)") for v in found), found
        assert any(v.startswith("color-contrast (serious)") for v in found), found
