"""Device authentication: an Ed25519 signature over a fresh challenge bound to the TLS channel.

The agent signs ``CONTEXT || nonce || device_id || channel`` where ``channel`` is the
SHA-256 of the server's TLS certificate as the agent received it (the
"tls-server-end-point" idea of RFC 5929). A signature therefore only works for the one
connection whose server sent that nonce, through a TLS channel that ends at that server:
replaying it, or relaying it through a man in the middle with another certificate, fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # imported where used: the running agent signs without the package
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class Signer(Protocol):
    """An Ed25519 private key (the cryptography package's, or the agent's DeviceKey)."""

    def sign(self, data: bytes) -> bytes:
        """Return the signature of ``data``."""

CONTEXT = b"deskmate-agent-auth/1\x00"
NONCE_BYTES = 32


def b64encode(data: bytes) -> str:
    """Return URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64decode(text: str) -> bytes:
    """Decode URL-safe base64 with or without padding.

    Raises:
        ValueError: the text is not base64.
    """
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64: {text[:20]!r}") from exc


def new_nonce() -> str:
    """Return a fresh random challenge."""
    return b64encode(secrets.token_bytes(NONCE_BYTES))


def channel_binding(server_cert_der: bytes) -> bytes:
    """Return the channel binding value for a server certificate (SHA-256 of its DER)."""
    return hashlib.sha256(server_cert_der).digest()


def signed_payload(nonce: str, device_id: str, channel: bytes) -> bytes:
    """Return the exact bytes the agent signs.

    Args:
        nonce: the server's challenge, as sent.
        device_id: the device's id.
        channel: :func:`channel_binding` of the server certificate.
    """
    return CONTEXT + b64decode(nonce) + b"\x00" + device_id.encode() + b"\x00" + channel


def sign(key: Signer, nonce: str, device_id: str, channel: bytes) -> str:
    """Return the base64 signature for a challenge."""
    return b64encode(key.sign(signed_payload(nonce, device_id, channel)))


def verify(public_key: bytes, signature: str, nonce: str, device_id: str,
           channel: bytes) -> bool:
    """Tell whether ``signature`` answers the challenge for this device and channel."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(b64decode(signature), signed_payload(nonce, device_id, channel))
    except (InvalidSignature, ValueError):
        return False
    return True


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte public key."""
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """Return the private key as unencrypted PKCS#8 PEM (stored 0600)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_pem(data: bytes) -> Ed25519PrivateKey:
    """Load a private key written by :func:`private_pem`.

    Raises:
        ValueError: the data is not an Ed25519 private key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key
