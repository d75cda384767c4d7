"""TOTP second factor: enrolment, the login's second step, recovery codes, turning off,
the throttle on code guessing and the admin requirement."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.auth import totp
from server.auth.tables import recovery_codes
from server.db.schema import audit_events
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server


async def enrol(client: Client) -> tuple[str, list[str]]:
    """Set up TOTP for the client's user; return the secret and the recovery codes."""
    resp = await client.post("/api/v1/auth/totp/enrolment")
    assert resp.status == 201, resp.body
    secret = resp.json["secret"]
    assert resp.json["otpauth_uri"].startswith("otpauth://totp/Deskmate:")
    assert resp.json["qr_svg"].startswith("data:image/svg+xml;base64,")
    resp = await client.post("/api/v1/auth/totp/confirm",
                             json={"code": totp.code_at(secret, time.time())})
    assert resp.status == 200, resp.body
    return secret, resp.json["recovery_codes"]


async def first_step(server: RunningServer, username: str, password: str) -> Client:
    """Log in with the password only; assert that the second factor is asked for."""
    client = server.client()
    resp = await client.post("/api/v1/auth/login",
                             json={"username": username, "password": password})
    assert resp.status == 401 and resp.error_code == "second_factor_required", resp.body
    return client


async def second_step(client: Client, code: str) -> Any:
    return await client.post("/api/v1/auth/login/second-factor", json={"code": code})


async def test_login_with_totp_takes_a_code_after_the_password(
        server: RunningServer, admin: Client) -> None:
    """With TOTP on, the right password gives no session, only the code step does."""
    await server.create_user(admin, "tina", "technician")
    tina = await server.login("tina")
    secret, codes = await enrol(tina)
    assert len(codes) == 10 and len(set(codes)) == 10
    client = await first_step(server, "tina", PASSWORD)
    assert (await client.get("/api/v1/auth/session")).status == 401  # no session yet
    # The code just used for the confirmation is spent; wait for a fresh step instead
    # of sleeping: a code of the next step is within the drift allowance.
    code = totp.code_at(secret, time.time() + totp.STEP_SECONDS)
    resp = await second_step(client, code)
    assert resp.status == 200, resp.body
    client.csrf_token = resp.json["csrf_token"]
    assert (await client.get("/api/v1/auth/session")).json["user"]["username"] == "tina"
    again = await first_step(server, "tina", PASSWORD)
    resp = await second_step(again, code)  # the same code twice: replay refused
    assert resp.status == 401 and resp.error_code == "invalid_code"
    assert resp.json["error"]["field"] == "code"  # the console says it by the field


async def test_a_recovery_code_works_once(server: RunningServer, admin: Client) -> None:
    """A recovery code finishes one login; the same code is refused the second time."""
    await server.create_user(admin, "tina", "technician")
    _secret, codes = await enrol(await server.login("tina"))
    client = await first_step(server, "tina", PASSWORD)
    assert (await second_step(client, codes[0].upper())).status == 200
    client = await first_step(server, "tina", PASSWORD)
    resp = await second_step(client, codes[0])
    assert resp.status == 401 and resp.error_code == "invalid_code"
    left = await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(recovery_codes)
        .where(recovery_codes.c.used_at.is_(None))).scalar_one())
    assert left == 9
    stored = await server.db.read(lambda c: c.execute(
        sa.select(recovery_codes.c.code_hash)).scalars().all())
    assert not set(stored) & {c.replace("-", "") for c in codes}  # digests only


async def test_the_second_step_without_a_half_session_is_refused(
        server: RunningServer) -> None:
    """A code sent without passing the password step first gets no session."""
    resp = await second_step(server.client(), "123456")
    assert resp.status == 401 and resp.error_code == "half_session_expired"


async def test_code_guessing_hits_the_login_throttle(tmp_path: Path) -> None:
    """Wrong codes count like wrong passwords: after the limit the answer is 429."""
    server = await start_server(tmp_path / "data", login_max_failures=3)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "tina", "technician")
        secret, _codes = await enrol(await server.login("tina"))
        client = await first_step(server, "tina", PASSWORD)
        wrong = f"{(int(totp.code_at(secret, time.time())) + 500_000) % 1_000_000:06d}"
        statuses = [(await second_step(client, wrong)).status for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
    finally:
        await server.close()


async def test_turning_totp_off_needs_password_and_code(
        server: RunningServer, admin: Client) -> None:
    """Disabling takes the password and a code; afterwards the password alone logs in."""
    await server.create_user(admin, "tina", "technician")
    tina = await server.login("tina")
    _secret, codes = await enrol(tina)
    resp = await tina.post("/api/v1/auth/totp/disable",
                           json={"password": "wrong-password-1", "code": codes[0]})
    assert resp.status == 403 and resp.error_code == "invalid_credentials"
    assert resp.json["error"]["field"] == "password"
    resp = await tina.post("/api/v1/auth/totp/disable",
                           json={"password": PASSWORD, "code": codes[0]})
    assert resp.status == 204, resp.body
    assert (await tina.get("/api/v1/auth/totp")).json["enabled"] is False
    await server.login("tina")
    actions = await server.db.read(lambda c: c.execute(
        sa.select(audit_events.c.action).where(audit_events.c.action.like(
            "auth.second_factor%"))).scalars().all())
    assert actions == ["auth.second_factor_enabled", "auth.second_factor_disabled"]


async def test_admins_without_totp_can_only_enrol_when_required(tmp_path: Path) -> None:
    """With totp_required_for_admins, an admin without TOTP may only set it up."""
    server = await start_server(tmp_path / "data", totp_required_for_admins=True)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        session = await admin.get("/api/v1/auth/session")
        assert session.json["second_factor_enrolment_required"] is True
        resp = await admin.get("/api/v1/users")
        assert resp.status == 403 and resp.error_code == "second_factor_enrolment_required"
        await enrol(admin)
        assert (await admin.get("/api/v1/users")).status == 200
        assert (await admin.get("/api/v1/auth/session")).json[
            "second_factor_enrolment_required"] is False
    finally:
        await server.close()


async def test_an_admin_removes_a_lost_factor(server: RunningServer, admin: Client) -> None:
    """An admin's DELETE /users/{id}/totp lets the user log in with the password again."""
    tina_user = await server.create_user(admin, "tina", "technician")
    await enrol(await server.login("tina"))
    resp = await admin.delete(f"/api/v1/users/{tina_user['id']}/totp")
    assert resp.status == 204
    await server.login("tina")
    resp = await admin.delete(f"/api/v1/users/{tina_user['id']}/totp")
    assert resp.status == 404
