"""Certificate fingerprints in the form the install command pins: ``sha256:<hex>``."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256:"


def fingerprint_der(der: bytes) -> str:
    """Return the pinning fingerprint of a DER-encoded certificate.

    Args:
        der: the certificate in DER form.
    """
    return PREFIX + hashlib.sha256(der).hexdigest()


def normalize(fingerprint: str) -> str:
    """Return ``fingerprint`` as lower-case ``sha256:<64 hex>``, accepting colons.

    Raises:
        ValueError: the text is not a SHA-256 fingerprint.
    """
    text = fingerprint.strip().lower()
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    text = text.replace(":", "")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"not a sha256 fingerprint: {fingerprint!r}")
    return PREFIX + text


def matches(expected: str, der: bytes) -> bool:
    """Tell whether a DER certificate has the expected fingerprint (constant time)."""
    return hmac.compare_digest(normalize(expected), fingerprint_der(der))
