"""Throttling of password guesses: per client address, per account, per trusted device.

Pure: the clock is injected and nothing here does I/O. The scheme follows OWASP's
"Slow Down Online Guessing Attacks with Device Cookies": a browser that logged in to an
account before carries a signed device cookie (:mod:`server.auth.devices`) and is a
*trusted* client of that account; everyone else is untrusted.

- Untrusted guesses count per account (``login_max_failures``) and per client address
  (``login_address_max_failures``); either limit makes further untrusted attempts wait.
  A success refunds only its own attempt, so logging in to one's own account every few
  tries does not buy more guesses at other names.
- A trusted device counts on its own (``login_max_failures``); its lockout touches no
  one else, and the untrusted lockout of its account does not touch it. A stranger can
  therefore lock out only untrusted clients, never the owner's browsers.

State is kept in this process only (see docs/admin.md for several instances).
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class FailureCounter:
    """At most ``limit`` failures per key within ``window`` seconds (times passed in)."""

    def __init__(self, *, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, key: str, now: float) -> float:
        """Return seconds until ``key`` may try again (0 when allowed now)."""
        times = self._recent(key, now)
        if len(times) >= self.limit:
            return times[0] + self.window - now
        return 0.0

    def add(self, key: str, now: float) -> None:
        """Record one failure of ``key``."""
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._evict(now)
        self._failures.setdefault(key, deque(maxlen=self.limit)).append(now)

    def refund(self, key: str) -> None:
        """Take back the newest failure of ``key`` (an attempt counted early succeeded)."""
        times = self._failures.get(key)
        if times:
            times.pop()
            if not times:
                del self._failures[key]

    def clear(self, key: str) -> None:
        """Forget every failure of ``key``."""
        self._failures.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= self.max_keys:  # still full: drop the oldest keys
            del self._failures[next(iter(self._failures))]


def address_key(address: str) -> str:
    """Return the counter key of a client address: IPv4 as is, IPv6 by its /64 network
    (one subscriber usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "ip:" + address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "ip:" + str(ip.ipv4_mapped)
        return "ip:" + str(ipaddress.IPv6Network((ip, 64), strict=False))
    return "ip:" + str(ip)


@dataclass(frozen=True)
class Attempt:
    """One password check: for which account, from where, and from which trusted device
    (None: an untrusted client)."""

    account: str
    address: str
    device: str | None = None


class LoginThrottle:
    """Decide whether a password check may run, and count the ones that fail."""

    def __init__(self, *, account_limit: int, address_limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.clock = clock  # for the counters
        self.wall = wall  # Unix time, for device cookies (they outlive the process)
        self.accounts = FailureCounter(limit=account_limit, window=window)
        self.addresses = FailureCounter(limit=address_limit, window=window)
        self.devices = FailureCounter(limit=account_limit, window=window)

    def _counters(self, attempt: Attempt) -> list[tuple[FailureCounter, str]]:
        if attempt.device is not None:
            return [(self.devices, "device:" + attempt.device)]
        return [(self.addresses, address_key(attempt.address)),
                (self.accounts, "user:" + attempt.account)]

    def retry_after(self, attempt: Attempt) -> float:
        """Return seconds until ``attempt`` may run (0 when it may run now)."""
        now = self.clock()
        return max(counter.retry_after(key, now) for counter, key in self._counters(attempt))

    def begin(self, attempt: Attempt) -> None:
        """Count ``attempt`` as failed before its slow check, so that parallel guesses
        cannot all slip in under the limit; :meth:`succeeded` takes it back."""
        now = self.clock()
        for counter, key in self._counters(attempt):
            counter.add(key, now)

    def succeeded(self, attempt: Attempt) -> None:
        """Take back a successful attempt; a trusted device's slate is wiped clean.

        The address and account counters keep their earlier failures: a success proves
        nothing about the other guesses from there.
        """
        for counter, key in self._counters(attempt):
            if attempt.device is not None:
                counter.clear(key)
            else:
                counter.refund(key)
