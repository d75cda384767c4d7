"""Single sign-on in the browser against a real OpenID provider (oidc-provider from npm):
an admin adds the provider on the Single sign-on page, then people click its button on
the login page, sign in on the provider's own login page, and land in the desk (staff by
their groups claim) or the portal (a requester created on first sign-in)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.support import openid
from tests.support.browser import open_page
from tests.support.openid import OpenIdProvider
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "alice": {"name": "Alice Tech", "email": "alice@example.test", "email_verified": True,
              "preferred_username": "alice", "groups": ["it-staff"]},
    "bob": {"name": "Bob Requester", "email": "bob@example.test", "email_verified": True,
            "preferred_username": "bob", "groups": []},
}


@pytest.fixture(scope="module")
def idp() -> Iterator[OpenIdProvider]:
    """A real OpenID provider for the module."""
    with openid.running_provider(accounts=ACCOUNTS) as provider:
        yield provider


async def offline_fonts(page: Any) -> None:
    # The provider's development login page imports a web font; the tests have no
    # internet, so it gets an empty style sheet instead of a failed request.
    await page.route("https://fonts.googleapis.com/**", lambda route: route.fulfill(
        status=200, content_type="text/css", body=""))


async def sign_in_at_provider(page: Any, login: str) -> None:
    """Click the provider's button on the login page and sign in on its own page."""
    await offline_fonts(page)
    await page.goto("/")
    await page.get_by_role("link", name="Sign in with Example SSO").click()
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("any password")
    await page.get_by_role("button", name="Sign-in").click()


async def test_people_sign_in_through_the_provider_into_desk_or_portal(
        server: RunningServer, admin: Client, browser: Any, page: Any,
        idp: OpenIdProvider) -> None:
    """An admin adds the provider in the console; a technician by group claim lands in the desk and a new requester in the portal after signing in on the provider's page; a refused sign-in is explained on the login page."""  # noqa: E501
    group = await admin.post("/api/v1/groups", json={"name": "IT", "description": ""})
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/admin/sso")
    await page.get_by_role("button", name="Add provider").click()
    form = page.get_by_role("form", name="Identity provider")
    await form.get_by_label("Name", exact=True).fill("Example SSO")
    await form.get_by_label("Issuer URL").fill(idp.issuer)
    await form.get_by_label("Client ID").fill(openid.CLIENT_ID)
    await form.get_by_label("Client secret").fill(openid.CLIENT_SECRET)
    await form.get_by_label("Scopes").fill("openid email profile groups")
    await form.get_by_label("CA certificate (PEM)").fill(idp.ca_pem)
    await form.get_by_label("Group mapping").fill(
        f"it-staff | technician | {group.json['id']}")
    await form.get_by_label("Create an account on first sign-in").check()
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("cell", name="Example SSO", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Test Example SSO").click()
    await expect(page.get_by_role("status").filter(has_text="working")).to_contain_text(
        "Example SSO: working.")
    shown = (await admin.get("/api/v1/identity-providers")).json["items"][0]
    assert shown["client_secret_set"] is True and "client_secret" not in shown
    idp.set_clients([openid.client(shown["redirect_uri"])])

    async with open_page(browser, server.base_url) as tech:
        await sign_in_at_provider(tech, "alice")
        await expect(tech.get_by_role("button", name="Log out")).to_be_visible()
        await expect(tech).to_have_url(f"{server.base_url}/#/desk")
        await expect(tech.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Desk")).to_be_visible()

    async with open_page(browser, server.base_url) as requester:
        await sign_in_at_provider(requester, "bob")
        await expect(requester.get_by_role("button", name="Log out")).to_be_visible()
        await expect(requester).to_have_url(f"{server.base_url}/#/portal")

    async with open_page(browser, server.base_url) as refused:
        await refused.goto("/?sso_error=sso_state_invalid#/login")
        await expect(refused.get_by_role("alert")).to_contain_text(
            "That sign-in has expired or was already used.")
        assert "sso_error" not in refused.url
    users = (await admin.get("/api/v1/users")).json["items"]
    assert {(u["username"], u["role"]) for u in users} >= {("alice", "technician"),
                                                           ("bob", "requester")}
