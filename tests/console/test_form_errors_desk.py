"""Bad input in the desk's dialogs and the device and group forms: the server's words by the
field (marked invalid, naming the message), never at the top, and nothing saved.

One server, one seeded desk (a device with a real agent serving terminals and files, a
device with a hand-driven agent offering remote sessions) and one logged-in page for the
module. Where the console cannot send bad input itself (booleans, a ticket picked from a
list), the test changes the page's request on its way, as a client with stale data or a
bug would, and the real server refuses it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from endpoint_agent.toolbox.support import ToolSupport
from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.remote import Device, enrolled, remote_agent, ticket_with_device
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer
from tests.support.toolbox import (
    files_session,
    own_login,
    terminal_agent,
    tool_events,
    unattended_group,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.timeout(120)]


@dataclass
class Desk:
    """What the module's tests share."""

    server: RunningServer
    admin: Client
    page: Any
    tools: Device  # a real agent: terminals and files under ``home``
    home: Path
    group: int  # the tools device's group (unattended)
    remote: Device  # a hand-driven agent offering remote sessions


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(module_server: RunningServer, module_browser: Any,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    """Seed the desk through the API, start both agents, log the admin in once."""
    server = module_server
    root = tmp_path_factory.mktemp("desk")
    home = root / "home"
    home.mkdir()
    (home / "a.txt").write_text("first\n")
    (home / "b.txt").write_text("second\n")
    admin = await server.login("admin", ADMIN_PASSWORD)
    tools = await enrolled(server, admin, root / "tools")
    group = await unattended_group(admin, tools)
    remote = await enrolled(server, admin, root / "remote")
    agent = await terminal_agent(tools, tools=ToolSupport(None, login=own_login(),
                                                          files_root=str(home)))
    try:
        async with remote_agent(server, remote), \
                open_page(module_browser, server.base_url) as page:
            await log_in(page, "admin", ADMIN_PASSWORD)
            yield Desk(server=server, admin=admin, page=page, tools=tools, home=home,
                       group=group, remote=remote)
    finally:
        await agent.stop()


async def expect_by_field(control: Any, message: str | re.Pattern[str]) -> None:
    """Check that ``control`` is marked invalid and described by ``message``."""
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_have_accessible_description(message)


async def close_dialog(page: Any) -> None:
    """Close the topmost open dialog by its Close button."""
    before = await page.locator("dialog[open]").count()
    await page.locator("dialog[open]").last.get_by_role("button", name="Close", exact=True).click()
    await expect(page.locator("dialog[open]")).to_have_count(before - 1)


def posted(path_end: str) -> Any:
    """Return a predicate for the page's POST to a URL ending with ``path_end``."""
    return lambda r: r.request.method == "POST" and r.url.endswith(path_end)


@contextlib.asynccontextmanager
async def sent_instead(page: Any, pattern: str, method: str, body: Any) -> AsyncIterator[None]:
    """Send ``body`` instead of what the page sends to ``pattern`` with ``method``."""
    async def swap(route: Any) -> None:
        if route.request.method == method:
            await route.continue_(post_data=json.dumps(body))
        else:
            await route.continue_()

    await page.route(pattern, swap)
    try:
        yield
    finally:
        await page.unroute(pattern, swap)


async def test_split_merge_and_relate_say_what_is_wrong_by_the_field(desk: Desk) -> None:
    """A blank split title, a merge into a ticket cancelled meanwhile and a relation to the
    ticket itself are each said under the field (the title, the ticket search); nothing
    is split, merged or related."""
    admin, page = desk.admin, desk.page
    first = (await admin.post("/api/v1/tickets", json={"title": "Printer jams"})).json
    other = (await admin.post("/api/v1/tickets", json={"title": "Printer offline"})).json
    third = (await admin.post("/api/v1/tickets", json={"title": "Printer toner low"})).json
    before = len((await admin.get("/api/v1/tickets?limit=100")).json["items"])
    await page.goto(f"/#/desk/tickets/{first['id']}")

    await page.get_by_role("button", name="Split…").click()
    split = page.get_by_role("form", name="Split ticket")
    title = split.get_by_label("Title")
    await title.fill("   ")
    await title.evaluate("(el) => el.removeAttribute('required')")  # only the server knows now
    async with page.expect_response(posted("/split")) as answer:
        await split.get_by_role("button", name="Split off").click()
    assert (await (await answer.value).json())["error"]["field"] == "title"
    await expect_by_field(title, "Title is required.")
    await expect(page.get_by_role("dialog").get_by_role("alert")).to_have_count(0)
    await close_dialog(page)

    await page.get_by_role("button", name="Merge…").click()
    merge_into = page.get_by_role("button", name=f"Merge into {other['number']}")
    await expect(merge_into).to_be_visible()
    cancelled = await admin.patch(f"/api/v1/tickets/{other['id']}", json={"status": "cancelled"})
    assert cancelled.status == 200, cancelled.body
    await merge_into.click()
    search = page.get_by_role("searchbox", name="Find a ticket")
    await expect_by_field(search, f"{other['number']} is cancelled and cannot be merged")
    await expect(merge_into).to_have_count(0)  # listed again without it
    await close_dialog(page)

    await page.get_by_role("button", name="Relate a ticket").click()
    relate = page.get_by_role("button", name=f"Relate {third['number']}")
    await expect(relate).to_be_visible()
    async with sent_instead(page, "**/api/v1/tickets/*/links", "POST",
                            {"ticket_id": first["id"]}):
        await relate.click()
        await expect_by_field(page.get_by_role("searchbox", name="Find a ticket"),
                              "A ticket cannot be related to itself")
    await close_dialog(page)

    now = (await admin.get(f"/api/v1/tickets/{first['id']}")).json
    assert (now["status"], now["merged_into_id"], now["related_ids"]) == ("new", None, [])
    assert len((await admin.get("/api/v1/tickets?limit=100")).json["items"]) == before


async def test_group_policy_forms_say_the_servers_refusal_by_the_field(desk: Desk) -> None:
    """The toolbox policy, remote-session policy and binding rule forms show a value the
    server refuses next to its field; the group's policies stay as they were."""
    admin, page, gid = desk.admin, desk.page, desk.group
    toolbox = (await admin.get(f"/api/v1/groups/{gid}/toolbox-policy")).json
    remote = (await admin.get(f"/api/v1/groups/{gid}/remote-policy")).json
    await page.goto("/#/admin/groups")
    await page.get_by_role("list", name="Groups").get_by_role("link", name="Servers").click()

    tools = page.get_by_role("form", name="Toolbox")
    box = tools.locator("[data-toolbox-option=processes] input")
    await box.evaluate("""(el) => {  // a tool this server does not know
      el.value = "teleport";
      el.checked = true;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }""")
    await tools.get_by_role("button", name="Save toolbox policy").click()
    await expect_by_field(box, re.compile("'teleport' is not one of the allowed values"))
    await expect(tools.locator("[data-field=allowed_tools] .field-error")).to_have_count(1)

    policy = page.get_by_role("form", name="Remote-session policy")
    await policy.get_by_role("checkbox", name=re.compile("Record sessions")).check()
    async with sent_instead(page, "**/remote-policy", "PUT", {"unattended": "sometimes"}):
        await policy.get_by_role("button", name="Save policy").click()
        await expect_by_field(policy.locator("input[name=policy]").first,
                              re.compile("must be true or false"))
    await expect(policy.locator("[data-field=unattended] .field-error")).to_have_count(1)

    rule = page.get_by_role("form", name="Device users")
    first_login = rule.get_by_role("checkbox", name=re.compile("Bind the first login seen"))
    await first_login.check()
    async with sent_instead(page, "**/binding-rule", "PUT", {"bind_first_login": "yes"}):
        await rule.get_by_role("button", name="Save rule").click()
        await expect_by_field(first_login, re.compile("must be true or false"))

    assert (await admin.get(f"/api/v1/groups/{gid}/toolbox-policy")).json == toolbox
    assert (await admin.get(f"/api/v1/groups/{gid}/remote-policy")).json == remote
    assert (await admin.get(f"/api/v1/groups/{gid}/binding-rule")).json[
        "bind_first_login"] is False


async def test_binding_a_login_says_who_cannot_be_picked_by_the_field(desk: Desk) -> None:
    """Bind… with a name nobody has, then with a requester deactivated meanwhile, says so
    under Person; the login stays unbound."""
    admin, page, device = desk.admin, desk.page, desk.tools.id
    rick = await desk.server.create_user(admin, "rick", "requester")
    await eventually(lambda: _seen(admin, device, "alice"), within=10)
    await page.goto(f"/#/devices/{device}")
    await page.get_by_role("button", name="Bind login alice").click()
    dialog = page.get_by_role("dialog", name="Bind login alice")
    person = dialog.get_by_label("Person")
    await person.fill("Nobody Atall")
    await dialog.get_by_role("button", name="Bind", exact=True).click()
    await expect_by_field(person, "Choose a person from the list.")
    await person.fill("Rick")
    await expect(dialog.locator("datalist option")).to_have_count(1)
    await person.fill("Rick (rick)")
    assert (await admin.patch(f"/api/v1/users/{rick['id']}", json={"active": False})).status == 200
    await dialog.get_by_role("button", name="Bind", exact=True).click()
    await expect_by_field(person, "Rick is no longer an active requester. Choose someone else.")
    await expect(dialog.get_by_role("alert")).to_have_count(0)
    await close_dialog(page)
    assert (await admin.get(f"/api/v1/devices/{device}/bindings/alice")).status == 404


async def _seen(admin: Client, device: int, login: str) -> bool:
    logins = (await admin.get(f"/api/v1/devices/{device}/logins")).json["items"]
    return any(x["login"] == login for x in logins)


async def test_tools_and_files_say_what_is_refused_by_the_field(desk: Desk) -> None:
    """Opening a terminal with a blank reason or as root the policy forbids, and renaming a
    file to a name taken or with a slash, are said by the field; no tool opens and the
    files stay as they were."""
    admin, page = desk.admin, desk.page
    ticket = await ticket_with_device(admin, desk.tools.id)
    sid = await files_session(admin, ticket["id"])
    await page.goto(f"/#/desk/tickets/{ticket['id']}")

    await page.locator("[data-action=open-terminal]").click()
    form = page.get_by_role("form", name="Open a terminal")
    reason = form.get_by_label("Reason (the user sees it)")
    await reason.fill("  ")
    await form.get_by_role("button", name="Open terminal").click()
    await expect_by_field(reason, "Reason is required.")
    await reason.fill("Read the logs")
    root = form.get_by_role("checkbox", name=re.compile("As administrator"))
    await root.check()
    await form.get_by_role("button", name="Open terminal").click()
    await expect_by_field(root, "The policy of this device's group does not allow this tool "
                                "as root.")
    await close_dialog(page)
    sessions = (await admin.get(f"/api/v1/tickets/{ticket['id']}/tool-sessions")).json["items"]
    assert [s["id"] for s in sessions] == [sid]

    await page.locator(f"[data-tool-session='{sid}']").click()
    files = page.get_by_role("dialog", name=re.compile("Files on"))
    await files.get_by_role("button", name="Rename a.txt").click()
    ask = page.get_by_role("form", name="Rename a.txt")
    name = ask.get_by_label("New name")
    await name.fill("b.txt")
    await ask.get_by_role("button", name="Rename").click()
    await expect_by_field(name, '"b.txt" already exists in this folder.')
    await name.fill("logs/a.txt")
    await ask.get_by_role("button", name="Rename").click()
    await expect_by_field(name, re.compile('or contain "/"'))
    await close_dialog(page)
    await expect(ask).to_have_count(0)
    await close_dialog(page)  # the Files dialog
    assert sorted(p.name for p in desk.home.iterdir()) == ["a.txt", "b.txt"]
    assert (desk.home / "b.txt").read_text() == "second\n"
    steps = [e["changes"]["step"] for e in await tool_events(admin, ticket["id"])]
    assert "rename" not in steps, steps


async def test_starting_a_remote_session_says_what_is_missing_by_the_field(
        desk: Desk) -> None:
    """A blank reason (caught in the page, then by the server) and a new ticket without a
    title are said by their fields; no session starts and no ticket is made. The API
    refuses a reason of spaces naming the field."""
    admin, page, device = desk.admin, desk.page, desk.remote.id
    ticket = await ticket_with_device(admin, device)
    for path, body in ((f"/api/v1/tickets/{ticket['id']}/remote-sessions", {"mode": "view"}),
                       (f"/api/v1/tickets/{ticket['id']}/tool-sessions", {"kind": "terminal"})):
        refused = await admin.post(path, json={**body, "reason": "   "})
        assert (refused.status, refused.json["error"]["field"]) == (422, "reason"), refused.body
    await page.goto(f"/#/desk/tickets/{ticket['id']}")
    await page.locator("[data-action=start-remote]").click()
    form = page.get_by_role("form", name="Start a remote session")
    reason = form.get_by_label("Reason (the user sees it)")
    await form.get_by_role("button", name="Start").click()
    await expect_by_field(reason, "Reason is required.")
    await reason.evaluate("(el) => el.removeAttribute('required')")  # only the server knows now
    await reason.fill("   ")
    async with page.expect_response(posted("/remote-sessions")) as answer:
        await form.get_by_role("button", name="Start").click()
    assert (await (await answer.value).json())["error"]["field"] == "reason"
    await expect_by_field(reason, "Reason is required.")
    await close_dialog(page)

    await page.goto(f"/#/devices/{device}")
    await page.locator("[data-action=device-remote]").click()
    dialog = page.get_by_role("dialog", name="Remote session on")
    await dialog.get_by_role("radio", name="A new ticket for this device").check()
    title = dialog.get_by_label("Title of the new ticket")
    await title.fill("")
    await dialog.get_by_label("Reason (the user sees it)").fill("Check the printer queue")
    await dialog.get_by_role("button", name="Start").click()
    await expect_by_field(title, "Title is required.")
    await close_dialog(page)
    assert (await admin.get(f"/api/v1/tickets/{ticket['id']}/remote-sessions")).json[
        "items"] == []
    mine = (await admin.get(f"/api/v1/tickets?device_id={device}")).json["items"]
    assert [t["id"] for t in mine] == [ticket["id"]]
