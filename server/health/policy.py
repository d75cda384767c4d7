"""Health rules without I/O: check validation, which checks apply, incident decisions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from server.db.names import fold
from shared import protocol as p

NUMERIC = frozenset({"disk", "memory", "cpu"})
FAILING = ("warning", "critical")
# Priority from severity, through the ITIL matrix: (impact, urgency).
SEVERITY_IMPACT_URGENCY: dict[str, tuple[int, int]] = {"critical": (2, 1), "warning": (3, 2)}

Action = Literal["open", "update", "resolve", "note", "none"]


class CheckInvalid(ValueError):
    """A check's values do not make sense together."""


def validate(kind: str, target: str, warning: float | None, critical: float | None) -> str:
    """Return the check's target (defaulted); raise CheckInvalid for a bad combination."""
    if kind in NUMERIC:
        if warning is None and critical is None:
            raise CheckInvalid(f"a {kind} check needs a warning or a critical level")
        if warning is not None and critical is not None and warning >= critical:
            raise CheckInvalid(f"warning ({warning:g}) must be below critical ({critical:g})")
        if kind == "disk":
            target = target or "/"
            if not target.startswith("/"):
                raise CheckInvalid(f"a disk check's target is a mount point, got {target!r}")
        elif target:
            raise CheckInvalid(f"a {kind} check takes no target")
        return target
    if not target:
        raise CheckInvalid(f"a {kind} check needs a target (the "
                           f"{'systemd unit' if kind == 'service' else 'process name'})")
    if "/" in target:
        raise CheckInvalid(f"a {kind} name has no '/', got {target!r}")
    return target


def applicable(rows: Iterable[Any], group_id: int | None) -> list[Any]:
    """Return the enabled checks of a device in ``group_id``: its group's, then defaults.

    A group check replaces the default check of the same name (compared case-folded).
    """
    rows = [r for r in rows if r.enabled]
    own = [r for r in rows if group_id is not None and r.group_id == group_id]
    names = {fold(r.name) for r in own}
    defaults = [r for r in rows if r.group_id is None and fold(r.name) not in names]
    return sorted(own + defaults, key=lambda r: (r.name, r.id))


def to_wire(row: Any) -> p.HealthCheck:
    """Return the protocol form of a check row."""
    return p.HealthCheck(id=row.id, name=row.name, kind=row.kind, target=row.target,
                         warning=row.warning, critical=row.critical, window=row.window,
                         hysteresis=row.hysteresis, recover_after=row.recover_after,
                         repeat_interval=row.repeat_interval)


def config_for(rows: Iterable[Any], *, interval: float) -> p.HealthConfig:
    """Return the configuration message for these checks, with a content revision."""
    checks = [to_wire(r) for r in rows]
    digest = hashlib.sha256(msgspec.json.encode([checks, interval])).hexdigest()
    return p.HealthConfig(revision=digest, checks=checks, interval=interval)


def decide(state: str, *, incident_open: bool, on_recovery: str) -> Action:
    """Return what a result does to the (device, check) incident."""
    if state in FAILING:
        return "update" if incident_open else "open"
    if state == "ok" and incident_open:
        return "resolve" if on_recovery == "resolve" else "note"
    return "none"


def impact_urgency(state: str) -> tuple[int, int]:
    """Return the impact and urgency an incident of this severity gets."""
    return SEVERITY_IMPACT_URGENCY[state]


def reading_text(check_name: str, state: str, message: str, value: float | None) -> str:
    """Return the timeline text of one reading."""
    shown = message or (f"value {value:g}" if value is not None else "no reading")
    return f"{check_name}: {state} — {shown}"
