"""Agent building blocks without a server: backoff, outbox, pinning, state files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from endpoint_agent.backoff import Backoff
from endpoint_agent.enroll import normalize_url
from endpoint_agent.errors import EnrollmentError, NotEnrolled, PinMismatch
from endpoint_agent.outbox import Outbox
from endpoint_agent.pinning import check_pin
from endpoint_agent.state import AgentState
from server.tls import ensure_own_ca


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


def test_state_files_are_private(tmp_path: Path) -> None:
    """The state directory is 0700 and the device key 0600."""
    state = AgentState(tmp_path / "state")
    state.new_key()
    assert stat.S_IMODE(state.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.key_file.stat().st_mode) == 0o600
    with pytest.raises(NotEnrolled, match="enroll"):
        state.load()
