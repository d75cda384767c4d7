"""axe-core on what a page walk does not open: the phone drawer, a dialog, errors, notices.

axe-core is vendored under tests/console/vendor (MPL-2.0, its licence beside it) and put
into the page by the tests only; the server never serves it. Every page, on a phone and a
laptop, passes it in the page walks (tests/console/test_walk_phone.py and
test_walk_desktop.py, which open each page once for all their checks).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.console import walk
from tests.support.browser import open_page
from tests.support.server import Client, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


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
