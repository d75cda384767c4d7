"""TLS to the server trusting exactly one certificate: the one the install command pinned."""

from __future__ import annotations

import base64
import binascii
import re
import ssl

from endpoint_agent.errors import PinMismatch
from shared.fingerprint import fingerprint_der, matches, normalize


def check_pin(ca_pem: bytes, fingerprint: str) -> bytes:
    """Return the one certificate in ``ca_pem`` as PEM if its SHA-256 is the pinned one.

    The text must hold exactly one certificate: anything else could smuggle a second
    trust anchor past the check (a PEM decoder that stops at the first one would hash
    only that, while the TLS library would trust both).

    Only the standard library: the running agent checks its stored CA at every start and
    should not hold the cryptography package for it. The one certificate is decoded, the
    TLS library must accept it as a trust anchor, and only it is returned (re-encoded), so
    nothing else in the text can ever be trusted.

    Raises:
        PinMismatch: not exactly one certificate, or the fingerprints differ.
    """
    labels = re.findall(rb"-----BEGIN ([A-Z0-9 ]*CERTIFICATE)-----", ca_pem)
    if not labels:
        raise PinMismatch("the server did not send a certificate")
    if len(labels) != 1:
        raise PinMismatch(f"the server sent {len(labels)} certificates where one was "
                          "expected; refusing to continue")
    found = re.search(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----",
                      ca_pem)
    try:
        if found is None:
            raise ValueError("no PEM certificate")
        der = base64.b64decode(b"".join(found.group(1).split()), validate=True)
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=der)
    except (ValueError, binascii.Error, ssl.SSLError) as exc:
        raise PinMismatch("the server did not send a certificate") from exc
    actual = fingerprint_der(der)
    if not matches(fingerprint, der):
        raise PinMismatch(
            f"the server's certificate has fingerprint {actual}, not the expected "
            f"{normalize(fingerprint)}; refusing to continue (wrong server, or someone "
            "in between)")
    return ssl.DER_cert_to_PEM_cert(der).encode()


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
