"""Guarded password checks: throttled per address, account and device, and admitted to
the KDF threads one job per caller (used by login and password change)."""

from __future__ import annotations

import math

from aiohttp import web

from server.auth import devices
from server.auth.ratelimit import Attempt
from server.errors import TooManyRequests
from server.i18n.messages import N_, Message
from server.keys import CLIENT_IP, DEVICE_KEY, KDF_GATE, LOGIN_THROTTLE, METRICS, SETTINGS


def attempt_for(request: web.Request, username: str, user_id: int | None) -> Attempt:
    """Return the attempt of this request on ``username``: from a trusted device of that
    account (a valid device cookie) or from an untrusted client."""
    app = request.app
    device = devices.trusted_device(
        app[DEVICE_KEY], request.cookies.get(devices.COOKIE), user_id,
        now=app[LOGIN_THROTTLE].wall(), max_age=app[SETTINGS].login_device_days * 86400)
    return Attempt(account=username, address=request[CLIENT_IP], device=device)


FAILED_LOGINS = N_("failed logins")


async def check(request: web.Request, attempt: Attempt, *, job_key: str,
                stored: str | None, password: str,
                what: Message = FAILED_LOGINS) -> bool:
    """Verify ``password`` against ``stored`` unless the attempt must wait.

    A failure stays counted for ``attempt``; a success is taken back. ``what`` names the
    failures in the 429 message.

    Raises:
        TooManyRequests: too many failures, or a password job of ``job_key`` is running,
            or the KDF queue is full (429 with Retry-After).
    """
    app = request.app
    throttle = app[LOGIN_THROTTLE]
    wait = throttle.retry_after(attempt)
    if wait > 0:
        app[METRICS].auth_failures.labels("rate_limited").inc()
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests("too many {what}; try again in {seconds} seconds",
                              headers={"Retry-After": str(seconds)}, what=what, seconds=seconds)
    job = app[KDF_GATE].check(job_key, stored, password)
    # Nothing awaited between the check above and here: parallel guesses are counted
    # one by one and cannot all pass the limit.
    throttle.begin(attempt)
    ok = await job
    if ok:
        throttle.succeeded(attempt)
    else:
        app[METRICS].auth_failures.labels("password").inc()
    return ok


def remember_device(request: web.Request, response: web.StreamResponse, user_id: int) -> None:
    """Make this browser a trusted client of ``user_id`` (after a successful login)."""
    app = request.app
    max_age = app[SETTINGS].login_device_days * 86400
    value = devices.updated(app[DEVICE_KEY], request.cookies.get(devices.COOKIE), user_id,
                            now=app[LOGIN_THROTTLE].wall(), max_age=max_age)
    response.set_cookie(devices.COOKIE, value, path=devices.COOKIE_PATH, secure=True,
                        httponly=True, samesite="Strict", max_age=max_age)

