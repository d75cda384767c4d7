"""The health messages of the wire protocol: shapes, limits, refusals (pure)."""

from __future__ import annotations

import json

import pytest

from shared import protocol as p

CHECK = {"id": 1, "name": "Disk /", "kind": "disk", "target": "/", "warning": 80,
         "critical": 90}


def test_health_config_round_trips() -> None:
    """A configuration encodes and decodes to the same message, defaults filled in."""
    config = p.HealthConfig(revision="a" * 64, checks=[p.HealthCheck(**CHECK)])
    decoded = p.decode_server_message(p.encode(config))
    assert decoded == config
    assert isinstance(decoded, p.HealthConfig)
    assert (decoded.checks[0].repeat_interval, decoded.interval) == (300, 15.0)


def test_health_report_round_trips() -> None:
    """A report decodes as the agent sent it."""
    report = p.HealthReport(id="r1", results=[p.HealthResult(
        check_id=1, state="critical", value=93.5, message="/ is 93.5% full", at=1.7e9)])
    assert p.decode_agent_message(p.encode(report)) == report


@pytest.mark.parametrize(("label", "change"), [
    ("unknown state", {"state": "bad"}),
    ("check id zero", {"check_id": 0}),
    ("negative value", {"value": -1}),
    ("message too long", {"message": "x" * 501}),
    ("time before the epoch", {"at": -5}),
    ("unknown field", {"extra": 1}),
    ("string value", {"value": "93"}),
])
def test_bad_health_results_are_invalid(label: str, change: dict[str, object]) -> None:
    """Each bad field of a result makes the report invalid, naming the report's id."""
    result = {"check_id": 1, "state": "ok", "value": 1.0, "message": "", "at": 1.7e9, **change}
    frame = json.dumps({"type": "health", "id": "r9", "results": [result]})
    with pytest.raises(p.ProtocolError) as err:
        p.decode_agent_message(frame)
    assert (err.value.code, err.value.msg_id) == (p.INVALID_MESSAGE, "r9")


def test_empty_and_oversized_reports_are_invalid() -> None:
    """A report carries 1 to 500 results."""
    one = {"check_id": 1, "state": "ok", "at": 1.0}
    for results in ([], [one] * (p.MAX_HEALTH_RESULTS + 1)):
        frame = json.dumps({"type": "health", "id": "r", "results": results})
        with pytest.raises(p.ProtocolError) as err:
            p.decode_agent_message(frame)
        assert err.value.code in (p.INVALID_MESSAGE, p.TOO_LARGE)


def test_bad_check_definitions_are_refused_by_the_agent() -> None:
    """An agent refuses a configuration with impossible levels or too many checks."""
    for change in ({"warning": 150}, {"kind": "registry"}, {"hysteresis": 80}):
        frame = json.dumps({"type": "health_config", "revision": "a" * 64,
                            "checks": [{**CHECK, **change}]})
        with pytest.raises(p.ProtocolError) as err:
            p.decode_server_message(frame)
        assert err.value.code == p.INVALID_MESSAGE
    many = [{**CHECK, "id": i + 1} for i in range(p.MAX_HEALTH_CHECKS + 1)]
    with pytest.raises(p.ProtocolError):
        p.decode_server_message(json.dumps({"type": "health_config", "revision": "a" * 64,
                                            "checks": many}))


def test_health_report_is_a_control_message() -> None:
    """A health report over 64 KiB is too large (only inventories and tickets may be)."""
    result = {"check_id": 1, "state": "ok", "message": "x" * 500, "at": 1.0}
    frame = json.dumps({"type": "health", "id": "r", "results": [result] * 200})
    with pytest.raises(p.ProtocolError) as err:
        p.decode_agent_message(frame)
    assert err.value.code == p.TOO_LARGE
