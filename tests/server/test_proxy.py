"""Behind a TLS-terminating proxy: plain HTTP, forwarded addresses from trusted peers only."""

from __future__ import annotations

from pathlib import Path

from tests.support.server import start_server


async def _fail_login(client: object, forwarded: str) -> int:
    resp = await client.post(  # type: ignore[attr-defined]
        "/api/v1/auth/login", json={"username": "admin", "password": "wrong-password"},
        headers={"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"})
    return int(resp.status)


async def test_trusted_proxy_forwarded_address_is_the_client(tmp_path: Path) -> None:
    """From a trusted proxy, X-Forwarded-For decides the client address (rate limit key)."""
    server = await start_server(tmp_path / "data", behind_proxy=True, login_max_failures=1)
    try:
        assert server.base_url.startswith("http://") and server.tls is None
        client = server.client()
        assert await _fail_login(client, "203.0.113.5") == 401
        # The same user name is now limited, whatever the address...
        assert await _fail_login(client, "203.0.113.6") == 429
        resp = await client.post("/api/v1/auth/login",
                                 json={"username": "someone", "password": "wrong-password"},
                                 headers={"X-Forwarded-For": "203.0.113.7"})
        # ...but another address with another name is not: the proxy's own address
        # was not used as the key.
        assert resp.status == 401
        assert "Strict-Transport-Security" not in resp.headers
    finally:
        await server.close()


async def test_untrusted_peer_cannot_spoof_its_address(tmp_path: Path) -> None:
    """From an untrusted peer X-Forwarded-For is ignored, so spoofing evades nothing: the
    peer's own address reaches its limit whatever address and name it claims."""
    server = await start_server(tmp_path / "data", behind_proxy=True,
                                login_address_max_failures=1, trusted_proxies=["192.0.2.1"])
    try:
        client = server.client()
        assert await _fail_login(client, "203.0.113.5") == 401
        resp = await client.post("/api/v1/auth/login",
                                 json={"username": "other", "password": "wrong-password"},
                                 headers={"X-Forwarded-For": "203.0.113.99"})
        assert resp.status == 429
    finally:
        await server.close()


async def test_cookie_stays_secure_behind_proxy(tmp_path: Path) -> None:
    """The session cookie keeps its Secure flag when TLS ends at the proxy."""
    server = await start_server(tmp_path / "data", behind_proxy=True)
    try:
        client = server.client()
        async with client.session.post(server.base_url + "/api/v1/auth/login", json={
                "username": "admin", "password": "admin-password-1"}) as resp:
            assert resp.status == 200
            assert resp.cookies["deskmate_session"]["secure"]
    finally:
        await server.close()
