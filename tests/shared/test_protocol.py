"""The wire protocol as pure functions: bytes in, messages or named errors out."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import agent_auth
from shared import protocol as p
from shared.digests import section_digests

DEVICE = "0b9f3c2e-1a2b-4c3d-8e9f-0123456789ab"


def test_messages_round_trip() -> None:
    """Every message type encodes to a text frame and decodes back to itself."""
    for message in (p.Hello(protocol=1, device_id=DEVICE, agent_version="1", capabilities=[],
                            signature="AAAA"),
                    p.Heartbeat(seq=3, metrics=p.Metrics(cpu_percent=1, memory_percent=2,
                                                         disk_percent=3)),
                    p.Inventory(id="i1", sections={"x": [1]}, digests={"x": "0" * 64}),
                    p.Error(code="c", message="m")):
        assert p.decode_agent_message(p.encode(message)) == message
    for message in (p.Challenge(nonce="AAAA", protocols=[1]), p.Ack(id="a"),
                    p.HeartbeatAck(seq=1)):
        assert p.decode_server_message(p.encode(message)) == message


@pytest.mark.parametrize(("frame", "code"), [
    ("not json", p.MALFORMED),
    ("", p.MALFORMED),
    ("[]", p.INVALID_MESSAGE),
    ('{"seq": 1}', p.UNKNOWN_TYPE),
    ('{"type": "nope"}', p.UNKNOWN_TYPE),
    ('{"type": "heartbeat"}', p.INVALID_MESSAGE),
    ('{"type": "heartbeat", "seq": -1}', p.INVALID_MESSAGE),
    ('{"type": "heartbeat", "seq": 1, "x": 1}', p.INVALID_MESSAGE),
    ('{"type": "challenge", "nonce": "AA", "protocols": [1]}', p.UNKNOWN_TYPE),
    ('{"type": "hello", "protocol": 1, "device_id": "../../etc", "agent_version": "",'
     ' "capabilities": [], "signature": "AA"}', p.INVALID_MESSAGE),
])
def test_bad_agent_frames_raise_named_errors(frame: str, code: str) -> None:
    """Bad frames raise ProtocolError with the code the peer will see."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(frame)
    assert info.value.code == code


def test_size_limits_depend_on_type() -> None:
    """Control messages are capped at 64 KiB; inventories at 4 MiB."""
    big = "x" * (p.MAX_CONTROL_BYTES + 1)
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message('{"type": "heartbeat", "seq": 1, "pad": "' + big + '"}')
    assert info.value.code == p.TOO_LARGE
    inventory = p.Inventory(id="i", sections={"s": big}, digests={"s": "0" * 64})
    assert p.decode_agent_message(p.encode(inventory)) == inventory
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message("x" * (p.MAX_MESSAGE_BYTES + 1))
    assert info.value.code == p.TOO_LARGE


def test_error_reply_carries_the_refused_message_id() -> None:
    """An invalid message with an id gets an error naming that id."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message('{"type": "inventory", "id": "inv-7", "sections": 5}')
    assert p.error_for(info.value).id == "inv-7"


def test_signature_binds_nonce_device_and_channel() -> None:
    """A signature verifies only for its own nonce, device id, channel and key."""
    key = Ed25519PrivateKey.generate()
    public = agent_auth.public_bytes(key)
    nonce, channel = agent_auth.new_nonce(), agent_auth.channel_binding(b"cert")
    sig = agent_auth.sign(key, nonce, DEVICE, channel)
    assert agent_auth.verify(public, sig, nonce, DEVICE, channel)
    assert not agent_auth.verify(public, sig, agent_auth.new_nonce(), DEVICE, channel)
    assert not agent_auth.verify(public, sig, nonce, DEVICE.replace("0b", "0c"), channel)
    assert not agent_auth.verify(public, sig, nonce, DEVICE,
                                 agent_auth.channel_binding(b"other cert"))
    other = agent_auth.public_bytes(Ed25519PrivateKey.generate())
    assert not agent_auth.verify(other, sig, nonce, DEVICE, channel)
    assert not agent_auth.verify(public, "!!not base64!!", nonce, DEVICE, channel)
    assert not agent_auth.verify(b"short", sig, nonce, DEVICE, channel)


def test_section_digests_ignore_key_order_and_see_changes() -> None:
    """Digests do not depend on key order; changing one section changes only its digest."""
    a = section_digests({"os": {"name": "Debian", "version": "12"}, "cpus": [{"core": 2}]})
    b = section_digests({"cpus": [{"core": 2}], "os": {"version": "12", "name": "Debian"}})
    assert a == b
    c = section_digests({"os": {"name": "Debian", "version": "13"}, "cpus": [{"core": 2}]})
    assert c["cpus"] == a["cpus"] and c["os"] != a["os"]


def test_signed_bytes_follow_the_documented_layout() -> None:
    """The signed bytes are exactly those docs/protocol.md describes."""
    import hashlib

    nonce_raw = bytes(range(32))
    channel = hashlib.sha256(b"certificate").digest()
    expected = (b"deskmate-agent-auth/1" + b"\x00" + nonce_raw + b"\x00" + DEVICE.encode()
                + b"\x00" + channel)
    nonce = agent_auth.b64encode(nonce_raw)
    assert "=" not in nonce
    assert agent_auth.signed_payload(nonce, DEVICE, channel) == expected
