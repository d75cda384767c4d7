"""SQL for business calendars and SLA policies (functions over a Connection)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.names import fold
from server.db.schema import categories, groups, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.i18n.messages import N_, Message
from server.sla import retarget
from server.sla.policy import calendar_from_parts
from server.sla.schemas import (
    Calendar,
    Conditions,
    EscalationRule,
    PolicyOut,
    Targets,
    WeeklyHours,
)
from server.sla.tables import sla_calendars, sla_clocks, sla_policies


def hours_of(hours: WeeklyHours) -> dict[str, list[str]]:
    """Return weekly hours in their stored form (days without hours left out)."""
    return {day: list(v) for day, v in msgspec.structs.asdict(hours).items() if v}


def check_calendar(values: dict[str, Any]) -> None:
    """Refuse a calendar that would not validate (422 naming the problem)."""
    try:
        calendar_from_parts(name=values["name"], tz=values["tz"], hours=values["hours"],
                            holidays=values["holidays"],
                            recurring_holidays=values["recurring_holidays"])
    except ValueError as exc:
        raise ValidationFailed("the calendar is not valid: {problem}", problem=str(exc)) from exc


def to_calendar(row: Any) -> Calendar:
    """Return the API form of a calendar row."""
    return Calendar(id=row.id, name=row.name, tz=row.tz, hours=row.hours,
                    holidays=row.holidays, recurring_holidays=row.recurring_holidays,
                    created_at=row.created_at, updated_at=row.updated_at)


def list_calendars(conn: Connection) -> list[Calendar]:
    """Return every calendar by name."""
    return [to_calendar(r) for r in conn.execute(
        sa.select(sla_calendars).order_by(sla_calendars.c.name))]


def calendar_row(conn: Connection, calendar_id: int) -> Any:
    """Return a calendar row.

    Raises:
        NotFound: no such calendar.
    """
    row = conn.execute(sa.select(sla_calendars)
                       .where(sla_calendars.c.id == calendar_id)).one_or_none()
    if row is None:
        raise NotFound("no calendar with id {calendar_id}", calendar_id=calendar_id)
    return row


def _name_taken(conn: Connection, table: sa.Table, name: str, own_id: int | None) -> None:
    query = sa.select(table.c.id).where(table.c.name_key == fold(name))
    if own_id is not None:
        query = query.where(table.c.id != own_id)
    if conn.execute(query).first() is not None:
        raise Conflict("the name {name!r} is taken", name=name)


def save_calendar(conn: Connection, calendar_id: int | None, changes: dict[str, Any],
                  now: dt.datetime) -> Calendar:
    """Create (``calendar_id`` None) or update a calendar; return it."""
    if "hours" in changes and isinstance(changes["hours"], WeeklyHours):
        changes["hours"] = hours_of(changes["hours"])
    if calendar_id is None:
        values = {"holidays": [], "recurring_holidays": [], **changes}
    else:
        row = calendar_row(conn, calendar_id)
        values = {k: getattr(row, k) for k in ("name", "tz", "hours", "holidays",
                                               "recurring_holidays")}
        values.update(changes)
    values["name"] = values["name"].strip()
    if not values["name"]:
        raise ValidationFailed("name must not be blank")
    values["name_key"] = fold(values["name"])
    values["holidays"] = sorted(set(values["holidays"]))
    values["recurring_holidays"] = sorted(set(values["recurring_holidays"]))
    check_calendar(values)
    _name_taken(conn, sla_calendars, values["name"], calendar_id)
    if calendar_id is None:
        calendar_id = int(conn.execute(sla_calendars.insert().values(
            **values, created_at=now, updated_at=now)).inserted_primary_key[0])  # type: ignore[index]
    else:
        conn.execute(sla_calendars.update().where(sla_calendars.c.id == calendar_id)
                     .values(**values, updated_at=now))
    return to_calendar(calendar_row(conn, calendar_id))


def delete_calendar(conn: Connection, calendar_id: int) -> None:
    """Delete a calendar no policy or clock uses.

    Raises:
        NotFound: no such calendar.
        Conflict: a policy or a ticket's clock uses it.
    """
    calendar_row(conn, calendar_id)
    for table in (sla_policies, sla_clocks):
        if conn.execute(sa.select(table.c.id).where(table.c.calendar_id == calendar_id)
                        .limit(1)).first() is not None:
            raise Conflict("calendar {calendar_id} is used by {value}; "
                           "it cannot be deleted", calendar_id=calendar_id,
                           value=table.name.split('_')[1])
    conn.execute(sla_calendars.delete().where(sla_calendars.c.id == calendar_id))


def to_policy(row: Any, retarget_pending: bool = False) -> PolicyOut:
    """Return the API form of a policy row."""
    return PolicyOut(
        id=row.id, name=row.name, position=row.position, fallback=row.fallback,
        active=row.active, calendar_id=row.calendar_id,
        conditions=Conditions(kinds=row.kinds, priorities=row.priorities,
                              category_ids=row.category_ids,
                              requester_group_ids=row.requester_group_ids),
        targets=Targets(first_response=row.first_response_minutes,
                        resolution=row.resolution_minutes,
                        next_update=row.next_update_minutes),
        warn_percents=row.warn_percents, pause_statuses=row.pause_statuses,
        escalations=[msgspec.convert(r, EscalationRule) for r in row.escalations],
        created_at=row.created_at, updated_at=row.updated_at,
        retarget_pending=retarget_pending)


def policy_row(conn: Connection, policy_id: int) -> Any:
    """Return a policy row.

    Raises:
        NotFound: no such policy.
    """
    row = conn.execute(sa.select(sla_policies)
                       .where(sla_policies.c.id == policy_id)).one_or_none()
    if row is None:
        raise NotFound("no policy with id {policy_id}", policy_id=policy_id)
    return row


def get_policy(conn: Connection, policy_id: int) -> PolicyOut:
    """Return one policy in its API form.

    Raises:
        NotFound: no such policy.
    """
    return to_policy(policy_row(conn, policy_id), retarget.is_pending(conn, policy_id))


def list_policies(conn: Connection) -> list[PolicyOut]:
    """Return policies in match order, the fallback last."""
    rows = conn.execute(sa.select(sla_policies).order_by(
        sla_policies.c.fallback, sla_policies.c.position, sla_policies.c.id)).all()
    waiting = retarget.pending(conn)
    return [to_policy(r, r.id in waiting) for r in rows]


def _flatten(changes: dict[str, Any]) -> dict[str, Any]:
    """Turn API fields into columns."""
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "conditions":
            values.update(msgspec.structs.asdict(value))
        elif key == "targets":
            values.update(first_response_minutes=value.first_response,
                          resolution_minutes=value.resolution,
                          next_update_minutes=value.next_update)
        elif key == "escalations":
            values["escalations"] = [
                {k: v for k, v in msgspec.structs.asdict(r).items() if v is not None}
                for r in value]
        elif key == "warn_percents":
            if len(set(value)) != len(value):
                raise ValidationFailed("warn_percents: each threshold once")
            values[key] = sorted(value)
        elif key == "pause_statuses":
            values[key] = sorted(set(value))
        else:
            values[key] = value
    return values


def _check_policy(conn: Connection, values: dict[str, Any]) -> None:
    if conn.execute(sa.select(sla_calendars.c.id).where(
            sla_calendars.c.id == values["calendar_id"])).first() is None:
        _missing("calendar_id", values["calendar_id"], N_("calendar"))
    if all(values.get(k) is None for k in ("first_response_minutes", "resolution_minutes",
                                           "next_update_minutes")):
        raise ValidationFailed("targets: give at least one of first_response, resolution, "
                               "next_update")
    for name, table, ids in (("category_ids", categories, values["category_ids"]),
                             ("requester_group_ids", groups, values["requester_group_ids"])):
        found = {r.id for r in conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids)))}
        missing = sorted(set(ids) - found)
        if missing:
            _missing(name, missing[0], N_("category") if table is categories else N_("group"))
    for i, rule in enumerate(values["escalations"]):
        where = f"escalations[{i}]"
        if rule["action"] == "reassign":
            if rule.get("group_id") is None:
                raise ValidationFailed("{field}: reassign needs group_id",
                                       field=where + ".group_id")
            if conn.execute(sa.select(groups.c.id).where(
                    groups.c.id == rule["group_id"])).first() is None:
                _missing(where + ".group_id", rule["group_id"], N_("group"))
        if rule.get("user_id") is not None:
            if rule["action"] != "notify":
                raise ValidationFailed("{field}: user_id applies to notify only",
                                       field=where + ".user_id")
            if conn.execute(sa.select(users.c.id).where(
                    users.c.id == rule["user_id"], users.c.active.is_(True),
                    users.c.role.in_(("admin", "technician")))).first() is None:
                raise ValidationFailed("{field}: no active staff member with id {value}",
                                       field=where + ".user_id", value=rule["user_id"])
        if rule["action"] == "timeline" and not rule.get("note"):
            raise ValidationFailed("{field}: timeline needs a note", field=where + ".note")
        if rule.get("percent") is not None and rule["on"] != "warning":
            raise ValidationFailed("{field}: percent applies to warnings only",
                                   field=where + ".percent")


def _missing(field: str, value: int, what: Message) -> None:
    raise ValidationFailed("{field}: no {what} with id {value}", field=field, what=what,
                           value=value)


def save_policy(conn: Connection, policy_id: int | None, changes: dict[str, Any],
                now: dt.datetime) -> PolicyOut:
    """Create (``policy_id`` None) or update a policy.

    An update that leaves open clocks on the policy records a pending re-target
    (:mod:`server.sla.retarget`); the SLA service re-targets them in chunks afterwards,
    so this transaction stays short whatever the number of open tickets.
    """
    values = _flatten(changes)
    if policy_id is None:
        base: dict[str, Any] = {
            "kinds": [], "priorities": [], "category_ids": [], "requester_group_ids": [],
            "first_response_minutes": None, "resolution_minutes": None,
            "next_update_minutes": None, "fallback": False, "active": True,
            "warn_percents": [75], "pause_statuses": ["pending"], "escalations": []}
        base.update(values)
        if base.get("position") is None:
            top = conn.execute(sa.select(sa.func.max(sla_policies.c.position))).scalar()
            base["position"] = (top or 0) + 10
        values = base
    else:
        row = policy_row(conn, policy_id)
        current = dict(row._mapping)
        current.update(values)
        values = {k: v for k, v in current.items() if k not in ("id", "created_at",
                                                                 "updated_at")}
    values["name"] = values["name"].strip()
    if not values["name"]:
        raise ValidationFailed("name must not be blank")
    values["name_key"] = fold(values["name"])
    _check_policy(conn, values)
    _name_taken(conn, sla_policies, values["name"], policy_id)
    if values["fallback"]:
        # One fallback: naming a new one demotes the old.
        conn.execute(sla_policies.update().where(sla_policies.c.fallback.is_(True))
                     .values(fallback=False))
    if policy_id is None:
        policy_id = int(conn.execute(sla_policies.insert().values(
            **values, created_at=now, updated_at=now)).inserted_primary_key[0])  # type: ignore[index]
    else:
        conn.execute(sla_policies.update().where(sla_policies.c.id == policy_id)
                     .values(**values, updated_at=now))
        if conn.execute(sa.select(sla_clocks.c.id).where(
                sla_clocks.c.policy_id == policy_id,
                sla_clocks.c.stopped_at.is_(None)).limit(1)).first() is not None:
            retarget.mark(conn, policy_id)
    return get_policy(conn, policy_id)


def delete_policy(conn: Connection, policy_id: int) -> None:
    """Delete a policy; clocks started by it keep their snapshot (policy_id becomes NULL)."""
    policy_row(conn, policy_id)
    conn.execute(sla_policies.delete().where(sla_policies.c.id == policy_id))
