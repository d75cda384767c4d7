"""SLA clocks driven through real ticket changes at injected times (no sleeping)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db.schema import groups
from server.tickets import categories
from tests.server.sla.helpers import T0, Desk, desk_at, minutes

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

UTC = dt.UTC


def test_clocks_start_at_creation_with_the_policy_targets(desk: Desk) -> None:
    """A new ticket gets first-response and resolution clocks due by the policy targets."""
    desk.policy("Default", first_response=30, resolution=240, fallback=True)
    tid = desk.ticket(T0)
    clocks = desk.clocks(tid)
    assert set(clocks) == {"first_response", "resolution"}
    assert clocks["first_response"].due_at == T0 + minutes(30)
    assert clocks["resolution"].due_at == T0 + minutes(240)
    assert desk.row(tid).sla_due_at == T0 + minutes(30)
    sla = desk.sla(tid, T0 + minutes(10))
    resolution = next(c for c in sla.clocks if c.kind == "resolution")
    assert (resolution.elapsed_minutes, resolution.remaining_minutes) == (10.0, 230.0)
    assert resolution.state == "running"


def test_no_policy_means_no_clocks(desk: Desk) -> None:
    """Without a matching policy or a fallback a ticket has no SLA."""
    desk.policy("P1 only", resolution=60, priorities=[1])
    tid = desk.ticket(T0)  # P5
    assert desk.clocks(tid) == {}
    assert desk.row(tid).sla_due_at is None


def test_pause_and_resume_move_the_due_time_by_the_paused_time(desk: Desk) -> None:
    """Pending pauses the clock; resuming moves the due time by the business time paused."""
    desk.policy("Default", resolution=60, fallback=True, pause=["pending"])
    tid = desk.ticket(T0)
    desk.update(tid, T0 + minutes(20), status="pending")
    paused = desk.clocks(tid)["resolution"]
    assert (paused.state, paused.due_at, paused.next_event_at) == ("paused", None, None)
    assert paused.elapsed_seconds == 20 * 60
    assert desk.run(T0 + minutes(300)) == []  # nothing fires while paused
    desk.update(tid, T0 + minutes(50), status="in_progress")
    resumed = desk.clocks(tid)["resolution"]
    assert resumed.state == "running"
    assert resumed.due_at == T0 + minutes(90)  # 60 + 30 minutes paused
    assert desk.run(T0 + minutes(89)) == []
    fired = desk.run(T0 + minutes(90))
    assert [(f.clock, f.event) for f in fired] == [("resolution", "breach")]


def test_holidays_and_weekends_are_skipped(desk: Desk) -> None:
    """Business hours skip the weekend and a holiday Monday."""
    cal = desk.calendar("Paris office", "Europe/Paris",
                        {d: ["09:00-12:00", "13:00-17:00"]
                         for d in ("mon", "tue", "wed", "thu", "fri")},
                        holidays=["2026-11-09"], recurring=["12-25"])
    desk.policy("Office", resolution=120, calendar_id=cal, fallback=True)
    friday_4pm = dt.datetime(2026, 11, 6, 15, 0, tzinfo=UTC)  # 16:00 in Paris (CET)
    tid = desk.ticket(friday_4pm)
    # One hour on Friday, Monday the 9th is a holiday, one more hour on Tuesday from 09:00.
    assert desk.clocks(tid)["resolution"].due_at == dt.datetime(2026, 11, 10, 9, 0,
                                                                tzinfo=UTC)
    christmas_eve = dt.datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # Thursday 16:00 Paris
    tid2 = desk.ticket(christmas_eve)
    # Friday the 25th is a recurring holiday: the second hour is on Monday the 28th.
    assert desk.clocks(tid2)["resolution"].due_at == dt.datetime(2026, 12, 28, 9, 0,
                                                                 tzinfo=UTC)


def test_a_dst_change_over_the_weekend_keeps_local_office_hours(desk: Desk) -> None:
    """New York clocks go forward on Sunday 8 March 2026: Monday 10:00 is 14:00 UTC, not 15:00."""
    cal = desk.calendar("New York", "America/New_York",
                        {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    desk.policy("NY", resolution=120, calendar_id=cal, fallback=True, warn=[50])
    friday_4pm = dt.datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # 16:00 EST
    tid = desk.ticket(friday_4pm)
    clock = desk.clocks(tid)["resolution"]
    assert clock.due_at == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert clock.next_event_at == dt.datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # 50%: 17:00 EST
    fired = desk.run(dt.datetime(2026, 3, 9, 13, 59, tzinfo=UTC))
    assert [(f.event, f.percent) for f in fired] == [("warning", 50)]
    assert desk.run(dt.datetime(2026, 3, 9, 13, 59, tzinfo=UTC)) == []
    assert [f.event for f in desk.run(dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC))] == ["breach"]


def test_a_priority_change_retargets_by_policy(desk: Desk) -> None:
    """Raising a ticket to P1 moves it to the P1 policy; elapsed business time is kept."""
    desk.policy("P1", resolution=60, priorities=[1])
    desk.policy("Default", resolution=480, fallback=True)
    tid = desk.ticket(T0)
    assert desk.clocks(tid)["resolution"].target_minutes == 480
    desk.update(tid, T0 + minutes(30), impact=1, urgency=1)
    clock = desk.clocks(tid)["resolution"]
    assert (clock.policy_name, clock.target_minutes) == ("P1", 60)
    assert clock.due_at == T0 + minutes(60)
    [event] = desk.events(tid, "sla_retargeted")
    assert event.changes["resolution"]["before"] == {"policy": "Default", "target_minutes": 480}
    assert event.changes["resolution"]["after"] == {"policy": "P1", "target_minutes": 60}


def test_retarget_below_elapsed_breaches_on_the_next_pass(desk: Desk) -> None:
    """A new target already exceeded makes the clock due at once; the engine breaches it."""
    desk.policy("P1", resolution=15, priorities=[1])
    desk.policy("Default", resolution=480, fallback=True)
    tid = desk.ticket(T0)
    desk.update(tid, T0 + minutes(30), impact=1, urgency=1)
    assert desk.clocks(tid)["resolution"].due_at == T0 + minutes(30)
    [fired] = desk.run(T0 + minutes(30))
    assert fired.event == "breach"


def test_policies_match_in_order_with_a_fallback(desk: Desk) -> None:
    """The first matching policy by position wins; the fallback only when none matches."""
    vip = desk.db.write_sync(lambda c: int(c.execute(groups.insert().values(
        name="VIP", description="", created_at=T0)).inserted_primary_key[0]))
    boss = desk.user("boss", "requester")
    desk.db.write_sync(lambda c: c.execute(sa.text(
        "INSERT INTO group_members (group_id, user_id) VALUES (:g, :u)"), {"g": vip, "u": boss}))
    category = desk.db.write_sync(lambda c: categories.create_category(c, "Network", None))
    desk.policy("Fallback", resolution=1000, fallback=True, position=0)
    desk.policy("Requests", resolution=900, kinds=["service_request"], position=30)
    desk.policy("VIP", resolution=100, requester_group_ids=[vip], position=10)
    desk.policy("Network", resolution=200, category_ids=[category], position=20)
    chosen = {
        "plain": desk.ticket(T0),
        "vip": desk.ticket(T0, requester=boss),
        "vip network": desk.ticket(T0, requester=boss, category_id=category),
        "network": desk.ticket(T0, category_id=category),
        "request": desk.ticket(T0, kind="service_request"),
        "network request": desk.ticket(T0, kind="service_request", category_id=category),
    }
    names = {k: desk.clocks(t)["resolution"].policy_name for k, t in chosen.items()}
    assert names == {"plain": "Fallback", "vip": "VIP", "vip network": "VIP",
                     "network": "Network", "request": "Requests",
                     "network request": "Network"}


def test_first_public_staff_reply_meets_first_response(desk: Desk) -> None:
    """Internal notes and the requester's replies do not count; a technician's reply does."""
    desk.policy("Default", first_response=30, resolution=240, next_update=120,
                fallback=True)
    tid = desk.ticket(T0)
    desk.reply(tid, T0 + minutes(5), public=False)
    desk.reply(tid, T0 + minutes(6), by=desk.requester)
    assert desk.clocks(tid)["first_response"].state == "running"
    desk.reply(tid, T0 + minutes(10))
    clocks = desk.clocks(tid)
    assert (clocks["first_response"].state, clocks["first_response"].stopped_at) == (
        "met", T0 + minutes(10))
    assert clocks["next_update"].due_at == T0 + minutes(130)
    assert desk.row(tid).sla_due_at == T0 + minutes(130)


def test_resolve_meets_resolution_and_reopen_resumes_it(desk: Desk) -> None:
    """Resolving meets the clock; reopening counts on from the elapsed time."""
    desk.policy("Default", resolution=60, fallback=True)
    tid = desk.ticket(T0)
    desk.resolve(tid, T0 + minutes(40))
    clock = desk.clocks(tid)["resolution"]
    assert (clock.state, clock.elapsed_seconds, clock.next_event_at) == ("met", 2400, None)
    assert desk.row(tid).sla_due_at is None
    desk.update(tid, T0 + minutes(100), status="in_progress")
    clock = desk.clocks(tid)["resolution"]
    assert (clock.state, clock.due_at) == ("running", T0 + minutes(120))


def test_cancelling_cancels_the_clocks(desk: Desk) -> None:
    """A cancelled ticket's clocks stop as cancelled, neither met nor breached."""
    desk.policy("Default", first_response=30, resolution=60, fallback=True)
    tid = desk.ticket(T0)
    desk.update(tid, T0 + minutes(5), status="cancelled")
    assert {c.state for c in desk.clocks(tid).values()} == {"cancelled"}
    assert desk.run(T0 + minutes(1000)) == []


