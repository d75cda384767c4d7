"""Agent building blocks without a server: backoff, outbox, pinning, state files, key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from endpoint_agent import devkey
from endpoint_agent.backoff import Backoff
from endpoint_agent.devkey import DeviceKey, seed_from_pem
from endpoint_agent.enroll import normalize_url
from endpoint_agent.errors import EnrollmentError, NotEnrolled, PinMismatch
from endpoint_agent.outbox import Outbox
from endpoint_agent.pinning import check_pin
from endpoint_agent.state import AgentState, Enrollment
from server.tls import ensure_own_ca
from shared import agent_auth


def test_backoff_grows_caps_and_jitters() -> None:
    """Delays double up to the cap, each drawn uniformly below its ceiling."""
    top = Backoff(initial=1, factor=2, maximum=30, rand=lambda: 1.0)
    assert [top.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    low = Backoff(initial=1, maximum=30, minimum=0.1, rand=lambda: 0.0)
    assert low.delay(5) == 0.1
    assert Backoff(rand=lambda: 0.5).delay(10_000) == 30.0


def test_outbox_keeps_order_and_drops_oldest_when_full(tmp_path: Path) -> None:
    """The outbox returns reports oldest first and holds at most its limit."""
    box = Outbox(tmp_path / "o.sqlite", limit=3)
    ids = [box.put("metrics", {"n": n}) for n in range(5)]
    assert [body["n"] for _, _, body in box.peek(10)] == [2, 3, 4]
    box.remove(ids[2])
    assert len(box) == 2
    box.close()
    reopened = Outbox(tmp_path / "o.sqlite", limit=3)
    assert [body["n"] for _, _, body in reopened.peek(10)] == [3, 4]
    reopened.close()


def test_pin_check_accepts_only_the_pinned_ca(tmp_path: Path) -> None:
    """The CA is accepted only when its SHA-256 matches the pinned fingerprint."""
    info = ensure_own_ca(tmp_path / "tls", hostnames=[])
    assert info.ca_file is not None
    pem = info.ca_file.read_bytes()
    check_pin(pem, info.fingerprint)
    with pytest.raises(PinMismatch):
        check_pin(pem, "sha256:" + "1" * 64)
    with pytest.raises(PinMismatch):
        check_pin(b"<html>not a cert</html>", info.fingerprint)


def test_only_https_urls_are_accepted() -> None:
    """Enrollment refuses plain http and garbage URLs."""
    assert normalize_url("https://desk.example.org:8443/") == "https://desk.example.org:8443"
    for bad in ("http://desk:8443", "desk:8443", "wss://desk", "https://"):
        with pytest.raises(EnrollmentError):
            normalize_url(bad)


def test_state_files_are_private_and_the_stored_ca_stays_pinned(tmp_path: Path) -> None:
    """State is 0700, the key 0600, and a CA file swapped on disk is refused on load."""
    state = AgentState(tmp_path / "state")
    with pytest.raises(NotEnrolled, match="enroll"):
        state.load()
    info = ensure_own_ca(tmp_path / "tls", hostnames=[])
    assert info.ca_file is not None
    pem = check_pin(info.ca_file.read_bytes(), info.fingerprint)
    enrollment = Enrollment(server_url="https://127.0.0.1:1", device_id="d",
                            fingerprint=info.fingerprint, websocket_path="/ws")
    state.save(enrollment, pem, Ed25519PrivateKey.generate())
    assert stat.S_IMODE(state.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.key_file.stat().st_mode) == 0o600
    assert state.load() == (enrollment, pem)
    other = ensure_own_ca(tmp_path / "tls2", hostnames=[])
    assert other.ca_file is not None
    state.ca_file.write_bytes(pem + other.ca_file.read_bytes())
    with pytest.raises(PinMismatch):
        state.load()


def test_pin_check_refuses_a_smuggled_second_certificate(tmp_path: Path) -> None:
    """The pinned CA followed by another certificate is refused, not half-checked."""
    real = ensure_own_ca(tmp_path / "real", hostnames=[])
    evil = ensure_own_ca(tmp_path / "evil", hostnames=[])
    assert real.ca_file is not None and evil.ca_file is not None
    bundle = real.ca_file.read_bytes() + evil.ca_file.read_bytes()
    with pytest.raises(PinMismatch, match="2 certificates"):
        check_pin(bundle, real.fingerprint)


def test_the_device_key_signs_through_libcrypto_as_the_cryptography_package_verifies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored key loads as a libcrypto DeviceKey whose signatures the server's check
    accepts; without a usable libcrypto it loads through the cryptography package."""
    key = Ed25519PrivateKey.generate()
    loaded = DeviceKey.from_pem(agent_auth.private_pem(key))
    assert isinstance(loaded, DeviceKey)
    assert loaded.public_bytes() == agent_auth.public_bytes(key)
    nonce, channel = agent_auth.new_nonce(), agent_auth.channel_binding(b"cert")
    signature = agent_auth.sign(loaded, nonce, "d", channel)
    assert signature == agent_auth.sign(key, nonce, "d", channel)  # Ed25519 is deterministic
    assert agent_auth.verify(agent_auth.public_bytes(key), signature, nonce, "d", channel)
    encrypted = key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret"))
    assert seed_from_pem(encrypted) is None
    with pytest.raises(TypeError, match="encrypted"):  # the package's own load refuses it
        DeviceKey.from_pem(encrypted)
    monkeypatch.setattr(devkey, "_libcrypto", lambda: None)
    fallback = DeviceKey.from_pem(agent_auth.private_pem(key))
    assert isinstance(fallback, Ed25519PrivateKey)
    assert agent_auth.sign(fallback, nonce, "d", channel) == signature
    with pytest.raises(ValueError):
        DeviceKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
