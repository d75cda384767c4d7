"""Turn samples into check states: window averages, levels, hysteresis (pure).

A level is entered as soon as the (averaged) value reaches its threshold, and left only
when the value has fallen ``hysteresis`` points below it *and* the better state has
held for ``recover_after`` seconds. A reading that flaps around a threshold therefore
reports one failure, not a failure per crossing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shared.protocol import CheckState, HealthCheck, HealthResult

RANK: dict[CheckState, int] = {"unknown": -1, "ok": 0, "warning": 1, "critical": 2}


def level(check: HealthCheck, value: float, *, slack: float = 0.0) -> CheckState:
    """Return the level of ``value`` against the check's thresholds lowered by ``slack``."""
    if check.critical is not None and value >= check.critical - slack:
        return "critical"
    if check.warning is not None and value >= check.warning - slack:
        return "warning"
    return "ok"


def with_hysteresis(check: HealthCheck, value: float, current: CheckState) -> CheckState:
    """Return the level of ``value``, staying at ``current`` inside the dead band."""
    plain = level(check, value)
    if current in ("ok", "unknown") or RANK[plain] >= RANK[current]:
        return plain
    # Going down: each level above the plain one still holds while the value is within
    # ``hysteresis`` points of its threshold.
    held = level(check, value, slack=check.hysteresis)
    return held if RANK[held] <= RANK[current] else current


@dataclass
class Evaluator:
    """The state of one check on this device, fed one sample at a time."""

    check: HealthCheck
    reported: CheckState | None = None  # what the server was last told
    reported_at: float = 0.0
    better_since: float | None = None  # when the value first looked better than reported
    samples: deque[tuple[float, float]] = field(default_factory=deque)

    def average(self, now: float, value: float) -> float:
        """Add a sample; return the mean over the window (the sample itself for 0)."""
        self.samples.append((now, value))
        while self.samples and self.samples[0][0] < now - self.check.window:
            self.samples.popleft()
        return sum(v for _, v in self.samples) / len(self.samples)

    def feed(self, now: float, value: float | None, *, message: str = "") -> HealthResult | None:
        """Take a sample (None: it could not be taken); return a result to report, if any."""
        if value is None:
            self.samples.clear()
            state: CheckState = "unknown"
            shown = None
        else:
            shown = round(self.average(now, value), 2)
            state = with_hysteresis(self.check, shown, self.reported or "ok")
        if self.reported is not None and RANK[state] < RANK[self.reported] and state != "unknown":
            # Better than reported: only once it has held for recover_after seconds.
            if self.better_since is None:
                self.better_since = now
            if now - self.better_since < self.check.recover_after:
                return self._repeat(now, shown, message)
        self.better_since = None
        if state != self.reported:
            return self._report(now, state, shown, message)
        return self._repeat(now, shown, message)

    def _repeat(self, now: float, value: float | None, message: str) -> HealthResult | None:
        """Report the newest reading of a failing check every repeat_interval seconds."""
        if self.reported in ("warning", "critical") and \
                now - self.reported_at >= self.check.repeat_interval:
            return self._report(now, self.reported, value, message)
        return None

    def _report(self, now: float, state: CheckState, value: float | None,
                message: str) -> HealthResult:
        self.reported, self.reported_at = state, now
        return HealthResult(check_id=self.check.id, state=state, value=value,
                            message=message[:500], at=now)
