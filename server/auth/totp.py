"""TOTP second factor (RFC 6238) and recovery codes: pure functions over values.

Codes come from pyotp (RFC 4226/6238: HMAC-SHA1, 6 digits, 30-second steps). A code is
accepted for the current step and one step either side (RFC 6238 section 5.2 allows
for clock drift) and never for a step at or before the last one accepted, so an
observed code cannot be replayed. Recovery codes carry 80 random bits each; like
session secrets they are stored as SHA-256 digests (no KDF is needed at that entropy).
The enrolment QR code is an SVG made by segno on the server: no JavaScript library to
vendor, and the secret never leaves the server in any form but the one answer.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets

import pyotp
import segno

ISSUER = "Deskmate"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_CODE_RE = re.compile(r"\d{6}")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def new_secret() -> str:
    """Return a new base32 TOTP secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def step_of(now: float) -> int:
    """Return the RFC 6238 time step of Unix time ``now``."""
    return int(now // STEP_SECONDS)


def matching_step(secret: str, code: str, *, now: float, after: int | None) -> int | None:
    """Return the time step ``code`` is valid for (within the drift allowance and later
    than ``after``, the last step accepted), or None when it is not a valid code."""
    code = code.strip().replace(" ", "")
    if not _CODE_RE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = step_of(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def code_at(secret: str, now: float) -> str:
    """Return the code of ``secret`` at Unix time ``now`` (tests and tools)."""
    return str(pyotp.TOTP(secret, interval=STEP_SECONDS).at(int(now)))


def otpauth_uri(secret: str, account: str) -> str:
    """Return the otpauth:// URI authenticator apps read from the QR code."""
    return str(pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER))


def qr_svg_data_uri(text: str) -> str:
    """Return ``text`` as a QR code in an SVG data: URI (an <img> source)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=False,
                                     svgns=True, title="TOTP enrolment QR code")
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Return ``count`` fresh recovery codes like ``abcd-efgh-jkmn-pqrs`` (~78 bits)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    """Return a recovery code as stored: lower case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", code).lower()


def recovery_digest(code: str) -> str:
    """Return the stored form of a recovery code."""
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def looks_like_totp(code: str) -> bool:
    """Tell whether ``code`` has the shape of a TOTP code (else: a recovery code)."""
    return bool(_CODE_RE.fullmatch(code.strip().replace(" ", "")))

