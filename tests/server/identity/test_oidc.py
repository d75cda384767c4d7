"""OpenID Connect sign-in against a real OpenID provider (oidc-provider from npm, on
loopback over HTTPS with a test CA): people created or linked by subject, roles and groups
from the groups claim, key rotation, replayed state, an unreachable provider, the client
secret kept write-only, and local login kept for admins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from server.db.schema import audit_events, users
from server.oidc.discovery import CLIENTS, ProviderClient
from server.oidc.tables import oidc_accounts, oidc_flows, oidc_providers
from tests.support import openid
from tests.support.openid import OpenIdProvider, through_provider
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server

ACCOUNTS = {
    "alice": {"name": "Alice Tech", "email": "alice@example.test", "email_verified": True,
              "preferred_username": "alice", "groups": ["it-staff", "everyone"]},
    "bob": {"name": "Bob Requester", "email": "bob@example.test", "email_verified": True,
            "preferred_username": "bob", "groups": ["everyone"]},
    "carol": {"name": "Carol Local", "email": "carol@example.test", "email_verified": True,
              "preferred_username": "carol.sso"},
}


@pytest.fixture(scope="module")
def idp() -> Iterator[OpenIdProvider]:
    """A real OpenID provider for the module's tests."""
    with openid.running_provider(accounts=ACCOUNTS) as provider:
        yield provider


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A Deskmate server that refetches a provider's keys at once on an unknown kid."""
    running = await start_server(tmp_path / "data", oidc_jwks_min_refresh_seconds=0)
    try:
        yield running
    finally:
        await running.close()


def provider_body(idp: OpenIdProvider, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Example SSO", "issuer": idp.issuer, "client_id": openid.CLIENT_ID,
        "client_secret": openid.CLIENT_SECRET, "ca_pem": idp.ca_pem,
        "scopes": "openid email profile groups", "groups_claim": "groups",
        "create_users": True}
    body.update(extra)
    return body


@pytest.fixture
async def sso(server: RunningServer, admin: Client, idp: OpenIdProvider) -> int:
    """Deskmate's record of the provider (it-staff → technician in group IT), and the
    provider's record of Deskmate."""
    group = await admin.post("/api/v1/groups", json={"name": "IT", "description": ""})
    assert group.status == 201, group.body
    resp = await admin.post("/api/v1/identity-providers", json=provider_body(idp, group_mappings=[
        {"claim_value": "it-staff", "role": "technician",
         "deskmate_group_id": group.json["id"]}]))
    assert resp.status == 201, resp.body
    idp.set_clients([openid.client(resp.json["redirect_uri"])])
    return int(resp.json["id"])


async def sign_in(server: RunningServer, idp: OpenIdProvider, provider_id: int,
                  login: str) -> tuple[Client, str]:
    client = server.client()
    return client, await through_provider(client.session, server.base_url, idp,
                                          provider_id, login)


def sso_error(location: str) -> str | None:
    return parse_qs(urlsplit(location).query).get("sso_error", [None])[0]


async def audit(server: RunningServer, action: str) -> list[dict[str, Any]]:
    rows = await server.db.read(lambda c: c.execute(
        sa.select(audit_events.c.detail).where(audit_events.c.action == action)
        .order_by(audit_events.c.id)).scalars().all())
    return [dict(r) for r in rows]


async def user_count(server: RunningServer) -> int:
    return int(await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(users)).scalar_one()))


async def test_people_are_created_or_signed_in_with_roles_and_groups_from_claims(
        server: RunningServer, admin: Client, idp: OpenIdProvider, sso: int) -> None:
    """A first sign-in creates the person with the role and group their groups claim maps to (technician in IT, or requester) and opens the same session a password login does; a second sign-in finds them by issuer and subject."""  # noqa: E501
    alice, where = await sign_in(server, idp, sso, "alice")
    assert where == "/"
    me = await alice.get("/api/v1/auth/session")
    assert me.status == 200, me.body
    assert me.json["user"]["username"] == "alice"
    assert me.json["user"]["role"] == "technician"
    assert me.json["user"]["display_name"] == "Alice Tech"
    it = (await admin.get("/api/v1/groups")).json["items"][0]
    assert me.json["user"]["id"] in it["member_ids"]

    bob, where = await sign_in(server, idp, sso, "bob")
    assert where == "/"
    assert (await bob.get("/api/v1/auth/session")).json["user"]["role"] == "requester"
    before = await user_count(server)
    _again, where = await sign_in(server, idp, sso, "alice")
    assert where == "/"
    assert await user_count(server) == before  # linked by (iss, sub): nobody new
    logins = [d for d in await audit(server, "auth.login") if d.get("method") == "oidc"]
    assert [d["provider"] for d in logins] == ["Example SSO"] * 3
    created = await audit(server, "oidc.user_created")
    assert [(d["username"], d["role"]) for d in created] == [("alice", "technician"),
                                                             ("bob", "requester")]


