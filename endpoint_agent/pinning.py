"""TLS to the server trusting exactly one certificate: the one the install command pinned."""

from __future__ import annotations

import ssl

from endpoint_agent.errors import PinMismatch
from shared.fingerprint import fingerprint_der, normalize


def check_pin(ca_pem: bytes, fingerprint: str) -> None:
    """Refuse a CA certificate whose SHA-256 is not the pinned fingerprint.

    Raises:
        PinMismatch: the fingerprints differ.
    """
    try:
        der = ssl.PEM_cert_to_DER_cert(ca_pem.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise PinMismatch("the server did not send a certificate") from exc
    actual = fingerprint_der(der)
    if actual != normalize(fingerprint):
        raise PinMismatch(
            f"the server's certificate has fingerprint {actual}, not the expected "
            f"{normalize(fingerprint)}; refusing to continue (wrong server, or someone "
            "in between)")


def pinned_context(ca_pem: bytes) -> ssl.SSLContext:
    """Return a client context that trusts only ``ca_pem`` and checks the host name."""
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # The pinned certificate may be an intermediate of an admin's own PKI.
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx


def bootstrap_context() -> ssl.SSLContext:
    """Return a context for fetching the CA before it is known.

    Nothing received over it is trusted until :func:`check_pin` accepts it.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
