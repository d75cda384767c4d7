"""The web console in headless Chromium against the real server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def log_in(page: Any, username: str, password: str, *, ok: bool = True) -> None:
    """Open the console and log in through the form (waiting for the shell when ``ok``)."""
    await page.goto("/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    if ok:
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()


def nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Main")


async def test_admin_logs_in_to_the_desk_with_admin_nav(page: Any) -> None:
    """An admin who logs in through the form lands on the Desk and sees the Admin links."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await expect(page).to_have_url(re.compile(r"#/desk$"))
    await expect(page.locator("#page-title")).to_have_text("Desk")
    await expect(page.get_by_role("tab", name="My open")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_text("Nothing assigned to you")).to_be_visible()
    for link in ("Desk", "Users", "Groups", "Account"):
        await expect(nav(page).get_by_role("link", name=link)).to_be_visible()
    await expect(page.locator(".user-box")).to_contain_text("Administrator")
    await expect(page.locator(".user-box")).to_contain_text("Admin")


async def test_wrong_password_shows_the_server_message(page: Any) -> None:
    """A wrong password keeps the login page and shows the server's error message."""
    await log_in(page, "admin", "not-the-password", ok=False)
    await expect(page.get_by_role("alert")).to_have_text(
        re.compile("wrong user name or password", re.I))
    await expect(page).to_have_url(re.compile(r"#/login$"))


async def test_rate_limited_login_shows_the_server_message(server: RunningServer,
                                                            page: Any) -> None:
    """After too many failures the login page shows the rate-limit message from the server."""
    for _ in range(server.settings.login_max_failures):
        resp = await server.client().post("/api/v1/auth/login",
                                          json={"username": "admin", "password": "nope"})
        assert resp.status == 401
    await log_in(page, "admin", ADMIN_PASSWORD, ok=False)
    await expect(page.get_by_role("alert")).to_have_text(
        re.compile("too many failed logins; try again in", re.I))


async def test_session_survives_a_reload(page: Any) -> None:
    """Reloading the page restores the session from the cookie instead of asking again."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await expect(page.locator("#page-title")).to_have_text("Desk")
    await page.goto("/#/admin/users")
    await page.reload()
    await expect(page.locator("#page-title")).to_have_text("Users")


async def test_requester_sees_the_portal_only(server: RunningServer, admin: Client,
                                              page: Any) -> None:
    """A requester lands on the Portal without Desk or Admin links; those pages say not allowed."""
    await server.create_user(admin, "rick", "requester")
    await log_in(page, "rick", PASSWORD)
    await expect(page.locator("#page-title")).to_have_text("My tickets")
    await expect(page.get_by_role("list", name="My tickets")).to_contain_text(
        "You have no tickets yet")
    await expect(nav(page).get_by_role("link", name="My tickets")).to_be_visible()
    for link in ("Desk", "Users", "Groups"):
        await expect(nav(page).get_by_role("link", name=link)).to_have_count(0)
    for hash_ in ("#/admin/users", "#/admin/groups", "#/desk"):
        await page.goto("/" + hash_)
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.locator("table")).to_have_count(0)


async def test_technician_sees_the_desk_but_not_admin(server: RunningServer, admin: Client,
                                                      page: Any) -> None:
    """A technician lands on the Desk without Admin links, and admin pages say not allowed."""
    await server.create_user(admin, "tina", "technician")
    await log_in(page, "tina", PASSWORD)
    await expect(page.locator("#page-title")).to_have_text("Desk")
    await expect(nav(page).get_by_role("link", name="Users")).to_have_count(0)
    await page.goto("/#/admin/groups")
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


async def test_deep_link_is_kept_across_login(page: Any) -> None:
    """Opening an admin page while logged out leads there after logging in."""
    await page.goto("/#/admin/groups")
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await page.get_by_label("User name").fill("admin")
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#page-title")).to_have_text("Groups")


async def test_admin_creates_a_user_on_the_users_page(admin: Client, page: Any) -> None:
    """A user created through the Users page appears in the table and exists in the API."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await nav(page).get_by_role("link", name="Users").click()
    await expect(page.locator("tr[data-user=admin]")).to_be_visible()
    await page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("User name").fill("Nora.Smith")  # typed upper-case, stored lower
    await dialog.get_by_label("Display name").fill("Nora Smith")
    await dialog.get_by_label("Email").fill("nora@example.com")
    await dialog.get_by_label("Role").select_option("technician")
    await dialog.get_by_label("Initial password").fill("a-long-password")
    await dialog.get_by_role("button", name="Create user").click()
    await expect(dialog).to_have_count(0)
    row = page.locator("tr[data-user='nora.smith']")
    await expect(row).to_contain_text("Nora Smith")
    await expect(row).to_contain_text("nora@example.com")
    await expect(row).to_contain_text("Technician")
    await expect(page.get_by_role("status")).to_contain_text("User nora.smith created")

    resp = await admin.get("/api/v1/users?q=nora")
    (user,) = resp.json["items"]
    assert (user["username"], user["display_name"], user["email"], user["role"]) == (
        "nora.smith", "Nora Smith", "nora@example.com", "technician")


