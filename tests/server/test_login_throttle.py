"""Login throttling: per client address, per account for untrusted clients, per trusted device.

The real server on loopback; time is injected through the throttle's clocks (``clock``
for the failure counters, ``wall`` for device cookies), never slept on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from server.auth import devices
from server.auth.ratelimit import Attempt, LoginThrottle, address_key
from server.keys import LOGIN_THROTTLE
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server

OWNER_PASSWORD = "owner-password-1"


class Clock:
    """A settable time source for the throttle."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def throttled(tmp_path: Path) -> AsyncIterator[tuple[RunningServer, Clock, Clock]]:
    """A server allowing 3 untrusted failures per account and 6 per address, with the
    throttle's counter clock and wall clock under the test's control."""
    server = await start_server(tmp_path / "data", login_max_failures=3,
                                login_address_max_failures=6, login_window_seconds=60,
                                login_device_days=30)
    clock, wall = Clock(1000.0), Clock(1_800_000_000.0)
    throttle = server.app[LOGIN_THROTTLE]
    throttle.clock, throttle.wall = clock, wall
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        await server.create_user(admin, "owner", "technician", OWNER_PASSWORD)
        await server.create_user(admin, "mallory", "requester")
        yield server, clock, wall
    finally:
        await server.close()


async def _login(client: Client, username: str, password: str) -> Any:
    return await client.post("/api/v1/auth/login",
                             json={"username": username, "password": password})


def _device_cookie(client: Client) -> str | None:
    return next((c.value for c in client.session.cookie_jar if c.key == devices.COOKIE), None)