def test_warnings_fire_once_each_then_the_breach(desk: Desk) -> None:
    """Thresholds at 50% and 75% fire once; the breach fires once; timeline keeps them."""
    desk.policy("Default", resolution=100, fallback=True, warn=[50, 75])
    tid = desk.ticket(T0)
    assert desk.run(T0 + minutes(49)) == []
    assert [(f.event, f.percent) for f in desk.run(T0 + minutes(50))] == [("warning", 50)]
    assert desk.run(T0 + minutes(60)) == []
    assert [(f.event, f.percent) for f in desk.run(T0 + minutes(80))] == [("warning", 75)]
    assert [f.event for f in desk.run(T0 + minutes(100))] == ["breach"]
    assert desk.run(T0 + minutes(500)) == []
    assert [e.changes["percent"] for e in desk.events(tid, "sla_warning")] == [50, 75]
    [breach] = desk.events(tid, "sla_breached")
    assert breach.public is False
    clock = desk.clocks(tid)["resolution"]
    assert (clock.state, clock.breached_at) == ("breached", T0 + minutes(100))


def test_a_restart_while_a_breach_falls_due_fires_it_once(desk_url: str) -> None:
    """Events that fell due while the server was down fire on the first pass, once."""
    first = desk_at(desk_url)
    desk = next(first)
    desk.policy("Default", resolution=60, fallback=True, warn=[50, 75])
    tid = desk.ticket(T0)
    assert desk.run(T0 + minutes(10)) == []
    first.close()  # the server stops; the breach falls due while it is down

    second = desk_at(desk_url)
    desk = next(second)
    later = T0 + minutes(600)
    fired = desk.run(later)
    assert [(f.ticket_id, f.event) for f in fired] == [(tid, "breach")]
    assert desk.run(later) == []
    assert desk.run(later + minutes(60)) == []
    assert len(desk.events(tid, "sla_breached")) == 1
    assert desk.events(tid, "sla_warning") == []  # overtaken by the breach
    second.close()


