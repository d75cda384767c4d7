"""Bad input in the identity forms (directories, single sign-on, two-step login, password
reset): the message by its field, in the reader's language, nothing saved."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.console.test_console import log_in
from tests.console.test_form_errors import expect_field_error
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def admin_api(module_server: RunningServer) -> Client:
    """The first admin's API session on the module's server."""
    return await module_server.login("admin", ADMIN_PASSWORD)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def admin_session(module_server: RunningServer, module_browser: Any,
                        ) -> AsyncIterator[Any]:
    """One page of the module's browser with the first admin logged in (once)."""
    async with open_page(module_browser, module_server.base_url) as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        yield page


@pytest_asyncio.fixture(loop_scope="module")
async def admin_page(admin_session: Any) -> AsyncIterator[Any]:
    """The admin's page for one test; a dialog the test left open is closed after it."""
    yield admin_session
    for dialog in await admin_session.locator("dialog[open]").all():
        await dialog.evaluate("(d) => d.close()")


async def test_directory_form_says_a_wrong_url_by_the_urls_field(
        admin_page: Any, admin_api: Client) -> None:
    """A mapping line that does not parse, and an ldap:// URL with LDAPS security (the
    server's rule), are each said under their field; no directory is saved."""
    page = admin_page
    await page.goto("/#/admin/directories")
    await page.get_by_role("button", name="Add directory").click()
    form = page.get_by_role("form", name="Directory")
    await form.get_by_label("Name", exact=True).fill("corp")
    urls = form.get_by_label("Server URLs")
    await urls.fill("ldap://ldap.example.org")
    await form.get_by_label("Service account DN").fill("cn=deskmate,dc=example,dc=org")
    await form.get_by_label("Service account password").fill("secret")
    await form.get_by_label("User search base").fill("ou=people,dc=example,dc=org")
    mappings = form.get_by_label("Group mapping", exact=True)
    await mappings.fill("cn=staff,dc=example,dc=org | boss")
    await form.get_by_role("button", name="Save directory").click()
    await expect_field_error(mappings, re.compile("^Line 1 does not read as group DN"))
    await mappings.fill("cn=staff,dc=example,dc=org | technician")
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/directories")) as answer:
        await form.get_by_role("button", name="Save directory").click()
    body = await (await answer.value).json()
    assert body["error"]["field"] == "urls"
    await expect_field_error(urls, re.compile(r"needs ldaps:// URLs"))
    await expect(form.locator(".field-error")).to_have_count(1)
    await expect(page.get_by_role("alert")).to_have_count(0)
    assert (await admin_api.get("/api/v1/directories")).json["items"] == []


async def test_sso_form_says_a_taken_name_and_an_http_issuer_by_their_fields(
        admin_page: Any, admin_api: Client) -> None:
    """An issuer that is not https:// and a provider name already taken (the server's
    409, which names its field) are said under their fields; nothing more is saved."""
    taken = await admin_api.post("/api/v1/identity-providers", json={
        "name": "Staff SSO", "issuer": "https://login.example.org", "client_id": "deskmate",
        "client_secret": "s3cret"})
    assert taken.status == 201, taken.body
    page = admin_page
    await page.goto("/#/admin/sso")
    await page.get_by_role("button", name="Add provider").click()
    form = page.get_by_role("form", name="Identity provider")
    name = form.get_by_label("Name", exact=True)
    await name.fill("Staff SSO")
    issuer = form.get_by_label("Issuer URL")
    await issuer.fill("http://login.example.org")
    await form.get_by_label("Client ID").fill("deskmate")
    await form.get_by_label("Client secret").fill("s3cret")
    await form.get_by_role("button", name="Save").click()
    await expect_field_error(issuer, re.compile("^Enter the issuer's https:// address"))
    await issuer.fill("https://login.example.org")
    await form.get_by_role("button", name="Save").click()
    await expect_field_error(name, re.compile("^Identity provider name 'Staff SSO' is taken"))
    await expect(form.locator(".field-error")).to_have_count(1)
    items = (await admin_api.get("/api/v1/identity-providers")).json["items"]
    assert [p["id"] for p in items] == [taken.json["id"]]


async def test_two_step_login_set_up_says_a_wrong_code_by_the_code_field(
        admin_page: Any, admin_api: Client) -> None:
    """A wrong first code from the app is said under the code field; the second factor
    stays off."""
    page = admin_page
    await page.goto("/#/account")
    await page.get_by_role("button", name="Set up two-step login").click()
    form = page.get_by_role("form", name="Confirm two-step login")
    code = form.get_by_label("Code from the app")
    await form.get_by_role("button", name="Turn on").click()
    await expect_field_error(code, "Code from the app is required.")
    await code.fill("12345")  # five digits: never a code of the app
    await form.get_by_role("button", name="Turn on").click()
    await expect_field_error(code, "Wrong code; check the time on your phone and try again")
    await expect(page.get_by_role("alert")).to_have_count(0)
    assert (await admin_api.get("/api/v1/auth/totp")).json["enabled"] is False


async def test_password_reset_pages_say_bad_input_by_the_field_in_indonesian(
        module_server: RunningServer, module_browser: Any) -> None:
    """In Bahasa Indonesia: a malformed address is said under its field and nothing is
    sent; a short password (the server's rule) and an unrepeated one are said under
    theirs."""
    async with open_page(module_browser, module_server.base_url, locale="id-ID") as page:
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if "/password-reset" in r.url else None)
        await page.goto("/#/forgot-password")
        form = page.get_by_role("form", name="Minta tautan untuk mengatur ulang kata sandi")
        email = form.get_by_label("Alamat e-mail")
        await email.fill("rick@")
        await form.get_by_role("button", name="Kirim tautan").click()
        await expect_field_error(email, re.compile("^Masukkan alamat"))
        assert sent == []

        await page.goto("/#/reset-password/" + "x" * 32)
        form = page.get_by_role("form", name="Pilih kata sandi baru")
        new = form.get_by_label("Kata sandi baru", exact=True)
        again = form.get_by_label("Ulangi kata sandi baru")
        await new.fill("pendek")
        await again.fill("pendek")
        await new.evaluate("(el) => el.removeAttribute('minlength')")  # the server's rule now
        await again.evaluate("(el) => el.removeAttribute('minlength')")
        async with page.expect_response(lambda r: r.url.endswith("/confirm")) as answer:
            await form.get_by_role("button", name="Simpan kata sandi").click()
        response = await answer.value
        assert response.status == 422
        assert (await response.json())["error"]["field"] == "new_password"
        await expect_field_error(new, re.compile("^Kata sandi harus terdiri dari minimal 10 "))
        await new.fill("kata-sandi-baru-1")
        await again.fill("kata-sandi-baru-2")
        await form.get_by_role("button", name="Simpan kata sandi").click()
        await expect_field_error(again, "Kedua kata sandi baru berbeda.")
        await expect(form.locator(".field-error")).to_have_count(1)
