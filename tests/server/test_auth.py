"""Login, sessions, CSRF, rate limiting, API tokens and password changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.schema import api_tokens, audit_events, auth_sessions
from server.keys import LOGIN_THROTTLE
from tests.server.test_bad_input import snapshot
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def test_login_sets_a_secure_httponly_strict_cookie(server: RunningServer) -> None:
    """The session cookie is Secure, HttpOnly and SameSite=Strict, and not the CSRF token."""
    client = server.client()
    async with client.session.post(server.base_url + "/api/v1/auth/login", json={
            "username": "admin", "password": ADMIN_PASSWORD}) as resp:
        assert resp.status == 200
        cookie = resp.cookies["deskmate_session"]
        body = await resp.json()
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie.value != body["csrf_token"]


async def test_session_secret_is_stored_only_as_a_hash(
        server: RunningServer, admin: Client) -> None:
    """The database holds a digest of the session cookie, never the cookie itself."""
    cookie = next(c.value for c in admin.session.cookie_jar if c.key == "deskmate_session")
    rows = await server.db.read(lambda c: c.execute(sa.select(auth_sessions)).all())
    assert rows and all(cookie not in str(tuple(r)) for r in rows)


async def test_csrf_token_required_for_unsafe_session_requests(
        server: RunningServer, admin: Client) -> None:
    """Without or with a wrong X-CSRF-Token a cookie-authenticated POST is refused."""
    before = await snapshot(server)
    missing = await admin.post("/api/v1/groups", json={"name": "Ops"}, csrf=False)
    assert missing.status == 403
    assert missing.error_code == "csrf_failed"
    wrong = await admin.post("/api/v1/groups", json={"name": "Ops"}, csrf=False,
                             headers={"X-CSRF-Token": "forged"})
    assert wrong.status == 403
    assert wrong.error_code == "csrf_failed"
    assert await snapshot(server) == before
    ok = await admin.post("/api/v1/groups", json={"name": "Ops"})
    assert ok.status == 201


async def test_csrf_token_of_another_session_is_refused(
        server: RunningServer, admin: Client) -> None:
    """A CSRF token only works with the session it was issued to."""
    other = await server.login("admin", ADMIN_PASSWORD)
    resp = await admin.post("/api/v1/groups", json={"name": "Ops"}, csrf=False,
                            headers={"X-CSRF-Token": other.csrf_token})
    assert resp.status == 403
    assert resp.error_code == "csrf_failed"


async def test_bearer_token_needs_no_csrf_and_can_be_revoked(
        server: RunningServer, admin: Client) -> None:
    """An API token authenticates scripts without CSRF, and stops working when revoked."""
    created = await admin.post("/api/v1/auth/tokens", json={"name": "ci", "expires_in_days": 1})
    assert created.status == 201
    secret = created.json["token"]
    assert secret.startswith("dm_")
    script = server.client()
    script.bearer = secret
    made = await script.post("/api/v1/groups", json={"name": "Scripted"})
    assert made.status == 201
    stored = await server.db.read(lambda c: c.execute(sa.select(api_tokens)).all())
    assert all(secret not in str(tuple(r)) for r in stored)
    revoke = await admin.delete(f"/api/v1/auth/tokens/{created.json['info']['id']}")
    assert revoke.status == 204
    refused = await script.get("/api/v1/groups")
    assert refused.status == 401


async def test_expired_token_is_refused(server: RunningServer, admin: Client) -> None:
    """A token past its expiry no longer authenticates."""
    created = await admin.post("/api/v1/auth/tokens", json={"name": "old"})
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await server.db.write(lambda c: c.execute(api_tokens.update().values(expires_at=past)))
    script = server.client()
    script.bearer = created.json["token"]
    resp = await script.get("/api/v1/auth/session")
    assert resp.status == 401


async def test_repeated_wrong_passwords_are_rate_limited(tmp_path: Path) -> None:
    """After login_max_failures wrong passwords, even the right one waits (429)."""
    server = await start_server(tmp_path / "data", login_max_failures=3,
                                login_window_seconds=60)
    now = [1000.0]
    server.app[LOGIN_THROTTLE].clock = lambda: now[0]
    try:
        client = server.client()
        for _ in range(3):
            resp = await client.post("/api/v1/auth/login",
                                     json={"username": "admin", "password": "wrong-wrong"})
            assert resp.status == 401
            assert resp.error_code == "invalid_credentials"
        limited = await client.post("/api/v1/auth/login",
                                    json={"username": "admin", "password": ADMIN_PASSWORD})
        assert limited.status == 429
        assert limited.error_code == "rate_limited"
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        now[0] += 61
        allowed = await client.post("/api/v1/auth/login",
                                    json={"username": "admin", "password": ADMIN_PASSWORD})
        assert allowed.status == 200
        failures = await server.db.read(lambda c: c.execute(
            sa.select(sa.func.count()).select_from(audit_events)
            .where(audit_events.c.action == "auth.login_failed")).scalar_one())
        assert failures == 3
    finally:
        await server.close()


async def test_failures_from_one_address_limit_other_names_too(tmp_path: Path) -> None:
    """Guessing across many user names from one address is limited by address."""
    server = await start_server(tmp_path / "data", login_address_max_failures=2)
    try:
        client = server.client()
        for name in ("alice", "bob"):
            resp = await client.post("/api/v1/auth/login",
                                     json={"username": name, "password": "whatever-1"})
            assert resp.status == 401
        resp = await client.post("/api/v1/auth/login",
                                 json={"username": "carol", "password": "whatever-1"})
        assert resp.status == 429
    finally:
        await server.close()


async def test_unknown_user_and_wrong_password_answer_alike(server: RunningServer) -> None:
    """A missing user and a wrong password give the same status and message."""
    client = server.client()
    nobody = await client.post("/api/v1/auth/login",
                               json={"username": "nobody", "password": "x" * 12})
    wrong = await client.post("/api/v1/auth/login",
                              json={"username": "admin", "password": "x" * 12})
    assert (nobody.status, nobody.body) == (wrong.status, wrong.body)


async def test_logout_ends_the_session(admin: Client) -> None:
    """After logout the old cookie no longer authenticates."""
    assert (await admin.post("/api/v1/auth/logout")).status == 204
    assert (await admin.get("/api/v1/auth/session")).status == 401


async def test_idle_and_expired_sessions_are_refused(
        server: RunningServer, admin: Client) -> None:
    """A session idle past session_idle_minutes or past its max age stops working."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(
        minutes=server.settings.session_idle_minutes + 1)
    await server.db.write(lambda c: c.execute(
        auth_sessions.update().values(last_seen_at=long_ago)))
    assert (await admin.get("/api/v1/auth/session")).status == 401
    other = await server.login("admin", ADMIN_PASSWORD)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await server.db.write(lambda c: c.execute(auth_sessions.update().values(expires_at=past)))
    assert (await other.get("/api/v1/auth/session")).status == 401


