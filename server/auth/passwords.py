"""Password hashing with Argon2id (memory-hard, RFC 9106)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import TooManyRequests
from server.i18n.messages import N_, Message

T = TypeVar("T")
RETRY_SECONDS = 1  # a password check takes a fraction of a second

# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, t=3, p=4).
_hasher = PasswordHasher()

# Verified against when the user does not exist, so timing does not reveal user names.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 10

# Each Argon2 call takes 64 MiB and ~50 ms of a core: two threads bound both the memory
# and the CPU a burst of logins can take; further calls wait their turn, admitted by a
# KdfGate (one job per user or address, a bounded queue).
_kdf_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Tell whether ``password`` matches ``stored`` (a missing hash never matches)."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether ``stored`` was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def generate_password() -> str:
    """Return a random password suitable for printing once."""
    return secrets.token_urlsafe(15)


def password_problem(password: str) -> Message | None:
    """Return why ``password`` is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return N_("password must have at least {n} characters", n=MIN_LENGTH)
    if len(password) > 1024:
        return N_("password must have at most {n} characters", n=1024)
    return None


class KdfGate:
    """Admission to the KDF threads: one job per user or address, a bounded number in all.

    Each job holds its slot from submission until its thread finishes (also when the
    request that asked for it is gone), so a flood of requests can neither take both
    threads from everyone else nor pile up unbounded work: an extra job is refused at
    once with 429 and Retry-After.
    """

    def __init__(self, *, max_pending: int,
                 on_refused: Callable[[], None] = lambda: None) -> None:
        self.max_pending = max_pending
        self.on_refused = on_refused  # counts refusals (metrics)
        self._busy: set[str] = set()

    def submit(self, key: str, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Start ``fn(*args)`` on the KDF threads on behalf of ``key`` and return its future.

        Raises:
            TooManyRequests: ``key`` has a job already, or the queue is full.
        """
        if key in self._busy or len(self._busy) >= self.max_pending:
            self.on_refused()
        if key in self._busy:
            raise TooManyRequests("a password check for you is still running; try again "
                                  "in a moment", headers={"Retry-After": str(RETRY_SECONDS)})
        if len(self._busy) >= self.max_pending:
            raise TooManyRequests("the server is busy checking passwords; try again in a "
                                  "moment", headers={"Retry-After": str(RETRY_SECONDS)})
        self._busy.add(key)
        try:
            future = asyncio.get_running_loop().run_in_executor(_kdf_threads, fn, *args)
        except BaseException:
            self._busy.discard(key)
            raise
        future.add_done_callback(lambda _f: self._busy.discard(key))
        return future

    def check(self, key: str, stored: str | None, password: str) -> asyncio.Future[bool]:
        """Verify a password on the KDF threads (see :meth:`submit`)."""
        return self.submit(key, verify_password, stored, password)

    def hash(self, key: str, password: str) -> asyncio.Future[str]:
        """Hash a password on the KDF threads (see :meth:`submit`)."""
        return self.submit(key, hash_password, password)
