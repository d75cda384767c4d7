"""The server answers over TLS with its health, and logs in the first admin."""

from __future__ import annotations

from tests.support.server import Client, RunningServer


async def test_healthz_reports_database_ok(server: RunningServer) -> None:
    """/healthz answers JSON with the database check passing."""
    resp = await server.client().get("/healthz")
    assert resp.status == 200
    assert resp.json["status"] == "ok"
    assert resp.json["checks"] == {"database": "ok"}


async def test_admin_session_names_the_admin(admin: Client) -> None:
    """The session endpoint returns the logged-in admin and a CSRF token."""
    resp = await admin.get("/api/v1/auth/session")
    assert resp.status == 200
    assert resp.json["user"]["username"] == "admin"
    assert resp.json["user"]["role"] == "admin"
    assert resp.json["csrf_token"] == admin.csrf_token
    assert resp.json["expires_at"] is not None
