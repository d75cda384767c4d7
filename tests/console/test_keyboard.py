"""Keyboard only: Tab reaches every control of the main pages in turn, each shows its focus.

The issue asks for "keyboard reachable everything, visible focus". On the desk, a ticket, the
portal's new-ticket form and an admin page this test presses Tab until the focus comes back
to where it started, and checks that every visible button, link, field and select was a stop,
once and in document order (a radio group or a tab list is one stop: arrow keys move inside
it), and that the focused control (or the label that stands for a hidden file input) looks
different from its unfocused self: its computed outline or box-shadow changes. A dialog
opened from the keyboard keeps Tab and Shift+Tab inside it and gives the focus back to the
button that opened it when it closes. axe-core's checks of the same pages are in the page
walks (tests/console/test_walk_desktop.py).
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.console import walk
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# In the page as window.__keys: `plan` lists what Tab must reach and starts recording each
# focus stop as it happens (`stops`); a focus that leaves for the browser's own controls is
# recorded as {body: true}. Styles are read with transitions finished (buttons and fields
# fade their focus ring in over 120 ms).
KEYS = """({
  plan() {
    const modal = document.querySelector('dialog[open]');
    const scope = modal || document;
    const controls = 'a[href], button, input:not([type="hidden"]), select, textarea, summary';
    const items = [...scope.querySelectorAll(`${controls}, [tabindex]`)].filter((el) => {
      if (!el.matches(controls) && el.tabIndex < 0) return false; // focused by script only
      if (el.matches(':disabled') || el.closest('[inert]')) return false;
      return el.checkVisibility({ visibilityProperty: true });
    });
    const lists = [...scope.querySelectorAll('[role="tablist"]')];
    const group = (el, i) => {
      if (el.type === 'radio' && el.name) {
        return `radio ${[...document.forms].indexOf(el.form)} ${el.name}`;
      }
      if (el.getAttribute('role') === 'tab' && el.closest('[role="tablist"]')) {
        return `tablist ${lists.indexOf(el.closest('[role="tablist"]'))}`;
      }
      return `control ${i}`;
    };
    document.activeElement?.blur?.();
    document.getAnimations().forEach((a) => a.finish());
    this.items = items;
    this.groups = items.map(group);
    this.names = items.map((el) => this.name(el));
    this.looks = items.map((el) => this.look(this.host(el)));
    this.modal = modal;
    this.extra = [];
    this.stops = [];
    if (!this.listening) {
      this.listening = true;
      const record = (event) => this.stops.push(this.stop(event.target));
      document.addEventListener('focusin', record, true);
      document.addEventListener('focusout', (event) => {
        if (!event.relatedTarget) this.stops.push({ body: true });
      }, true);
    }
    return items.length;
  },
  // A control drawn by its label (a hidden file input, a segmented radio) shows focus there.
  host(el) {
    const s = getComputedStyle(el);
    const hidden = Number(s.opacity) === 0 || el.getBoundingClientRect().width <= 1;
    return hidden && el.closest('label') ? el.closest('label') : el;
  },
  look(el) {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
      ? `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}` : 'none';
    return `outline ${outline}; box-shadow ${s.boxShadow}`;
  },
  name(el) {
    const text = (el.getAttribute('aria-label') || el.textContent || el.name || el.type || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 30);
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return `${el.tagName.toLowerCase()}${cls} "${text}"`;
  },
  stop(el) {
    document.getAnimations().forEach((a) => a.finish());
    let index = this.items.indexOf(el);
    const known = index >= 0;
    if (!known) {
      if (!this.extra.includes(el)) this.extra.push(el);
      index = -1 - this.extra.indexOf(el);
    }
    const now = this.look(this.host(el));
    const before = known ? this.looks[index] : 'outline none; box-shadow none';
    return {
      body: false, index, group: known ? this.groups[index] : null, name: this.name(el),
      shown: now !== before && now !== 'outline none; box-shadow none',
      visible: el.checkVisibility({ visibilityProperty: true }),
      inside: this.modal ? this.modal.contains(el) : true,
    };
  },
})"""


def one_round(stops: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int] | None:
    """Return the stops of one round (up to the first stop's return) and the times the focus
    left for the browser, or None while the focus has not come back yet."""
    inside = [i for i, stop in enumerate(stops) if not stop["body"] and stop["inside"]]
    if not inside:
        return None
    first = stops[inside[0]]["index"]
    back = next((i for i in inside[1:] if stops[i]["index"] == first), None)
    if back is None:
        return None
    round_ = stops[inside[0]:back]
    return [s for s in round_ if not s["body"] and s["inside"]], len(round_) - len(
        [s for s in round_ if not s["body"] and s["inside"]])


async def tab_through(page: Any, where: str, *, backwards: bool = False) -> list[str]:
    """Press Tab round the page (or the open dialog) once; return what was wrong, named."""
    if not await page.evaluate("() => typeof window.__keys === 'object'"):
        await page.evaluate(f"() => {{ window.__keys = {KEYS}; }}")
    total = await page.evaluate("() => __keys.plan()")
    key = "Shift+Tab" if backwards else "Tab"
    problems: list[str] = []
    pressed, found = 0, None
    while found is None and pressed < 2 * total + 20:
        # A round is at least every control once; presses are sent without a look in between.
        for _ in range(total + 2 if not pressed else 8):
            await page.keyboard.press(key)
            pressed += 1
        found = one_round(await page.evaluate("() => __keys.stops"))
    if found is None:
        return [f"{where}: {key} never came back to where it started ({pressed} presses)"]
    stops, left = found
    if left and await page.evaluate("() => !!__keys.modal"):
        # Leaving is the browser's business on a page; a modal dialog must keep the focus.
        problems.append(f"{where}: {key} left the dialog {left} time(s)")
    for stop in stops:
        if stop["index"] < 0:
            problems.append(f"{where}: focus stopped on {stop['name']}, which is "
                            + ("not a control" if stop["visible"] else "not visible"))
        elif not stop["shown"]:
            problems.append(f"{where}: no visible focus on {stop['name']}")
    groups: list[str] = await page.evaluate("() => __keys.groups")
    names = dict(zip(groups, await page.evaluate("() => __keys.names"), strict=True))
    reached = [stop["group"] for stop in stops if stop["group"] is not None]
    expected = list(dict.fromkeys(groups))
    missing = [g for g in expected if g not in reached]
    problems += [f"{where}: Tab never reaches {names[g]}" for g in missing]
    twice = sorted({g for g in reached if reached.count(g) > 1})
    problems += [f"{where}: Tab stops twice on {names[g]}" for g in twice]
    if not missing and not twice and reached:
        order = expected[::-1] if backwards else expected
        start = order.index(reached[0])
        if reached != order[start:] + order[:start]:
            problems.append(f"{where}: Tab order differs from the page's order: "
                            + ", ".join(names[g] for g in reached[:12]))
    return problems


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ticket_id(module_server: RunningServer) -> int:
    """A desk with a technician, a requester and one ticket with a reply; return its id."""
    server = module_server
    admin = await server.login("admin", ADMIN_PASSWORD)
    for name, role in (("tina", "technician"), ("rick", "requester")):
        await server.create_user(admin, name, role)
    tina, rick = await server.login("tina"), await server.login("rick")
    resp = await rick.post("/api/v1/tickets", json={
        "title": "Monitor flickers after lunch", "description": "Every day around two."})
    assert resp.status == 201, resp.body
    ticket = int(resp.json["id"])
    resp = await tina.patch(f"/api/v1/tickets/{ticket}", json={"assignee_id": tina.user["id"]})
    assert resp.status == 200, resp.body
    resp = await tina.post(f"/api/v1/tickets/{ticket}/comments",
                           json={"body": "Which cable does it use?", "internal": False})
    assert resp.status == 201, resp.body
    return ticket


@pytest.mark.asyncio(loop_scope="module")
async def test_tab_reaches_every_control_in_turn_with_visible_focus_and_dialogs_keep_it(
        module_browser: Any, module_server: RunningServer, ticket_id: int) -> None:
    """On the desk, a ticket, the portal's new-ticket form and Admin → Users, Tab stops once on every visible control in document order and each shows a focus outline or ring; a dialog opened with Enter keeps Tab and Shift+Tab inside and gives the focus back to its button on Escape and on Cancel."""  # noqa: E501
    problems: list[str] = []
    async with open_page(module_browser, module_server.base_url, viewport=walk.DESKTOP) as page:
        await walk.log_in(page, "admin")  # every page of the walk in one sign-in
        await page.mouse.move(0, 0)  # nothing hovered
        for path in ("/desk", f"/desk/tickets/{ticket_id}", "/portal/new", "/admin/users"):
            await walk.visit(page, path)
            problems += await tab_through(page, path)

        # The walk reached "New user"; Enter on it opens the dialog, which takes the focus.
        opener = page.get_by_role("button", name="New user")
        await opener.focus()
        dialog = page.get_by_role("dialog", name="New user")
        for closing in ("Escape", "Cancel"):
            await page.keyboard.press("Enter")
            await expect(dialog).to_be_visible()
            assert await dialog.evaluate("(d) => d.contains(document.activeElement)")
            if closing == "Escape":
                problems += await tab_through(page, "dialog")
                problems += await tab_through(page, "dialog (backwards)", backwards=True)
                await page.keyboard.press("Escape")
            else:
                await dialog.get_by_role("button", name="Cancel").focus()
                await page.keyboard.press("Enter")
            await expect(dialog).to_have_count(0)
            await expect(opener).to_be_focused()
    assert not problems, "\n".join(problems)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_tab_walk_reports_what_it_should(module_browser: Any,
                                                  module_server: RunningServer) -> None:
    """A button taken out of the Tab order and one whose focus does not show are reported (the walk really judges)."""  # noqa: E501
    async with open_page(module_browser, module_server.base_url, viewport=walk.DESKTOP) as page:
        await page.goto("/")
        await page.get_by_label("User name").wait_for()
        await page.evaluate("""() => {
          const skipped = document.createElement('button');
          skipped.textContent = 'Skipped';
          skipped.tabIndex = -1;
          const plain = document.createElement('button');
          plain.textContent = 'Plain';
          plain.style.outline = 'none';
          document.querySelector('form').append(skipped, plain);
        }""")
        found = await tab_through(page, "login")
    assert any(p.startswith('login: Tab never reaches button "Skipped"') for p in found), found
    assert any(p.startswith('login: no visible focus on button "Plain"') for p in found), found
