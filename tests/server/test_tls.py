"""TLS by default: the own CA is made once, reused, and pinned by its fingerprint."""

from __future__ import annotations

import datetime as dt
import ssl
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from server.tls import ensure_own_ca, given_certificate, pinned_certificate_pem
from shared.fingerprint import fingerprint_der, matches, normalize
from tests.support.server import RunningServer


def test_first_call_creates_then_reuses_the_files(tmp_path: Path) -> None:
    """The CA and server certificate are written once; a second start reuses them."""
    first = ensure_own_ca(tmp_path / "tls", hostnames=[])
    files = [first.cert_file, first.key_file, tmp_path / "tls" / "ca.key", first.ca_file]
    before = {p: p.read_bytes() for p in files if p is not None}
    second = ensure_own_ca(tmp_path / "tls", hostnames=[])
    assert first.created and not second.created
    assert second.fingerprint == first.fingerprint
    assert {p: p.read_bytes() for p in before} == before


def test_private_keys_are_owner_only(tmp_path: Path) -> None:
    """Private key files and the TLS folder are readable by their owner alone."""
    info = ensure_own_ca(tmp_path / "tls", hostnames=[])
    for key in (info.key_file, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700


def test_new_hostname_reissues_leaf_under_same_ca(tmp_path: Path) -> None:
    """Adding a host name re-issues the server certificate; the pinned CA stays."""
    first = ensure_own_ca(tmp_path / "tls", hostnames=[])
    second = ensure_own_ca(tmp_path / "tls", hostnames=["desk.example.org"])
    assert second.fingerprint == first.fingerprint
    leaf = x509.load_pem_x509_certificates(second.cert_file.read_bytes())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "desk.example.org" in names.get_values_for_type(x509.DNSName)


def test_leaf_nearing_expiry_is_renewed(tmp_path: Path) -> None:
    """A server certificate within 30 days of expiry is replaced on start."""
    first = ensure_own_ca(tmp_path / "tls", hostnames=[])
    old = first.cert_file.read_bytes()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=380)
    renewed = ensure_own_ca(tmp_path / "tls", hostnames=[], now=later)
    assert renewed.cert_file.read_bytes() != old
    assert renewed.fingerprint == first.fingerprint


def test_fingerprint_is_the_ca_certificate_digest(tmp_path: Path) -> None:
    """The printed fingerprint is SHA-256 over the CA certificate's DER bytes."""
    info = ensure_own_ca(tmp_path / "tls", hostnames=[])
    assert info.ca_file is not None
    ca = ssl.PEM_cert_to_DER_cert(info.ca_file.read_text())
    assert info.fingerprint == fingerprint_der(ca)
    assert matches(info.fingerprint.upper().replace("SHA256:", ""), ca)


def test_fingerprint_normalisation_rejects_garbage() -> None:
    """Only a 64-hex SHA-256 fingerprint (colons allowed) is accepted."""
    good = "sha256:" + "ab" * 32
    assert normalize(":".join(["AB"] * 32)) == good
    for bad in ("", "sha256:", "md5:" + "ab" * 16, "sha256:" + "zz" * 32, "ab" * 31):
        try:
            normalize(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


async def test_server_speaks_only_tls(server: RunningServer) -> None:
    """A plain HTTP request to the server's port does not get an HTTP answer."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    data = await reader.read(100)
    writer.close()
    assert not data.startswith(b"HTTP/1.1 200")


def test_asyncio_tls_buffer_is_shrunk_to_one_record() -> None:
    """The per-connection TLS read buffer is cut to 16 KiB (one TLS record)."""
    import asyncio.sslproto

    from server.tls import TLS_READ_BUFFER, shrink_asyncio_tls_buffers

    before = asyncio.sslproto.SSLProtocol.max_size
    try:
        assert shrink_asyncio_tls_buffers()
        assert asyncio.sslproto.SSLProtocol.max_size == TLS_READ_BUFFER
    finally:
        asyncio.sslproto.SSLProtocol.max_size = before


def test_pinned_certificate_of_an_admin_chain_is_its_last_one(tmp_path: Path) -> None:
    """ca.pem serves one certificate: the last of tls_cert's chain, as docs/protocol.md says."""
    own = ensure_own_ca(tmp_path / "tls", hostnames=[])
    chain = x509.load_pem_x509_certificates(own.cert_file.read_bytes())
    assert len(chain) == 2  # leaf, then the CA that issued it
    given = given_certificate(own.cert_file, own.key_file)
    served = x509.load_pem_x509_certificates(pinned_certificate_pem(given))
    assert served == [chain[-1]]
    der = served[0].public_bytes(serialization.Encoding.DER)
    assert given.fingerprint == fingerprint_der(der)
    leaf_only = tmp_path / "leaf.pem"
    leaf_only.write_bytes(chain[0].public_bytes(serialization.Encoding.PEM))
    alone = given_certificate(leaf_only, own.key_file)
    assert x509.load_pem_x509_certificates(pinned_certificate_pem(alone)) == [chain[0]]