def test_escalations_reassign_raise_priority_and_note(desk: Desk) -> None:
    """Breach rules hand the ticket to a group, raise its priority and write a note."""
    desk.db.write_sync(lambda c: c.execute(groups.insert().values(
        name="Level 2", description="", created_at=T0)))
    level2 = desk.db.read_sync(lambda c: c.execute(sa.select(groups.c.id)).scalar())
    desk.policy("Default", resolution=60, fallback=True, warn=[75], rules=[
        {"on": "warning", "action": "notify"},
        {"on": "breach", "action": "reassign", "group_id": level2},
        {"on": "breach", "action": "raise_priority", "clock": "resolution"},
        {"on": "breach", "action": "timeline", "note": "Escalated to level 2."},
        {"on": "breach", "action": "notify", "clock": "first_response"},
    ])
    tid = desk.ticket(T0, impact=2, urgency=2)  # P3
    [warning] = desk.run(T0 + minutes(45))
    assert (warning.event, warning.notify) == ("warning", True)
    [breach] = desk.run(T0 + minutes(60))
    assert (breach.event, breach.notify) == ("breach", False)
    row = desk.row(tid)
    assert (row.group_id, row.priority) == (level2, 2)
    [note] = desk.events(tid, "sla_escalation")
    assert (note.body, note.public) == ("Escalated to level 2.", False)


