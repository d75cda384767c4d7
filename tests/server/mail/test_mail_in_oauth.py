"""IMAP login by OAuth2 (SASL XOAUTH2): an access token from the mailbox's token endpoint
(client credentials or a refresh token), checked by a real Dovecot at an introspection
endpoint; a refused client is reported in words and never with its secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.server.mail.test_mailboxes import _admin, _email_tickets, _mail
from tests.support.dovecot import USER, running_dovecot
from tests.support.server import start_server
from tests.support.waiting import eventually

SECRET = "client-secret-1"  # a test client on loopback


class Provider:
    """A tiny OAuth2 provider on loopback: a token endpoint and RFC 7662 introspection."""

    def __init__(self) -> None:
        self.issued: set[str] = set()
        self.grants: list[str] = []
        self.url = ""

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.grants.append(str(form.get("grant_type")))
        if form.get("client_id") != "deskmate" or form.get("client_secret") != SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") != "rt-1":
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = f"at-{len(self.grants)}"
        self.issued.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": 3600})

    async def introspect(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("token") in self.issued:
            return web.json_response({"active": True, "username": USER})
        return web.json_response({"active": False})


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    """The provider, served on 127.0.0.1 on a free port."""
    found = Provider()
    app = web.Application()
    app.router.add_post("/token", found.token)
    app.router.add_post("/introspect", found.introspect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}"
    try:
        yield found
    finally:
        await runner.cleanup()


async def test_xoauth2_login_reads_the_mailbox(tmp_path: Path, provider: Provider) -> None:
    """A mailbox with OAuth2 client credentials logs in to Dovecot by XOAUTH2 and turns its mail into a ticket; a refresh token is used when set; a wrong secret is explained without the secret."""  # noqa: E501
    with running_dovecot(introspection_url=f"{provider.url}/introspect") as dovecot:
        await asyncio.to_thread(dovecot.append, [_mail(1)])
        server = await start_server(tmp_path / "data", mail_imap_ca_file=str(dovecot.ca_file))
        try:
            admin = await _admin(server)
            box: dict[str, Any] = {
                "name": "Cloud", "kind": "imap", "address": "help@deskmate.test",
                "host": "127.0.0.1", "port": dovecot.imaps_port, "security": "tls",
                "username": USER, "auth": "oauth2", "active": False,
                "oauth_token_url": f"{provider.url}/token", "oauth_client_id": "deskmate",
                "oauth_client_secret": SECRET,
                "oauth_scope": "https://outlook.office365.com/.default"}
            bad = await admin.post("/api/v1/mailboxes", json={**box, "oauth_token_url":
                                                              "ftp://example.test/token"})
            assert (bad.status, bad.json["error"]["field"]) == (422, "oauth_token_url")
            made = await admin.post("/api/v1/mailboxes", json=box)
            assert made.status == 201, made.body
            shown = made.json
            assert (shown["auth"], shown["has_oauth_secret"], shown["has_refresh_token"]) == (
                "oauth2", True, False)
            assert SECRET not in made.body.decode()
            path = f"/api/v1/mailboxes/{shown['id']}"
            tried = (await admin.post(f"{path}/test")).json
            assert tried["ok"] is True, tried
            assert provider.grants == ["client_credentials"]

            await admin.patch(path, json={"oauth_refresh_token": "rt-1"})
            assert (await admin.post(f"{path}/test")).json["ok"] is True
            assert provider.grants[-1] == "refresh_token"

            await admin.patch(path, json={"oauth_client_secret": "wrong-secret"})
            refused = (await admin.post(f"{path}/test")).json
            assert refused["ok"] is False
            assert "401 invalid_client" in refused["message"]
            assert "wrong-secret" not in refused["message"]

            await admin.patch(path, json={"oauth_client_secret": SECRET, "active": True})
            async def taken() -> bool:
                return len(await _email_tickets(server)) == 1

            await eventually(taken, within=30)
            assert await asyncio.to_thread(dovecot.count) == 0
        finally:
            await server.close()
