"""TLS by default: the server's own CA and certificate, made once and reused.

On first start with no certificate configured, a CA (EC P-256, ten years) and a server
certificate signed by it are written to ``<data>/tls/``; the CA's SHA-256 fingerprint is
what agents pin. The server certificate is re-issued by the same CA when it nears
expiry or lacks a configured host name, so the fingerprint agents pinned stays valid.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.fingerprint import fingerprint_der

CA_DAYS = 3650
SERVER_DAYS = 397  # the CA/Browser Forum ceiling for a leaf certificate
RENEW_BEFORE = dt.timedelta(days=30)


class TlsError(Exception):
    """The TLS files are missing, unreadable or do not belong together."""


@dataclass(frozen=True)
class TlsInfo:
    """Where the serving certificate lives and what agents should pin."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None
    fingerprint: str
    created: bool


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read (created 0600, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _names(hostnames: list[str]) -> list[x509.GeneralName]:
    wanted = ["localhost", "127.0.0.1", "::1", socket.gethostname(), *hostnames]
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for name in wanted:
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def _make_ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Deskmate"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Deskmate local CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_server(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate,
                 names: list[x509.GeneralName],
                 now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Deskmate server")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _needs_new_server(path: Path, names: list[x509.GeneralName], now: dt.datetime) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificates(path.read_bytes())[0]
    if cert.not_valid_after_utc - RENEW_BEFORE <= now:
        return True
    have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return any(name not in have for name in names)


def ensure_own_ca(tls_dir: Path, *, hostnames: list[str],
                  now: dt.datetime | None = None) -> TlsInfo:
    """Create (first start) or reuse the CA and server certificate in ``tls_dir``."""
    now = now or dt.datetime.now(dt.UTC)
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = tls_dir / "ca.pem", tls_dir / "ca.key"
    cert_path, key_path = tls_dir / "server.pem", tls_dir / "server.key"
    created = False
    if ca_cert_path.exists() != ca_key_path.exists():
        raise TlsError(f"only one of ca.pem and ca.key exists in {str(tls_dir)!r}")
    if not ca_cert_path.exists():
        ca_key, ca = _make_ca(now)
        _write_private(ca_key_path, _key_pem(ca_key))
        ca_cert_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        created = True
    else:
        try:
            loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
            ca = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        except ValueError as exc:
            raise TlsError(f"cannot read the CA in {str(tls_dir)!r}: {exc}") from exc
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise TlsError(f"ca.key in {str(tls_dir)!r} is not an EC key")
        ca_key = loaded
    names = _names(hostnames)
    if created or _needs_new_server(cert_path, names, now):
        key, cert = _make_server(ca_key, ca, names, now)
        _write_private(key_path, _key_pem(key))
        chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
            serialization.Encoding.PEM)
        cert_path.write_bytes(chain)
    return TlsInfo(cert_file=cert_path, key_file=key_path, ca_file=ca_cert_path,
                   fingerprint=fingerprint_der(ca.public_bytes(serialization.Encoding.DER)),
                   created=created)


def given_certificate(cert_file: Path, key_file: Path) -> TlsInfo:
    """Describe an admin-provided certificate; pin the top of its chain."""
    try:
        chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsError(f"cannot read tls_cert {str(cert_file)!r}: {exc}") from exc
    top = chain[-1]
    return TlsInfo(cert_file=cert_file, key_file=key_file, ca_file=None,
                   fingerprint=fingerprint_der(top.public_bytes(serialization.Encoding.DER)),
                   created=False)


def server_context(info: TlsInfo) -> ssl.SSLContext:
    """Return the server-side SSL context (TLS 1.2 or newer)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(info.cert_file), str(info.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load certificate {str(info.cert_file)!r}: {exc}") from exc
    return ctx


def pinned_certificate_pem(info: TlsInfo) -> bytes:
    """Return the PEM of the certificate whose fingerprint agents pin."""
    if info.ca_file is not None:
        return info.ca_file.read_bytes()
    chain = x509.load_pem_x509_certificates(info.cert_file.read_bytes())
    return chain[-1].public_bytes(serialization.Encoding.PEM)


def leaf_certificate_pem(info: TlsInfo) -> bytes:
    """Return the PEM of the certificate the server presents."""
    chain = x509.load_pem_x509_certificates(info.cert_file.read_bytes())
    return chain[0].public_bytes(serialization.Encoding.PEM)


TLS_READ_BUFFER = 4 * 1024  # bytes decrypted per read call (a TLS record is up to 16 KiB)


def shrink_asyncio_tls_buffers() -> bool:
    """Make asyncio's per-connection TLS read buffer 4 KiB instead of 256 KiB.

    CPython's ``asyncio.sslproto.SSLProtocol`` allocates (and zero-fills) a
    ``max_size`` = 256 KiB bytearray for every TLS connection; with thousands of agents
    that alone is ~256 KB of resident memory each (measured with tracemalloc, see
    docs/performance.md). The buffer only bounds how much decrypted data one read call
    hands on: a smaller one means more read calls for a large message (an inventory),
    never a lost byte. Heartbeats are ~100 bytes. The attribute is not public API: if it
    is missing the default stays, and this returns False.
    """
    import asyncio.sslproto

    protocol = getattr(asyncio.sslproto, "SSLProtocol", None)
    if protocol is None or not isinstance(getattr(protocol, "max_size", None), int):
        return False
    protocol.max_size = TLS_READ_BUFFER
    return True