async def test_a_successful_login_does_not_reset_the_address_count(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """Logging in to one's own account between guesses buys no further guesses."""
    server, _clock, _wall = throttled
    attacker = server.client()
    names = iter(f"victim{i}" for i in range(20))
    statuses = []
    for _ in range(8):
        statuses.append((await _login(attacker, next(names), "guess-guess-1")).status)
        assert (await _login(attacker, "mallory", PASSWORD)).status == 200
    # The admin and the fixture logged in from this address too: successes, not counted.
    assert statuses == [401] * 6 + [429] * 2


async def test_a_stranger_cannot_lock_the_owner_out_of_a_trusted_browser(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """Guesses from strangers lock out untrusted clients only; the owner's browser works."""
    server, _clock, _wall = throttled
    browser = server.client()
    assert (await _login(browser, "owner", OWNER_PASSWORD)).status == 200
    assert _device_cookie(browser) is not None
    attacker = server.client()
    answers = [await _login(attacker, "owner", f"guess-{i:06d}") for i in range(4)]
    assert [a.status for a in answers] == [401, 401, 401, 429]
    stranger = await _login(attacker, "owner", OWNER_PASSWORD)  # even the right password
    assert stranger.status == 429
    assert stranger.error_code == "rate_limited"
    assert 0 < int(stranger.headers["Retry-After"]) <= 60
    elsewhere = await _login(server.client(), "owner", OWNER_PASSWORD)  # a new browser
    assert elsewhere.status == 429
    assert (await _login(browser, "owner", OWNER_PASSWORD)).status == 200


async def test_the_untrusted_lockout_ends_after_the_window(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """Once login_window_seconds have passed, an untrusted client may log in again."""
    server, clock, _wall = throttled
    attacker = server.client()
    for i in range(3):
        assert (await _login(attacker, "owner", f"guess-{i:06d}")).status == 401
    assert (await _login(server.client(), "owner", OWNER_PASSWORD)).status == 429
    clock.now += 61
    assert (await _login(server.client(), "owner", OWNER_PASSWORD)).status == 200


async def test_a_trusted_device_has_a_limit_of_its_own(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """A trusted browser's wrong passwords lock out that browser only."""
    server, _clock, _wall = throttled
    laptop, phone = server.client(), server.client()
    for browser in (laptop, phone):
        assert (await _login(browser, "owner", OWNER_PASSWORD)).status == 200
    answers = [(await _login(laptop, "owner", f"typo-{i:06d}")).status for i in range(4)]
    assert answers == [401, 401, 401, 429]
    assert (await _login(laptop, "owner", OWNER_PASSWORD)).status == 429
    assert (await _login(phone, "owner", OWNER_PASSWORD)).status == 200
    assert (await _login(server.client(), "owner", OWNER_PASSWORD)).status == 200


async def test_a_device_cookie_is_bound_to_its_account_and_signed(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """Mallory's own device cookie, or one she rewrote for the owner, does not trust her."""
    server, _clock, _wall = throttled
    attacker = server.client()
    assert (await _login(attacker, "mallory", PASSWORD)).status == 200
    cookie = _device_cookie(attacker)
    assert cookie is not None
    for i in range(3):
        assert (await _login(attacker, "owner", f"guess-{i:06d}")).status == 401
    assert (await _login(attacker, "owner", OWNER_PASSWORD)).status == 429
    owner_id = next(u for u in (await (await server.login("admin", ADMIN_PASSWORD)).get(
        "/api/v1/users?q=owner")).json["items"])["id"]
    _user, issued, nonce, mac = cookie.split(".")
    forged = server.client()
    forged.session.cookie_jar.update_cookies(
        {devices.COOKIE: f"{owner_id}.{issued}.{nonce}.{mac}"},
        URL(server.base_url + devices.COOKIE_PATH))
    assert (await _login(forged, "owner", OWNER_PASSWORD)).status == 429


async def test_the_device_cookie_is_secure_httponly_strict_and_scoped(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """The device cookie is Secure, HttpOnly, SameSite=Strict, sent to /api/v1/auth only."""
    server, _clock, _wall = throttled
    client = server.client()
    async with client.session.post(server.base_url + "/api/v1/auth/login", json={
            "username": "owner", "password": OWNER_PASSWORD}) as resp:
        assert resp.status == 200
        cookie = resp.cookies[devices.COOKIE]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth"
    assert int(cookie["max-age"]) == 30 * 86400


async def test_a_device_cookie_expires_after_login_device_days(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """After login_device_days without a login the browser is an untrusted client again."""
    server, _clock, wall = throttled
    browser = server.client()
    assert (await _login(browser, "owner", OWNER_PASSWORD)).status == 200
    attacker = server.client()
    for i in range(3):
        assert (await _login(attacker, "owner", f"guess-{i:06d}")).status == 401
    wall.now += 31 * 86400
    assert (await _login(browser, "owner", OWNER_PASSWORD)).status == 429


async def test_one_browser_stays_trusted_for_each_of_its_users(
        throttled: tuple[RunningServer, Clock, Clock]) -> None:
    """A shared browser keeps the trust of every account that logged in on it."""
    server, _clock, _wall = throttled
    shared = server.client()
    assert (await _login(shared, "owner", OWNER_PASSWORD)).status == 200
    assert (await _login(shared, "mallory", PASSWORD)).status == 200
    attacker = server.client()
    for i in range(3):
        assert (await _login(attacker, "owner", f"guess-{i:06d}")).status == 401
    assert (await _login(shared, "owner", OWNER_PASSWORD)).status == 200


async def test_addresses_behind_a_proxy_are_counted_apart(tmp_path: Path) -> None:
    """Behind a trusted proxy each forwarded client address has its own count."""
    server = await start_server(tmp_path / "data", behind_proxy=True,
                                login_address_max_failures=2, login_max_failures=10)
    try:
        client = server.client()

        async def guess(address: str, name: str) -> int:
            resp = await client.post("/api/v1/auth/login", json={
                "username": name, "password": "guess-guess-1"},
                headers={"X-Forwarded-For": address})
            return resp.status

        assert [await guess("203.0.113.7", n) for n in ("a", "b", "c")] == [401, 401, 429]
        assert await guess("203.0.113.8", "d") == 401
        # One IPv6 subscriber holds a /64: its addresses share one count.
        assert [await guess(f"2001:db8:1:2::{i}", f"v{i}") for i in (1, 2, 3)] == [
            401, 401, 429]
    finally:
        await server.close()


def test_address_keys_group_ipv6_by_64_and_unwrap_mapped_ipv4() -> None:
    """IPv6 addresses count per /64; IPv4-mapped IPv6 counts as the IPv4 address."""
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "ip:192.0.2.1"
    assert address_key("not-an-address") == "ip:not-an-address"


def test_a_success_refunds_only_its_own_attempt() -> None:
    """An untrusted success takes back its own count; earlier failures stay."""
    now = [0.0]
    throttle = LoginThrottle(account_limit=3, address_limit=3, window=60,
                             clock=lambda: now[0])
    guess = Attempt(account="victim", address="192.0.2.1")
    own = Attempt(account="mallory", address="192.0.2.1")
    for _ in range(2):
        throttle.begin(guess)
        throttle.begin(own)
        throttle.succeeded(own)
    assert throttle.retry_after(guess) == 0
    throttle.begin(guess)
    assert throttle.retry_after(own) == 60  # the address has 3 failures
    trusted = Attempt(account="victim", address="192.0.2.1", device="d1")
    assert throttle.retry_after(trusted) == 0
    now[0] = 61
    assert throttle.retry_after(own) == 0
