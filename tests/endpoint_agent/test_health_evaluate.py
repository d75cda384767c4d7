"""Check evaluation on the agent: levels, window averages, hysteresis, repeats (pure)."""

from __future__ import annotations

from endpoint_agent.health.evaluate import Evaluator, level, with_hysteresis
from endpoint_agent.health.runner import effective
from shared.protocol import HealthCheck

DISK = HealthCheck(id=1, name="Disk /", kind="disk", target="/", warning=80, critical=90,
                   hysteresis=5, recover_after=0, repeat_interval=60)


def states(ev: Evaluator, readings: list[tuple[float, float | None]]) -> list[str | None]:
    """Feed readings; return the state reported for each (None: nothing reported)."""
    out = []
    for now, value in readings:
        result = ev.feed(now, value)
        out.append(result.state if result is not None else None)
    return out


def test_levels_follow_thresholds() -> None:
    """Below warning is ok, from warning on warning, from critical on critical."""
    assert [level(DISK, v) for v in (10, 79.9, 80, 89.9, 90, 100)] == [
        "ok", "ok", "warning", "warning", "critical", "critical"]


def test_a_level_is_left_only_below_the_dead_band() -> None:
    """Critical holds down to critical minus hysteresis; then warning, then ok."""
    assert with_hysteresis(DISK, 86, "critical") == "critical"
    assert with_hysteresis(DISK, 84.9, "critical") == "warning"
    assert with_hysteresis(DISK, 76, "warning") == "warning"
    assert with_hysteresis(DISK, 74, "critical") == "ok"
    assert with_hysteresis(DISK, 92, "warning") == "critical"  # worse: at once


def test_first_reading_is_reported_then_only_changes() -> None:
    """The first state is reported; an unchanged ok state is not reported again."""
    ev = Evaluator(DISK)
    assert states(ev, [(0, 50), (1, 51), (2, 82), (3, 83), (4, 95)]) == [
        "ok", None, "warning", None, "critical"]


def test_failing_check_repeats_its_reading() -> None:
    """A failing check reports its newest reading every repeat_interval seconds."""
    ev = Evaluator(DISK)
    got = states(ev, [(0, 95), (30, 96), (60, 97), (61, 97), (120, 98)])
    assert got == ["critical", None, "critical", None, "critical"]


def test_flapping_inside_the_recovery_window_reports_no_recovery() -> None:
    """Dips below the threshold shorter than recover_after are not a recovery."""
    check = HealthCheck(**{**_fields(DISK), "recover_after": 300, "repeat_interval": 3600})
    ev = Evaluator(check)
    got = states(ev, [(0, 95), (10, 50), (20, 95), (100, 50), (200, 95), (290, 50),
                      (500, 50), (600, 50)])
    assert got == ["critical", None, None, None, None, None, None, "ok"]


def test_window_average_smooths_a_spike() -> None:
    """A CPU check compares the average over its window, not one spike."""
    cpu = HealthCheck(id=2, name="CPU", kind="cpu", warning=80, critical=95, window=60)
    ev = Evaluator(cpu)
    assert states(ev, [(0, 10), (10, 10), (20, 100)]) == ["ok", None, None]
    results = [ev.feed(t, 100) for t in (30, 40, 50, 60, 70, 80)]
    reported = [r for r in results if r is not None]
    assert [r.state for r in reported] == ["warning", "critical"]
    assert reported[-1].value == 100.0  # the old low samples left the window


def test_unreadable_probe_is_unknown_and_resets_the_window() -> None:
    """A reading that cannot be taken reports unknown once."""
    ev = Evaluator(DISK)
    assert states(ev, [(0, 50), (1, None), (2, None), (3, 95)]) == [
        "ok", "unknown", None, "critical"]


def test_service_down_is_critical_at_once() -> None:
    """Service and process checks are critical when down, whatever their levels."""
    unit = effective(HealthCheck(id=3, name="cups", kind="service", target="cups",
                                 warning=None, critical=None))
    ev = Evaluator(unit)
    assert states(ev, [(0, 0.0), (1, 100.0), (2, 0.0)]) == ["ok", "critical", "ok"]


def _fields(check: HealthCheck) -> dict[str, object]:
    return {f: getattr(check, f) for f in check.__struct_fields__}
