"""Chunked re-targeting after a policy edit, on a real migrated SQLite file."""

from __future__ import annotations

import pytest

from server.sla import retarget, store
from server.sla.schemas import Targets
from tests.server.sla.helpers import T0, Desk, desk_at, minutes

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


def _pending(desk: Desk) -> dict[int, int]:
    return desk.db.read_sync(retarget.pending)


def test_the_edit_records_a_marker_and_changes_no_clock(desk: Desk) -> None:
    """The edit's transaction only marks the policy; clocks change when chunks run."""
    pid = desk.policy("Default", resolution=60, fallback=True)
    tid = desk.ticket(T0)
    out = desk.edit_policy(pid, T0 + minutes(10), targets=Targets(resolution=120))
    assert out.retarget_pending is True
    assert _pending(desk) == {pid: 0}
    assert desk.clocks(tid)["resolution"].target_minutes == 60
    listed = desk.db.read_sync(store.list_policies)
    assert [p.retarget_pending for p in listed] == [True]
    assert retarget.run_all(desk.db, T0 + minutes(10)) == 1
    assert desk.clocks(tid)["resolution"].target_minutes == 120
    assert _pending(desk) == {}
    assert desk.db.read_sync(lambda c: store.get_policy(c, pid)).retarget_pending is False


def test_an_edit_without_open_clocks_leaves_nothing_pending(desk: Desk) -> None:
    """No open clock of the policy: no marker, nothing for the background to do."""
    pid = desk.policy("Default", resolution=60, fallback=True)
    out = desk.edit_policy(pid, T0, targets=Targets(resolution=90))
    assert out.retarget_pending is False
    assert _pending(desk) == {}


def test_interrupted_after_one_chunk_resumes_and_retargets_each_clock_once(
        desk_url: str) -> None:
    """Crash after the first chunk; on reopening, the rest follows and no clock twice."""
    gen = desk_at(desk_url)
    desk = next(gen)
    pid = desk.policy("Default", first_response=30, resolution=60, fallback=True)
    open_ids = [desk.ticket(T0 + minutes(i)) for i in range(6)]  # 12 open clocks
    closed = desk.ticket(T0)
    desk.resolve(closed, T0 + minutes(20))
    desk.update(closed, T0 + minutes(21), status="closed")
    desk.edit_policy(pid, T0 + minutes(25), targets=Targets(first_response=45,
                                                            resolution=240))
    first = desk.db.write_sync(lambda c: retarget.run_chunk(c, T0 + minutes(25), limit=5))
    assert first is not None and (first.retargeted, first.done) == (5, False)
    assert _pending(desk)[pid] > 0  # the marker remembers the last clock done
    gen.close()  # the process stops here; the database file stays

    gen = desk_at(desk_url)
    desk = next(gen)
    assert retarget.run_all(desk.db, T0 + minutes(26), limit=5) == 7
    assert _pending(desk) == {}
    for tid in open_ids:
        clocks = desk.clocks(tid)
        assert (clocks["first_response"].target_minutes,
                clocks["resolution"].target_minutes) == (45, 240)
        assert clocks["resolution"].due_at == clocks["resolution"].started_at + minutes(240)
        events = desk.events(tid, "sla_retargeted")
        # One event per ticket, both clocks in it: a chunk boundary between a ticket's
        # two clocks would give two events, each naming one clock, never one twice.
        kinds = [k for e in events for k in e.changes]
        assert sorted(kinds) == ["first_response", "resolution"]
        merged = {k: v for e in events for k, v in e.changes.items()}
        assert merged["resolution"] == {
            "before": {"policy": "Default", "target_minutes": 60},
            "after": {"policy": "Default", "target_minutes": 240}}
    kept = desk.clocks(closed)
    assert [(c.target_minutes, c.state) for c in kept.values()] == [(30, "met"), (60, "met")]
    assert desk.events(closed, "sla_retargeted") == []
    assert desk.row(open_ids[0]).sla_due_at == T0 + minutes(45)
    gen.close()


def test_a_second_edit_while_pending_starts_again_from_the_first_clock(desk: Desk) -> None:
    """Clocks done under the first edit get the second edit's targets too."""
    pid = desk.policy("Default", resolution=60, fallback=True)
    ids = [desk.ticket(T0) for _ in range(4)]
    desk.edit_policy(pid, T0 + minutes(5), targets=Targets(resolution=120))
    desk.db.write_sync(lambda c: retarget.run_chunk(c, T0 + minutes(5), limit=2))
    assert [desk.clocks(t)["resolution"].target_minutes for t in ids] == [120, 120, 60, 60]
    desk.edit_policy(pid, T0 + minutes(6), targets=Targets(resolution=180))
    assert _pending(desk) == {pid: 0}
    assert retarget.run_all(desk.db, T0 + minutes(6), limit=2) == 4
    assert [desk.clocks(t)["resolution"].target_minutes for t in ids] == [180] * 4


def test_clocks_already_on_the_new_targets_are_left_alone(desk: Desk) -> None:
    """A ticket filed after the edit already has the new targets: no rewrite, no event."""
    pid = desk.policy("Default", resolution=60, fallback=True)
    old = desk.ticket(T0)
    desk.edit_policy(pid, T0 + minutes(5), targets=Targets(resolution=120))
    new = desk.ticket(T0 + minutes(6))
    assert retarget.run_all(desk.db, T0 + minutes(7)) == 1
    assert len(desk.events(old, "sla_retargeted")) == 1
    assert desk.events(new, "sla_retargeted") == []


def test_a_policy_deleted_while_pending_drops_its_marker(desk: Desk) -> None:
    """Its clocks keep their snapshot, as after any delete."""
    pid = desk.policy("Default", resolution=60, fallback=True)
    tid = desk.ticket(T0)
    desk.edit_policy(pid, T0 + minutes(5), targets=Targets(resolution=120))
    desk.db.write_sync(lambda c: store.delete_policy(c, pid))
    assert retarget.run_all(desk.db, T0 + minutes(6)) == 0
    assert _pending(desk) == {}
    clock = desk.clocks(tid)["resolution"]
    assert (clock.policy_id, clock.target_minutes) == (None, 60)
