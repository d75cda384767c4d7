"""Password checks outside login: counted like failed logins, and never hogging the KDF.

Slots of the KDF gate are held by the test with jobs that wait for an event, so "the
threads are busy" is a state the test sets, not a race it hopes for.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa

from server.db.schema import audit_events
from server.keys import KDF_GATE, LOGIN_THROTTLE
from tests.support.server import ADMIN_PASSWORD, PASSWORD, RunningServer, start_server


@asynccontextmanager
async def holding(server: RunningServer, *keys: str) -> AsyncIterator[None]:
    """Hold KDF gate slots under ``keys`` until the block ends."""
    release = threading.Event()
    jobs = [server.app[KDF_GATE].submit(key, release.wait) for key in keys]
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*jobs)


async def test_wrong_current_passwords_are_limited_like_failed_logins(tmp_path: Path) -> None:
    """After login_max_failures wrong current passwords, password changes wait (429)."""
    server = await start_server(tmp_path / "data", login_max_failures=3)
    now = [1000.0]
    server.app[LOGIN_THROTTLE].clock = lambda: now[0]
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "rick", "requester")
        rick = await server.login("rick")
        change = {"current_password": "wrong-wrong-1", "new_password": "brand-new-pass"}
        answers = [await rick.post("/api/v1/auth/password", json=change) for _ in range(5)]
        assert [a.status for a in answers] == [403, 403, 403, 429, 429]
        assert answers[3].error_code == "rate_limited"
        assert 0 < int(answers[3].headers["Retry-After"]) <= 900
        right = {"current_password": PASSWORD, "new_password": "brand-new-pass"}
        assert (await rick.post("/api/v1/auth/password", json=right)).status == 429
        failed = await server.db.read(lambda c: c.execute(
            sa.select(sa.func.count()).select_from(audit_events)
            .where(audit_events.c.action == "auth.password_change_failed")).scalar_one())
        assert failed == 3
        now[0] += 901
        assert (await rick.post("/api/v1/auth/password", json=right)).status == 200
    finally:
        await server.close()


async def test_parallel_password_changes_of_one_user_are_refused_not_queued(
        tmp_path: Path) -> None:
    """Twenty simultaneous wrong password changes: at most login_max_failures are checked,
    the rest answer 429 in the error shape with Retry-After."""
    server = await start_server(tmp_path / "data")
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "rick", "requester")
        rick = await server.login("rick")
        answers = await asyncio.gather(*(rick.post("/api/v1/auth/password", json={
            "current_password": f"guess-{i:06d}", "new_password": "brand-new-pass"})
            for i in range(20)))
        statuses = [a.status for a in answers]
        assert set(statuses) <= {403, 429}
        assert statuses.count(403) <= server.settings.login_max_failures
        for answer in answers:
            if answer.status == 429:
                assert answer.error_code == "rate_limited"
                assert int(answer.headers["Retry-After"]) >= 1
    finally:
        await server.close()


async def test_a_user_with_a_password_job_running_gets_429_and_others_do_not_wait(
        tmp_path: Path) -> None:
    """While one user's password job runs, their next one is refused; others go ahead."""
    server = await start_server(tmp_path / "data")
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "rick", "requester")
        await server.create_user(admin, "tina", "technician")
        rick = await server.login("rick")
        async with holding(server, f"user:{rick.user['id']}"):
            busy = await rick.post("/api/v1/auth/password", json={
                "current_password": PASSWORD, "new_password": "brand-new-pass"})
            assert busy.status == 429, busy.body
            assert busy.error_code == "rate_limited"
            assert busy.headers["Retry-After"] == "1"
            assert (await server.login("tina")).user["username"] == "tina"
        ok = await rick.post("/api/v1/auth/password", json={
            "current_password": PASSWORD, "new_password": "brand-new-pass"})
        assert ok.status == 200, ok.body
    finally:
        await server.close()


async def test_one_address_gets_one_login_check_at_a_time(tmp_path: Path) -> None:
    """A login from an address whose previous login is still being checked gets 429;
    other addresses are not held up."""
    server = await start_server(tmp_path / "data", behind_proxy=True)
    try:
        client = server.client()

        async def login(address: str) -> int:
            resp = await client.post("/api/v1/auth/login", json={
                "username": "admin", "password": ADMIN_PASSWORD},
                headers={"X-Forwarded-For": address})
            return resp.status

        async with holding(server, "ip:203.0.113.7"):
            assert await login("203.0.113.7") == 429
            assert await login("203.0.113.8") == 200
        assert await login("203.0.113.7") == 200
    finally:
        await server.close()


async def test_a_full_password_queue_answers_429_everywhere_the_kdf_runs(
        tmp_path: Path) -> None:
    """With password_checks_max jobs pending, logins, password changes and admin password
    settings answer 429 with Retry-After; nothing is stored; then all work again."""
    server = await start_server(tmp_path / "data", password_checks_max=2)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        user = await server.create_user(admin, "rick", "requester")
        rick = await server.login("rick")
        async with holding(server, "test:1", "test:2"):
            answers = [
                await server.client().post("/api/v1/auth/login", json={
                    "username": "rick", "password": PASSWORD}),
                await rick.post("/api/v1/auth/password", json={
                    "current_password": PASSWORD, "new_password": "brand-new-pass"}),
                await admin.post("/api/v1/users", json={
                    "username": "olga", "display_name": "Olga", "role": "requester",
                    "password": "olga-password-1"}),
                await admin.patch(f"/api/v1/users/{user['id']}",
                                  json={"password": "reset-password-1"}),
            ]
            for answer in answers:
                assert answer.status == 429, answer.body
                assert answer.error_code == "rate_limited"
                assert answer.headers["Retry-After"] == "1"
            assert (await admin.get("/api/v1/users?q=olga")).json["items"] == []
        metrics = (await admin.get("/metrics")).body.decode()
        assert 'deskmate_auth_failures_total{reason="busy"} 4.0' in metrics
        assert (await rick.post("/api/v1/auth/password", json={
            "current_password": PASSWORD, "new_password": "brand-new-pass"})).status == 200
        assert (await server.login("rick", "brand-new-pass")).user["username"] == "rick"
    finally:
        await server.close()


async def test_limited_endpoints_declare_429_in_openapi(tmp_path: Path) -> None:
    """Every endpoint that runs the password KDF documents its 429 answer."""
    server = await start_server(tmp_path / "data")
    try:
        doc = (await server.client().get("/api/v1/openapi.json")).json
        for method, path in (("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/password"),
                             ("post", "/api/v1/users"), ("patch", "/api/v1/users/{user_id}")):
            assert "429" in doc["paths"][path][method]["responses"], (method, path)
        limited = doc["components"]["responses"]["RateLimited"]
        assert "Retry-After" in limited["headers"]
    finally:
        await server.close()


def test_servers_hash_at_the_production_cost() -> None:
    """Outside the tests' own process (tests/conftest.py lowers the cost there) a password
    is hashed with Argon2id at RFC 9106's second recommended option: 64 MiB, t=3, p=4."""
    made = subprocess.run(
        [sys.executable, "-c", "from server.auth.passwords import hash_password, "
         "needs_rehash as n; h = hash_password('a password'); print(h, n(h))"],
        capture_output=True, text=True, check=True, timeout=60)
    stored, rehash = made.stdout.split()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert rehash == "False"
