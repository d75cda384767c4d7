"""API tokens and sessions end when the account's trust changes; tokens always expire."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.schema import api_tokens
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def _token(client: Client, **body: object) -> str:
    resp = await client.post("/api/v1/auth/tokens", json={"name": "script", **body})
    assert resp.status == 201, resp.body
    return str(resp.json["token"])


async def _works(server: RunningServer, token: str) -> bool:
    script = server.client()
    script.bearer = token
    resp = await script.get("/api/v1/auth/session")
    assert resp.status in (200, 401), resp.body
    return resp.status == 200


async def test_password_change_ends_other_sessions_and_tokens_and_says_so(
        server: RunningServer, admin: Client) -> None:
    """A self-service password change revokes the user's API tokens and other sessions."""
    await server.create_user(admin, "pat", "technician")
    first = await server.login("pat")
    second = await server.login("pat")
    tokens = [await _token(first), await _token(second)]
    resp = await first.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "brand-new-pass"})
    assert resp.status == 200, resp.body
    assert resp.json == {"sessions_ended": 1, "tokens_revoked": 2}
    assert (await first.get("/api/v1/auth/session")).status == 200
    assert (await second.get("/api/v1/auth/session")).status == 401
    assert [await _works(server, t) for t in tokens] == [False, False]
    listed = await first.get("/api/v1/auth/tokens")
    assert listed.json["items"] == []


async def test_password_change_through_a_token_keeps_only_that_token(
        server: RunningServer, admin: Client) -> None:
    """Changed with an API token, the password change keeps that token and ends the rest."""
    await server.create_user(admin, "pat", "technician")
    session = await server.login("pat")
    used, other = await _token(session), await _token(session)
    script = server.client()
    script.bearer = used
    resp = await script.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "brand-new-pass"})
    assert resp.status == 200, resp.body
    assert resp.json == {"sessions_ended": 1, "tokens_revoked": 1}
    assert (await _works(server, used), await _works(server, other)) == (True, False)
    assert (await session.get("/api/v1/auth/session")).status == 401


async def test_a_token_without_expiry_is_refused(server: RunningServer, admin: Client) -> None:
    """expires_in_days: null is refused (422): every token expires."""
    resp = await admin.post("/api/v1/auth/tokens", json={"name": "x", "expires_in_days": None})
    assert resp.status == 422, resp.body
    assert resp.error_code == "validation_error"
    assert (await admin.get("/api/v1/auth/tokens")).json["items"] == []


async def test_token_lifetime_is_capped_by_the_setting(tmp_path: Path) -> None:
    """A token may live at most api_token_max_days; longer requests get 422."""
    server = await start_server(tmp_path / "data", api_token_max_days=30)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        long = await admin.post("/api/v1/auth/tokens", json={"name": "x", "expires_in_days": 31})
        assert long.status == 422, long.body
        assert "30" in long.json["error"]["message"]
        ok = await admin.post("/api/v1/auth/tokens", json={"name": "x", "expires_in_days": 30})
        assert ok.status == 201, ok.body
        expires = dt.datetime.fromisoformat(ok.json["info"]["expires_at"])
        created = dt.datetime.fromisoformat(ok.json["info"]["created_at"])
        assert expires - created == dt.timedelta(days=30)
    finally:
        await server.close()


async def test_old_tokens_without_expiry_get_the_maximum_lifetime(tmp_path: Path) -> None:
    """A stored token that never expired is held to api_token_max_days from its creation."""
    data = tmp_path / "data"
    server = await start_server(data)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        old, recent = await _token(admin), await _token(admin)
        now = dt.datetime.now(dt.UTC)
        # As made by an earlier version with "expires_in_days": null.
        await server.db.write(lambda c: c.execute(api_tokens.update().values(expires_at=None)))
        await server.db.write(lambda c: c.execute(
            api_tokens.update().where(api_tokens.c.prefix == old[:8])
            .values(created_at=now - dt.timedelta(days=366))))
    finally:
        await server.close()
    server = await start_server(data)
    try:
        assert (await _works(server, old), await _works(server, recent)) == (False, True)
        rows = await server.db.read(lambda c: c.execute(
            sa.select(api_tokens.c.created_at, api_tokens.c.expires_at)).all())
        assert all(r.expires_at == r.created_at + dt.timedelta(days=365) for r in rows)
    finally:
        await server.close()


async def test_reactivating_a_user_does_not_revive_their_tokens(
        server: RunningServer, admin: Client) -> None:
    """Deactivation revokes a user's tokens for good: reactivation brings none back."""
    user = await server.create_user(admin, "leaver", "technician")
    token = await _token(await server.login("leaver"))
    for active in (False, True):
        resp = await admin.patch(f"/api/v1/users/{user['id']}", json={"active": active})
        assert resp.status == 200, resp.body
    assert not await _works(server, token)
    count = await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(api_tokens)
        .where(api_tokens.c.user_id == user["id"])).scalar_one())
    assert count == 0


async def test_demoting_an_admin_ends_their_sessions(
        server: RunningServer, admin: Client) -> None:
    """A role change ends the user's console sessions; their tokens act with the new role."""
    user = await server.create_user(admin, "boss", "admin")
    session = await server.login("boss")
    token = await _token(session)
    resp = await admin.patch(f"/api/v1/users/{user['id']}", json={"role": "technician"})
    assert resp.status == 200, resp.body
    assert (await session.get("/api/v1/auth/session")).status == 401
    script = server.client()
    script.bearer = token
    assert (await script.get("/api/v1/auth/session")).json["user"]["role"] == "technician"
    assert (await script.post("/api/v1/groups", json={"name": "Nope"})).status == 403