async def test_duplicate_user_shows_the_conflict_message(page: Any) -> None:
    """Creating a user whose name is taken shows the server's conflict message in the dialog."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/users")
    await page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("User name").fill("admin")
    await dialog.get_by_label("Display name").fill("Another admin")
    await dialog.get_by_role("button", name="Create user").click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        re.compile("user name 'admin' is taken", re.I))


async def test_users_page_searches_filters_and_loads_more(server: RunningServer,
                                                          admin: Client, page: Any) -> None:
    """The Users table pages with Load more and narrows by search and role."""
    for i in range(55):
        resp = await admin.post("/api/v1/users", json={
            "username": f"req{i:02d}", "display_name": f"Requester {i}", "role": "requester"})
        assert resp.status == 201
    await server.create_user(admin, "zoe", "technician")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/users")
    rows = page.get_by_role("table", name="Users").locator("tbody tr")
    await expect(rows).to_have_count(50)
    await page.get_by_role("button", name="Load more").click()
    await expect(rows).to_have_count(57)
    await expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    await page.get_by_label("Filter by role").select_option("technician")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("zoe")
    await page.get_by_label("Filter by role").select_option("")
    await page.get_by_label("Search users").fill("req05")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("req05")


async def test_admin_edits_a_user(server: RunningServer, admin: Client, page: Any) -> None:
    """Editing a user on the Users page changes its name, role and active flag in the API."""
    created = await server.create_user(admin, "rick", "requester")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/users")
    await page.get_by_role("button", name="Edit rick").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Display name").fill("Rick Deckard")
    await dialog.get_by_label("Role").select_option("technician")
    await dialog.get_by_label("Active").uncheck()
    await dialog.get_by_role("button", name="Save changes").click()
    row = page.locator("tr[data-user=rick]")
    await expect(row).to_contain_text("Rick Deckard")
    await expect(row).to_contain_text("Inactive")
    user = (await admin.get(f"/api/v1/users/{created['id']}")).json
    assert (user["display_name"], user["role"], user["active"]) == (
        "Rick Deckard", "technician", False)


async def test_admin_creates_a_group_and_adds_a_member(server: RunningServer, admin: Client,
                                                       page: Any) -> None:
    """A group created on the Groups page gets a member picked from the users."""
    tina = await server.create_user(admin, "tina", "technician")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await nav(page).get_by_role("link", name="Groups").click()
    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Name").fill("Network team")
    await dialog.get_by_label("Description").fill("Switches, Wi-Fi and VPN")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(page.get_by_role("list", name="Groups")).to_contain_text("Network team")
    await page.get_by_label("Person to add").select_option(label="Tina (Technician)")
    await page.get_by_role("button", name="Add member").click()
    await expect(page.get_by_role("table", name="Members")).to_contain_text("tina")

    (group,) = (await admin.get("/api/v1/groups")).json["items"]
    assert (group["name"], group["description"], group["member_ids"]) == (
        "Network team", "Switches, Wi-Fi and VPN", [tina["id"]])


async def test_admin_renames_empties_and_deletes_a_group(server: RunningServer, admin: Client,
                                                         page: Any) -> None:
    """A group can be renamed, lose its member, and be deleted after confirming."""
    tina = await server.create_user(admin, "tina", "technician")
    group = (await admin.post("/api/v1/groups", json={"name": "Desk"})).json
    await admin.put(f"/api/v1/groups/{group['id']}/members/{tina['id']}")
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto(f"/#/admin/groups/{group['id']}")
    await page.get_by_label("Name").fill("Service desk")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("list", name="Groups")).to_contain_text("Service desk")
    await page.get_by_role("button", name="Remove Tina").click()
    await expect(page.get_by_text("No members")).to_be_visible()
    assert (await admin.get(f"/api/v1/groups/{group['id']}")).json["member_ids"] == []

    await page.get_by_role("button", name="Delete group").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete group").click()
    await expect(page.get_by_role("status")).to_contain_text('Group "Service desk" deleted')
    assert (await admin.get(f"/api/v1/groups/{group['id']}")).status == 404


async def test_account_page_creates_shows_once_and_revokes_a_token(server: RunningServer,
                                                                   page: Any) -> None:
    """A token made on the Account page is shown once, works as a bearer, and can be revoked."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/account")
    await page.get_by_label("Token name").fill("backup script")
    await page.get_by_role("button", name="Create token").click()
    secret = await page.get_by_label("New API token").input_value()
    assert secret
    await expect(page.locator("table")).to_contain_text("backup script")
    bearer = server.client()
    bearer.bearer = secret
    assert (await bearer.get("/api/v1/auth/session")).status == 200

    await page.get_by_role("button", name="Revoke token backup script").click()
    await page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    await expect(page.get_by_text("No API tokens")).to_be_visible()
    await expect(page.get_by_label("New API token")).to_have_count(0)
    assert (await bearer.get("/api/v1/auth/session")).status == 401