def test_an_escalation_that_cannot_run_is_noted_and_the_pass_goes_on(desk: Desk) -> None:
    """A reassign rule naming a deleted group leaves a note; breaches still fire."""
    desk.db.write_sync(lambda c: c.execute(groups.insert().values(
        name="Level 2", description="", created_at=T0)))
    level2 = desk.db.read_sync(lambda c: c.execute(sa.select(groups.c.id)).scalar())
    desk.policy("Default", resolution=60, fallback=True, rules=[
        {"on": "breach", "action": "reassign", "group_id": level2},
        {"on": "breach", "action": "raise_priority", "clock": "resolution"}])
    first = desk.ticket(T0, impact=2, urgency=2)  # P3
    second = desk.ticket(T0 + minutes(1), impact=2, urgency=2)
    desk.db.write_sync(lambda c: c.execute(groups.delete().where(groups.c.id == level2)))
    fired = desk.run(T0 + minutes(61))
    assert sorted(f.ticket_id for f in fired) == [first, second]
    for tid in (first, second):
        assert len(desk.events(tid, "sla_breached")) == 1
        [note] = desk.events(tid, "sla_escalation")
        assert "could not run" in note.body and not note.public
        assert (desk.row(tid).group_id, desk.row(tid).priority) == (None, 2)  # next rule ran
    assert desk.run(T0 + minutes(62)) == []  # fired once, not retried every pass


def test_policy_edits_retarget_open_tickets_but_not_closed_ones(desk: Desk) -> None:
    """Changing targets re-targets open clocks; a closed ticket keeps its snapshot."""
    from server.sla.schemas import Targets

    pid = desk.policy("Default", resolution=60, fallback=True)
    closed = desk.ticket(T0)
    desk.resolve(closed, T0 + minutes(30))
    desk.update(closed, T0 + minutes(31), status="closed")
    open_ = desk.ticket(T0)
    count = desk.update_policy(pid, T0 + minutes(40), targets=Targets(resolution=120))
    assert count == 1
    assert desk.clocks(open_)["resolution"].target_minutes == 120
    assert desk.clocks(open_)["resolution"].due_at == T0 + minutes(120)
    kept = desk.clocks(closed)["resolution"]
    assert (kept.target_minutes, kept.state, kept.policy_name) == (60, "met", "Default")
