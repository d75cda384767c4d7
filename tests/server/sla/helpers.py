"""A real migrated database and helpers to drive tickets and SLA at chosen times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.db import migrate
from server.db.database import Database, create_engine
from server.db.schema import ticket_events
from server.sla import engine, retarget, store, tracking
from server.sla.schemas import Conditions, EscalationRule, Targets, WeeklyHours
from server.sla.tables import sla_clocks
from server.tickets import creation, reading, timeline, updating
from server.tickets.priority import ITIL_MATRIX, priority_for
from server.users import store as users
from tests.support.migrated import copy_migrated

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
ALWAYS_ID = 1  # the 24x7 calendar the migration creates


def open_db(url: str) -> Database:
    """Open (and migrate) a database: a SQLite file or a PostgreSQL database."""
    if url.startswith("sqlite:///"):  # a new file starts as a migrated copy (fast)
        copy_migrated(Path(url.removeprefix("sqlite:///")))
    db = Database(create_engine(url))
    db.write_sync(migrate.upgrade)
    return db


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


class Desk:
    """Drive one database synchronously: users, policies, tickets, engine passes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tech = self.user("tina", "technician")
        self.requester = self.user("rick", "requester")

    def user(self, name: str, role: str) -> int:
        existing = self.db.read_sync(lambda c: c.execute(sa.text(
            "SELECT id FROM users WHERE username = :u"), {"u": name}).scalar())
        if existing is not None:
            return int(existing)
        return self.db.write_sync(lambda c: users.create_user(
            c, username=name, display_name=name.title(), role=role, email=None,
            password_hash=None, now=T0))

    def calendar(self, name: str, tz: str, hours: dict[str, list[str]],
                 holidays: list[str] | None = None, recurring: list[str] | None = None) -> int:
        return self.db.write_sync(lambda c: store.save_calendar(c, None, {
            "name": name, "tz": tz, "hours": WeeklyHours(**hours),
            "holidays": holidays or [], "recurring_holidays": recurring or []}, T0).id)

    def policy(self, name: str, *, resolution: int | None = None,
               first_response: int | None = None, next_update: int | None = None,
               calendar_id: int = ALWAYS_ID, position: int | None = None,
               fallback: bool = False, warn: list[int] | None = None,
               pause: list[str] | None = None, rules: list[dict[str, Any]] | None = None,
               **conditions: Any) -> int:
        changes = {
            "name": name, "calendar_id": calendar_id, "position": position,
            "fallback": fallback, "active": True, "conditions": Conditions(**conditions),
            "targets": Targets(first_response=first_response, resolution=resolution,
                               next_update=next_update),
            "warn_percents": warn if warn is not None else [],
            "pause_statuses": pause if pause is not None else ["pending"],
            "escalations": [EscalationRule(**r) for r in rules or []]}
        return self.db.write_sync(lambda c: store.save_policy(c, None, changes, T0).id)

    def edit_policy(self, policy_id: int, at: dt.datetime, **changes: Any) -> Any:
        """Save a policy edit only (the re-target stays pending)."""
        return self.db.write_sync(lambda c: store.save_policy(c, policy_id, changes, at))

    def update_policy(self, policy_id: int, at: dt.datetime, **changes: Any) -> int:
        """Save a policy edit, then run its re-target in chunks; return clocks changed."""
        self.edit_policy(policy_id, at, **changes)
        return retarget.run_all(self.db, at)

    def ticket(self, at: dt.datetime, *, impact: int = 3, urgency: int = 3,
               kind: str = "incident", category_id: int | None = None,
               group_id: int | None = None, requester: int | None = None) -> int:
        new = creation.NewTicket(
            kind=kind, title="Printer on fire", description="", impact=impact,  # type: ignore[arg-type]
            urgency=urgency, priority=priority_for(impact, urgency), category_id=category_id,
            requester_id=requester or self.requester, assignee_id=None, group_id=group_id,
            device_ids=[], tags=[], source="api")
        return self.db.write_sync(lambda c: creation.create_ticket(
            c, new, actor_id=self.requester, now=at))

    def update(self, ticket_id: int, at: dt.datetime, **changes: Any) -> dict[str, Any]:
        return self.db.write_sync(lambda c: updating.update_ticket(
            c, ticket_id, changes, actor_id=self.tech, now=at, matrix=ITIL_MATRIX))

    def resolve(self, ticket_id: int, at: dt.datetime) -> None:
        self.update(ticket_id, at, status="resolved", resolution_code="fixed",
                    resolution_note="Put it out.")

    def reply(self, ticket_id: int, at: dt.datetime, *, by: int | None = None,
              public: bool = True) -> None:
        self.db.write_sync(lambda c: timeline.add_comment(
            c, ticket_id, actor_id=by or self.tech, body="On it.", public=public, now=at))

    def run(self, at: dt.datetime, limit: int = 500) -> list[engine.Fired]:
        return self.db.write_sync(lambda c: engine.run_pass(c, at, limit=limit,
                                                            matrix=ITIL_MATRIX))

    def clocks(self, ticket_id: int) -> dict[str, Any]:
        rows = self.db.read_sync(lambda c: c.execute(
            sa.select(sla_clocks).where(sla_clocks.c.ticket_id == ticket_id)
            .order_by(sla_clocks.c.id)).all())
        return {r.kind: r for r in rows}

    def sla(self, ticket_id: int, at: dt.datetime) -> Any:
        return self.db.read_sync(lambda c: tracking.ticket_sla(c, [ticket_id], at)[ticket_id])

    def events(self, ticket_id: int, type_: str) -> list[Any]:
        return self.db.read_sync(lambda c: c.execute(
            sa.select(ticket_events).where(ticket_events.c.ticket_id == ticket_id,
                                           ticket_events.c.type == type_)
            .order_by(ticket_events.c.id)).all())

    def row(self, ticket_id: int) -> Any:
        return self.db.read_sync(lambda c: reading.get_row(c, ticket_id))


def desk_at(url: str) -> Iterator[Desk]:
    db = open_db(url)
    try:
        yield Desk(db)
    finally:
        db.close()
