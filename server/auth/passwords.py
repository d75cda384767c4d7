"""Password hashing with Argon2id (memory-hard, RFC 9106)."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, t=3, p=4).
_hasher = PasswordHasher()

# Verified against when the user does not exist, so timing does not reveal user names.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 10

# Each Argon2 call takes 64 MiB and ~50 ms of a core: two threads bound both the memory
# and the CPU a burst of logins can take; further calls wait their turn.
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


def password_problem(password: str) -> str | None:
    """Return why ``password`` is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"password must have at least {MIN_LENGTH} characters"
    if len(password) > 1024:
        return "password must have at most 1024 characters"
    return None


async def check_password(stored: str | None, password: str) -> bool:
    """Verify a password on the bounded KDF threads (never on the event loop)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_kdf_threads, verify_password, stored, password)


async def make_hash(password: str) -> str:
    """Hash a password on the bounded KDF threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_kdf_threads, hash_password, password)
