"""SQL for health checks and the state of each check on each device."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold, with_key
from server.db.schema import devices, groups, tickets
from server.errors import Conflict, NotFound, ValidationFailed
from server.health import policy
from server.health.schemas import CheckStatus, HealthCheckOut, IncidentRef
from server.health.tables import device_health, health_checks
from server.tickets.lifecycle import OPEN_STATUSES

STATE_ORDER = {"critical": 0, "warning": 1, "unknown": 2, "pending": 3, "ok": 4}


def to_check(row: Any) -> HealthCheckOut:
    """Return the API view of a check row."""
    return HealthCheckOut(
        id=row.id, group_id=row.group_id, name=row.name, kind=row.kind, target=row.target,
        warning=row.warning, critical=row.critical, window=row.window,
        hysteresis=row.hysteresis, recover_after=row.recover_after,
        repeat_interval=row.repeat_interval, on_recovery=row.on_recovery,
        enabled=row.enabled, created_at=row.created_at, updated_at=row.updated_at)


def list_checks(conn: Connection, *, group_id: int | None = None,
                defaults: bool | None = None) -> list[Any]:
    """Return checks, defaults first, then by group and name."""
    query = sa.select(health_checks).order_by(
        health_checks.c.group_id.is_not(None), health_checks.c.group_id,
        health_checks.c.name, health_checks.c.id)
    if group_id is not None:
        query = query.where(health_checks.c.group_id == group_id)
    if defaults is not None:
        query = query.where(health_checks.c.group_id.is_(None) if defaults
                            else health_checks.c.group_id.is_not(None))
    return list(conn.execute(query).all())


def get_check(conn: Connection, check_id: int) -> Any:
    """Return one check row.

    Raises:
        NotFound: no such check.
    """
    row = conn.execute(sa.select(health_checks).where(health_checks.c.id == check_id)).first()
    if row is None:
        raise NotFound("no health check with id {check_id}", check_id=check_id)
    return row


def _check_name_free(conn: Connection, group_id: int | None, name: str,
                     except_id: int | None = None) -> None:
    where = [health_checks.c.name_key == fold(name),
             health_checks.c.group_id.is_(None) if group_id is None
             else health_checks.c.group_id == group_id]
    if except_id is not None:
        where.append(health_checks.c.id != except_id)
    if conn.execute(sa.select(health_checks.c.id).where(*where)).first() is not None:
        if group_id is None:
            raise Conflict("the defaults already have a check named {name!r}", name=name)
        raise Conflict("group {group_id} already has a check named {name!r}",
                       group_id=group_id, name=name)


def _validate(values: dict[str, Any]) -> None:
    try:
        values["target"] = policy.validate(values["kind"], values["target"],
                                           values["warning"], values["critical"])
    except policy.CheckInvalid as exc:
        raise ValidationFailed("the check is not valid: {problem}", problem=str(exc)) from exc


def create_check(conn: Connection, values: dict[str, Any], now: dt.datetime) -> int:
    """Store a new check; return its id.

    Raises:
        ValidationFailed: bad values or an unknown group.
        Conflict: the group (or the defaults) already has a check of that name.
    """
    _validate(values)
    group_id = values["group_id"]
    if group_id is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}", group_id=group_id)
    _check_name_free(conn, group_id, values["name"])
    return int(conn.execute(health_checks.insert().values(
        **values, created_at=now, updated_at=now)).inserted_primary_key[0])  # type: ignore[index]


def update_check(conn: Connection, check_id: int, changes: dict[str, Any],
                 now: dt.datetime) -> Any:
    """Apply changes to a check; return the new row.

    Raises:
        NotFound: no such check.
        ValidationFailed: the changed check would not make sense.
        Conflict: the new name is taken in its group.
    """
    row = get_check(conn, check_id)
    values = {c: getattr(row, c) for c in ("kind", "target", "warning", "critical")}
    values.update({k: v for k, v in changes.items() if k in values})
    _validate(values)
    if "name" in changes:
        _check_name_free(conn, row.group_id, changes["name"], except_id=check_id)
    changes = with_key({**changes, "target": values["target"]})
    conn.execute(health_checks.update().where(health_checks.c.id == check_id)
                 .values(**changes, updated_at=now))
    return get_check(conn, check_id)


def delete_check(conn: Connection, check_id: int) -> Any:
    """Delete a check (its states go with it; incidents stay); return the old row.

    Raises:
        NotFound: no such check.
    """
    row = get_check(conn, check_id)
    conn.execute(health_checks.delete().where(health_checks.c.id == check_id))
    return row


def checks_for_device(conn: Connection, device_id: int) -> list[Any]:
    """Return the enabled checks that apply to a device."""
    group = conn.execute(sa.select(devices.c.group_id)
                         .where(devices.c.id == device_id)).scalar_one_or_none()
    rows = conn.execute(sa.select(health_checks).where(sa.or_(
        health_checks.c.group_id.is_(None), health_checks.c.group_id == group)
        if group is not None else health_checks.c.group_id.is_(None))).all()
    return policy.applicable(rows, group)


def device_status(conn: Connection, device_id: int) -> list[CheckStatus]:
    """Return each applicable check of a device with its newest state, worst first."""
    checks = checks_for_device(conn, device_id)
    states = {r.check_id: r for r in conn.execute(
        sa.select(device_health, tickets.c.number, tickets.c.status.label("incident_status"))
        .outerjoin(tickets, tickets.c.id == device_health.c.incident_id)
        .where(device_health.c.device_id == device_id))}
    items = []
    for check in checks:
        st = states.get(check.id)
        incident = None
        if st is not None and st.incident_id is not None:
            incident = IncidentRef(id=st.incident_id, number=st.number,
                                   status=st.incident_status)
        items.append(CheckStatus(
            check=to_check(check), state=st.state if st is not None else "pending",
            value=st.value if st is not None else None,
            message=st.message if st is not None else "",
            at=st.at if st is not None else None,
            changed_at=st.changed_at if st is not None else None, incident=incident))
    items.sort(key=lambda s: (STATE_ORDER[s.state], s.check.name))
    return items


def prune_states(conn: Connection, device_ids: list[int] | None = None) -> int:
    """Mark states of checks that no longer apply to their device unknown; return how many.

    A check stops applying when it is disabled, when the device leaves its group, or
    when the device's group gets its own check of the same name (replacing a default).
    The row stays with its incident link, so a check that applies again updates the same
    incident; it just no longer counts as failing.
    """
    check = health_checks.alias("c")
    override = health_checks.alias("o")
    device_group = (sa.select(devices.c.group_id).where(devices.c.id == device_health.c.device_id)
                    .scalar_subquery())
    stale = sa.select(check.c.id).where(
        check.c.id == device_health.c.check_id,
        sa.or_(
            check.c.enabled.is_(False),
            sa.and_(check.c.group_id.is_not(None),
                    sa.or_(device_group.is_(None), check.c.group_id != device_group)),
            sa.and_(check.c.group_id.is_(None), sa.exists(sa.select(override.c.id).where(
                override.c.group_id == device_group, override.c.name_key == check.c.name_key,
                override.c.enabled.is_(True))))))
    query = (device_health.update().where(sa.exists(stale), device_health.c.state != "unknown")
             .values(state="unknown", message="no longer applies to this device"))
    if device_ids is not None:
        query = query.where(device_health.c.device_id.in_(device_ids))
    return int(conn.execute(query).rowcount or 0)


def failing_device_ids(states: tuple[str, ...] = policy.FAILING) -> Any:
    """Return a subquery of devices with a check in one of ``states``."""
    return sa.select(device_health.c.device_id).where(device_health.c.state.in_(states))


def open_incident(conn: Connection, incident_id: int | None) -> Any:
    """Return the incident's row if it is still open, else None."""
    if incident_id is None:
        return None
    row = conn.execute(sa.select(tickets).where(tickets.c.id == incident_id)).first()
    return row if row is not None and row.status in OPEN_STATUSES else None
