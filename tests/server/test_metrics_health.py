"""/metrics in Prometheus text for admins; /healthz for everyone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.server import Client, RunningServer, start_server


async def test_metrics_count_requests_by_route_template(admin: Client) -> None:
    """Request counters are labelled by route template, not by raw path."""
    await admin.get("/api/v1/users/1")
    await admin.get("/api/v1/users/2")
    resp = await admin.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = resp.body.decode()
    assert 'route="/api/v1/users/{user_id}"' in text
    assert "/api/v1/users/2" not in text
    assert "deskmate_http_request_seconds_bucket" in text
    assert "deskmate_agents_connected 0.0" in text


async def test_metrics_accept_an_admin_api_token(server: RunningServer, admin: Client) -> None:
    """A scraper authenticates with an admin's bearer token."""
    token = (await admin.post("/api/v1/auth/tokens", json={"name": "prometheus"})).json
    scraper = server.client()
    scraper.bearer = token["token"]
    resp = await scraper.get("/metrics")
    assert resp.status == 200


async def test_metrics_public_setting_opens_them(tmp_path: Path) -> None:
    """With metrics_public on, /metrics needs no credentials."""
    server = await start_server(tmp_path / "data", metrics_public=True)
    try:
        assert (await server.client().get("/metrics")).status == 200
    finally:
        await server.close()


# The background tasks (housekeeping, the SLA engine, ...) fail too while it is gone.
@pytest.mark.expect_error_log(r"OperationalError: .*unable to open database file")
async def test_healthz_fails_when_database_is_gone(server: RunningServer) -> None:
    """/healthz answers 503 when the database cannot be reached."""
    server.db.engine.dispose()
    server.db.engine = sa.create_engine("sqlite:////nonexistent/dir/x.db")
    resp = await server.client().get("/healthz")
    assert resp.status == 503
    assert resp.json["status"] == "unavailable"
    assert resp.json["checks"] == {"database": "failing"}