async def test_deactivated_user_loses_sessions_and_cannot_log_in(
        server: RunningServer, admin: Client) -> None:
    """Deactivating a user ends its sessions and refuses its logins."""
    user = await server.create_user(admin, "leaver", "technician")
    session = await server.login("leaver")
    resp = await admin.patch(f"/api/v1/users/{user['id']}", json={"active": False})
    assert resp.status == 200
    assert (await session.get("/api/v1/auth/session")).status == 401
    again = await server.client().post("/api/v1/auth/login",
                                       json={"username": "leaver", "password": PASSWORD})
    assert again.status == 401


async def test_password_change_keeps_this_session_and_ends_others(
        server: RunningServer, admin: Client) -> None:
    """Changing one's password needs the current one and logs out other sessions."""
    await server.create_user(admin, "pat", "requester")
    first = await server.login("pat")
    second = await server.login("pat")
    wrong = await first.post("/api/v1/auth/password", json={
        "current_password": "not-it-at-all", "new_password": "brand-new-pass"})
    assert wrong.status == 403
    assert wrong.error_code == "invalid_credentials"
    short = await first.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "short"})
    assert short.status == 422
    ok = await first.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "brand-new-pass"})
    assert ok.status == 200
    assert ok.json == {"sessions_ended": 1, "tokens_revoked": 0}
    assert (await first.get("/api/v1/auth/session")).status == 200
    assert (await second.get("/api/v1/auth/session")).status == 401
    assert (await server.login("pat", "brand-new-pass")).user["username"] == "pat"


async def test_parallel_wrong_passwords_cannot_outrun_the_limit(tmp_path: Path) -> None:
    """A burst of simultaneous guesses is limited like the same guesses in a row."""
    import asyncio

    server = await start_server(tmp_path / "data", login_max_failures=3)
    try:
        client = server.client()
        answers = await asyncio.gather(*(client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": f"guess-{i:04d}"})
            for i in range(12)))
        statuses = sorted(a.status for a in answers)
        assert statuses.count(401) <= 3
        assert statuses.count(429) >= 9
    finally:
        await server.close()


async def test_admin_password_reset_revokes_sessions_and_tokens(
        server: RunningServer, admin: Client) -> None:
    """An admin setting a user's password ends the user's sessions and API tokens."""
    user = await server.create_user(admin, "victim", "technician")
    session = await server.login("victim")
    token = (await session.post("/api/v1/auth/tokens", json={"name": "t"})).json["token"]
    await admin.patch(f"/api/v1/users/{user['id']}", json={"password": "reset-by-admin-1"})
    assert (await session.get("/api/v1/auth/session")).status == 401
    script = server.client()
    script.bearer = token
    assert (await script.get("/api/v1/auth/session")).status == 401