async def test_a_rotated_signing_key_is_fetched_when_a_token_names_it(
        server: RunningServer, idp: OpenIdProvider, sso: int) -> None:
    """When the provider starts signing with a new key, Deskmate fetches the key set again on the first token naming it and the sign-in succeeds."""  # noqa: E501
    _client, where = await sign_in(server, idp, sso, "bob")
    assert where == "/"
    row = await server.db.read(lambda c: c.execute(
        sa.select(oidc_providers).where(oidc_providers.c.id == sso)).one())
    client = await server.app[CLIENTS].get(row)
    assert client.key_fetches == 1
    new_kid = idp.rotate_key()
    _client, where = await sign_in(server, idp, sso, "bob")
    assert where == "/"
    assert client.key_fetches == 2
    keys = await client.keys(new_kid)
    assert [k.kid for k in keys.keys] == [new_kid]


async def test_unknown_key_ids_refetch_the_key_set_at_most_once_per_floor(
        idp: OpenIdProvider) -> None:
    """Tokens naming unknown keys make Deskmate fetch the provider's key set again only once per oidc_jwks_min_refresh_seconds, however many arrive."""  # noqa: E501
    now = [1000.0]
    client = ProviderClient(issuer=idp.issuer, ca_pem=idp.ca_pem, timeout=10,
                            min_refresh=60, clock=lambda: now[0])
    try:
        await client.keys(None)
        for n in range(20):
            await client.keys(f"made-up-{n}")
        assert client.key_fetches == 1
        now[0] += 61
        await client.keys("made-up-again")
        await client.keys("made-up-once-more")
        assert client.key_fetches == 2
    finally:
        await client.close()


async def test_state_is_single_use_and_bound_to_the_browser(
        server: RunningServer, idp: OpenIdProvider, sso: int) -> None:
    """A callback replayed after use, or opened in another browser than the one that started the sign-in, is refused with sso_state_invalid and creates nobody."""  # noqa: E501
    stolen: list[str] = []
    original = openid.callback

    async def keep(http: Any, url: str) -> str:
        stolen.append(url)
        return await original(http, url)

    openid.callback = keep
    try:
        client, where = await sign_in(server, idp, sso, "bob")
    finally:
        openid.callback = original
    assert where == "/"
    assert sso_error(await openid.callback(client.session, stolen[0])) == "sso_state_invalid"

    # Another browser: a fresh start by the victim, the callback opened by someone else.
    other = server.client()
    before = await user_count(server)
    openid.callback = keep
    try:
        start = server.client()
        await through_provider(start.session, server.base_url, idp, sso, "alice")
    finally:
        openid.callback = original
    assert sso_error(await openid.callback(other.session, stolen[1])) == "sso_state_invalid"
    assert await user_count(server) == before + 1  # alice, once, in the right browser
    assert await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(oidc_flows)).scalar_one()) == 0
    refusals = [d for d in await audit(server, "auth.login_failed") if d.get("method") == "oidc"]
    assert [d["reason"] for d in refusals] == ["sso_state_invalid", "sso_state_invalid"]


async def test_an_existing_user_is_linked_only_by_subject_or_verified_email_when_allowed(
        server: RunningServer, admin: Client, idp: OpenIdProvider, sso: int) -> None:
    """A local user is never taken over silently by e-mail: without a link the sign-in is refused (no account created when creation is off); with matching by verified e-mail on, it links to them."""  # noqa: E501
    carol = await server.create_user(admin, "carol", "requester")
    assert (await admin.patch(f"/api/v1/users/{carol['id']}",
                              json={"email": "carol@example.test"})).status == 200
    body = provider_body(idp, create_users=False)
    body.pop("client_secret")
    assert (await admin.put(f"/api/v1/identity-providers/{sso}", json=body)).status == 200
    before = await user_count(server)
    _client, where = await sign_in(server, idp, sso, "carol")
    assert sso_error(where) == "sso_no_account"
    assert await user_count(server) == before

    body["match_verified_email"] = True
    assert (await admin.put(f"/api/v1/identity-providers/{sso}", json=body)).status == 200
    client, where = await sign_in(server, idp, sso, "carol")
    assert where == "/"
    me = (await client.get("/api/v1/auth/session")).json["user"]
    assert (me["id"], me["username"], me["role"]) == (carol["id"], "carol", "requester")
    assert await user_count(server) == before
    link = await server.db.read(lambda c: c.execute(sa.select(oidc_accounts)).one())
    assert (link.user_id, link.issuer, link.subject, link.created) == (
        carol["id"], idp.issuer, "carol", False)
    assert [d["by"] for d in await audit(server, "oidc.account_linked")] == ["verified_email"]


