"""The layout check and the phone's drawer: the walk covers every route, the check works.

Every console page on a phone (390x844) and a laptop (1280x800) fits and overlaps nothing
in the page walks (tests/console/test_walk_phone.py and test_walk_desktop.py); their pages
come from tests/console/walk.py (every route of console/static/app.js, with real ids, for
each role that may open it).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console import walk
from tests.support.browser import open_page
from tests.support.server import Client, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_the_walk_covers_every_route_of_the_console() -> None:
    """Each route the console's router knows is opened by some role's walk."""
    walked = [p for paths in walk.paths_for(walk.Desk(ticket=1, resolved=2, device=3, session=4,
                                                       article=5, group=6)).values()
              for p in paths]
    routes = walk.console_routes()
    assert len(routes) >= 18
    missing = [r.pattern for r in routes if not any(r.fullmatch(p) for p in walked)]
    assert not missing, f"routes no walk opens: {missing}"


async def test_the_layout_check_sees_the_faults_it_is_for(
        browser: Any, server: RunningServer, admin: Client) -> None:
    """The check reports a page wider than the screen, covered text and a squeezed column."""
    async with open_page(browser, server.base_url, viewport=walk.PHONE) as page:
        await walk.log_in(page, "admin")
        await walk.visit(page, "/account")
        assert await walk.layout_problems(page) == []
        # Styles set through the CSSOM (the console's CSP refuses style attributes).
        await page.evaluate("""() => {
          const wide = document.createElement('div');
          wide.className = 'probe-wide';
          wide.textContent = 'wide';
          wide.style.width = '900px';
          document.querySelector('.content').append(wide);
        }""")
        problems = await walk.layout_problems(page)
        assert any(re.search(r"document is \d+px wide in a 390px viewport", p) for p in problems)
        await page.evaluate("""() => {
          document.querySelector('.probe-wide').remove();
          // The device header's fault: the name squeezed beside its buttons, a letter a line.
          const head = document.createElement('div');
          const name = document.createElement('span');
          name.textContent = 'workstation-07';
          name.style.cssText = 'display: block; width: 8px; overflow-wrap: anywhere';
          head.append(name);
          document.querySelector('.content').append(head);
          // The top bar's fault: a title running over the user box.
          const title = document.getElementById('page-title');
          title.textContent = 'A long article title that runs on and on and on';
          title.style.cssText = 'overflow: visible; flex: 0 0 200px';
        }""")
        problems = await walk.layout_problems(page)
        assert any("squeezed" in p and "workstation-07" in p for p in problems), problems
        assert any("h1.page-title" in p and "overlaps" in p for p in problems), problems


async def test_the_phone_menu_opens_and_closes_by_keyboard(
        browser: Any, server: RunningServer, admin: Client) -> None:
    """On a phone the sidebar is a drawer: the menu button opens it, Escape and links close it."""
    async with open_page(browser, server.base_url, viewport=walk.PHONE) as page:
        await walk.log_in(page, "admin")
        menu = page.get_by_role("button", name="Menu")
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav).to_be_hidden()
        await expect(menu).to_have_attribute("aria-expanded", "false")
        await menu.focus()
        await page.keyboard.press("Enter")
        await expect(nav).to_be_visible()
        await expect(menu).to_have_attribute("aria-expanded", "true")
        await expect(nav.get_by_role("link", name="Desk")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(nav).to_be_hidden()
        await expect(menu).to_be_focused()
        await expect(menu).to_have_attribute("aria-expanded", "false")
        # Open again, walk to a link and follow it: the drawer closes on the new page.
        await page.keyboard.press("Enter")
        await expect(nav.get_by_role("link", name="Desk")).to_be_focused()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await expect(nav.get_by_role("link", name="Knowledge base")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#page-title")).to_have_text("Knowledge base")
        await expect(nav).to_be_hidden()
        await expect(menu).to_have_attribute("aria-expanded", "false")
        # A tap outside the drawer closes it too.
        await menu.click()
        await expect(nav).to_be_visible()
        await page.mouse.click(380, 400)
        await expect(nav).to_be_hidden()


async def test_the_skip_link_moves_to_the_content(
        browser: Any, server: RunningServer, admin: Client) -> None:
    """The first Tab shows "Skip to content", which moves the focus to the page's content."""
    async with open_page(browser, server.base_url) as page:
        await walk.log_in(page, "admin")
        await page.evaluate("document.activeElement.blur()")
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        await expect(skip).to_be_focused()
        await expect(skip).to_be_in_viewport()
        await page.keyboard.press("Enter")
        await expect(page.locator("#main")).to_be_focused()
        await expect(page).to_have_url(re.compile(r"#/desk$"))
