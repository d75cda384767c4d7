"""Health rules without a server: validation, which checks apply, incident decisions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from server.health import policy


def row(id: int, name: str, group_id: int | None, *, enabled: bool = True) -> SimpleNamespace:
    return SimpleNamespace(id=id, name=name, group_id=group_id, enabled=enabled)


def test_group_checks_replace_defaults_of_the_same_name() -> None:
    """A device gets its group's checks plus the defaults its group does not override."""
    rows = [row(1, "Disk /", None), row(2, "Memory", None), row(3, "Disk /", 7),
            row(4, "CUPS", 7), row(5, "Other", 8), row(6, "Off", None, enabled=False)]
    assert [r.id for r in policy.applicable(rows, 7)] == [4, 3, 2]
    assert [r.id for r in policy.applicable(rows, None)] == [1, 2]
    assert [r.id for r in policy.applicable(rows, 8)] == [1, 2, 5]


@pytest.mark.parametrize(("kind", "target", "warning", "critical", "error"), [
    ("disk", "/", None, None, "needs a warning or a critical level"),
    ("disk", "/", 90, 80, "must be below critical"),
    ("disk", "C:", 80, 90, "mount point"),
    ("memory", "/", 80, 90, "takes no target"),
    ("service", "", None, None, "needs a target"),
    ("process", "bin/sh", None, None, "no '/'"),
])
def test_nonsense_checks_are_refused(kind: str, target: str, warning: float | None,
                                     critical: float | None, error: str) -> None:
    """Checks whose values do not fit together are refused with the reason."""
    with pytest.raises(policy.CheckInvalid, match=error):
        policy.validate(kind, target, warning, critical)


def test_disk_target_defaults_to_root() -> None:
    """A disk check without a target watches /."""
    assert policy.validate("disk", "", 80, None) == "/"


def test_decisions() -> None:
    """Failing opens or updates; recovery resolves or notes; ok without incident is quiet."""
    assert policy.decide("critical", incident_open=False, on_recovery="resolve") == "open"
    assert policy.decide("warning", incident_open=True, on_recovery="resolve") == "update"
    assert policy.decide("ok", incident_open=True, on_recovery="resolve") == "resolve"
    assert policy.decide("ok", incident_open=True, on_recovery="note") == "note"
    assert policy.decide("ok", incident_open=False, on_recovery="resolve") == "none"
    assert policy.decide("unknown", incident_open=True, on_recovery="resolve") == "none"


def test_config_revision_follows_content() -> None:
    """The same checks give the same revision; a changed level gives another."""
    a = [SimpleNamespace(id=1, name="D", kind="disk", target="/", warning=80.0, critical=90.0,
                         window=0.0, hysteresis=5.0, recover_after=0.0, repeat_interval=300.0)]
    b = [SimpleNamespace(**{**vars(a[0]), "critical": 95.0})]
    assert policy.config_for(a, interval=15).revision == policy.config_for(a, interval=15).revision
    assert policy.config_for(a, interval=15).revision != policy.config_for(b, interval=15).revision
