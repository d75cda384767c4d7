"""The optional ``record`` field of session_request (capability remote_recording)."""

from __future__ import annotations

import json

import pytest

from shared import protocol as p


def request(**extra: object) -> p.SessionRequest:
    return p.SessionRequest(session=3, technician="Tina", ticket="INC-000001", title="t",
                            reason="r", mode="view", consent=True, timeout=30.0, **extra)  # type: ignore[arg-type]


def test_record_is_sent_only_when_true() -> None:
    """False is left out, so agents that predate it (unknown fields refused) still parse."""
    assert "record" not in json.loads(p.encode(request()))
    assert json.loads(p.encode(request(record=True)))["record"] is True


def test_record_round_trips_and_defaults_to_false() -> None:
    """An agent reads record=true, and a request without it as not recorded."""
    got = p.decode_server_message(p.encode(request(record=True)))
    assert isinstance(got, p.SessionRequest) and got.record is True
    plain = p.decode_server_message(p.encode(request()))
    assert isinstance(plain, p.SessionRequest) and plain.record is False


def test_record_of_the_wrong_type_is_refused() -> None:
    """A non-boolean record is an invalid message, like any bad field."""
    raw = json.loads(p.encode(request()))
    raw["record"] = "yes"
    with pytest.raises(p.ProtocolError):
        p.decode_server_message(json.dumps(raw))