async def test_account_page_changes_the_password(server: RunningServer, admin: Client,
                                                 page: Any) -> None:
    """The Account page changes one's password, and a wrong current one shows the error;
    the change revokes the API tokens, and the page says so."""
    await server.create_user(admin, "tina", "technician")
    script = await server.login("tina")
    made = await script.post("/api/v1/auth/tokens", json={"name": "nightly"})
    assert made.status == 201, made.body
    await log_in(page, "tina", PASSWORD)
    await page.goto("/#/account")
    await expect(page.locator("table")).to_contain_text("nightly")
    await page.get_by_label("Current password").fill("wrong-password")
    await page.get_by_label("New password", exact=True).fill("a-brand-new-password")
    await page.get_by_label("Repeat new password").fill("a-brand-new-password")
    await page.get_by_role("button", name="Change password").click()
    # Said next to the field it is about, in words (nothing is changed).
    await expect(page.locator(".field-error")).to_have_text("This is not your current password.")
    await expect(page).to_have_url(re.compile(r"#/account$"))  # not taken for a lost session
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "Password changed. 1 other session logged out and 1 API token revoked.")
    await expect(page.get_by_text("No API tokens")).to_be_visible()
    await server.login("tina", "a-brand-new-password")


async def test_logout_returns_to_login_and_ends_the_session(server: RunningServer,
                                                            page: Any) -> None:
    """Log out returns to the login page and the old session cookie no longer works."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await expect(page.locator("#page-title")).to_have_text("Desk")
    cookies = await page.context.cookies()
    secret = next(c["value"] for c in cookies if c["name"] == "deskmate_session")
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    resp = await server.client().get("/api/v1/auth/session",
                                     headers={"Cookie": f"deskmate_session={secret}"})
    assert resp.status == 401
    await page.goto("/#/desk")
    await expect(page).to_have_url(re.compile(r"#/login$"))


async def test_a_session_ended_elsewhere_returns_to_login(server: RunningServer, page: Any) -> None:
    """When the server ends the session, the next API call brings the login page with a notice."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await expect(page.locator("#page-title")).to_have_text("Desk")
    await page.context.clear_cookies()
    await page.goto("/#/admin/users")
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await expect(page.get_by_role("alert")).to_have_text(re.compile("session has ended", re.I))


async def test_leaving_a_page_closes_its_open_dialog(page: Any) -> None:
    """A dialog left open when the route changes (Back, a typed link) closes with its page."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await nav(page).get_by_role("link", name="Users").click()
    await page.get_by_role("button", name="New user").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.goto("/#/kb")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await page.get_by_label("Search articles").fill("vpn")  # the page, not the dialog, has it
    await expect(page.get_by_label("Search articles")).to_have_value("vpn")