async def test_unreachable_provider_is_refused_and_local_admin_login_still_works(
        server: RunningServer, admin: Client, idp: OpenIdProvider) -> None:
    """A provider that cannot be reached sends the browser back to the login page with sso_unavailable, creates nothing, and the local admin still logs in."""  # noqa: E501
    resp = await admin.post("/api/v1/identity-providers", json=provider_body(
        idp, name="Gone", issuer="https://127.0.0.1:9/", timeout_seconds=2))
    assert resp.status == 201, resp.body
    before = await user_count(server)
    _client, where = await sign_in(server, idp, resp.json["id"], "alice")
    assert sso_error(where) == "sso_unavailable"
    assert await user_count(server) == before
    test = await admin.post(f"/api/v1/identity-providers/{resp.json['id']}/test")
    assert test.status == 200 and test.json["ok"] is False
    assert "cannot be reached" in test.json["message"]
    await server.login("admin", ADMIN_PASSWORD)
    assert [d["reason"] for d in await audit(server, "auth.login_failed")] == [
        "sso_unavailable"]


async def test_sign_in_settings_secret_write_only_and_local_login_for_admins_only(
        server: RunningServer, admin: Client, idp: OpenIdProvider, sso: int) -> None:
    """The API never returns a provider's client secret (a change without one keeps it); the login page's public list names enabled providers; with local login for admins only, a requester's right password is refused (local_login_disabled) and the admin still logs in."""  # noqa: E501
    shown = await admin.get(f"/api/v1/identity-providers/{sso}")
    assert "client_secret" not in shown.json and shown.json["client_secret_set"] is True
    assert openid.CLIENT_SECRET not in shown.body.decode()
    body = provider_body(idp, name="Renamed")
    body.pop("client_secret")
    changed = await admin.put(f"/api/v1/identity-providers/{sso}", json=body)
    assert changed.json["client_secret_set"] is True
    stored = await server.db.read(lambda c: c.execute(sa.text(
        "SELECT client_secret FROM oidc_providers")).scalar_one())
    assert stored == openid.CLIENT_SECRET
    public = await server.client().get("/api/v1/auth/oidc/providers")
    assert public.json == {"providers": [{"id": sso, "name": "Renamed",
                                          "start_url": f"/api/v1/auth/oidc/{sso}/start"}],
                           "local_login_admins_only": False}
    body["enabled"] = False
    assert (await admin.put(f"/api/v1/identity-providers/{sso}", json=body)).status == 200
    assert (await server.client().get("/api/v1/auth/oidc/providers")).json["providers"] == []
    plain = provider_body(idp, name="Plain", issuer="http://idp.example.test")
    assert (await admin.post("/api/v1/identity-providers", json=plain)).status == 422

    await server.create_user(admin, "rick", "requester")
    on = await admin.put("/api/v1/identity-providers/settings",
                         json={"local_login_admins_only": True})
    assert on.status == 200 and on.json == {"local_login_admins_only": True}
    refused = await server.client().post("/api/v1/auth/login",
                                         json={"username": "rick", "password": PASSWORD})
    assert refused.status == 403 and refused.error_code == "local_login_disabled"
    wrong = await server.client().post("/api/v1/auth/login",
                                       json={"username": "rick", "password": "wrong-one-1"})
    assert wrong.status == 401  # a wrong password says nothing about the switch
    await server.login("admin", ADMIN_PASSWORD)
    assert (await server.client().get("/api/v1/auth/oidc/providers")).json[
        "local_login_admins_only"] is True
    await admin.put("/api/v1/identity-providers/settings",
                    json={"local_login_admins_only": False})
    await server.login("rick")


async def test_a_token_outside_the_clock_skew_allowance_is_refused_and_creates_nobody(
        tmp_path: Path, idp: OpenIdProvider) -> None:
    """An ID token the server's clock sees as expired beyond the allowance (here: the allowance turned negative, two hours behind the provider's one-hour token) is refused with sso_token_invalid through the whole callback, and nobody is created."""  # noqa: E501
    running = await start_server(tmp_path / "data", oidc_clock_skew_seconds=-7200)
    try:
        admin = await running.login("admin", ADMIN_PASSWORD)
        made = await admin.post("/api/v1/identity-providers", json=provider_body(idp))
        idp.set_clients([openid.client(made.json["redirect_uri"])])
        before = await user_count(running)
        _client, where = await sign_in(running, idp, made.json["id"], "bob")
        assert sso_error(where) == "sso_token_invalid"
        assert await user_count(running) == before
        refusal = [d for d in await audit(running, "auth.login_failed")
                   if d.get("method") == "oidc"]
        assert len(refusal) == 1 and "expired" in refusal[0]["detail"]
    finally:
        await running.close()
