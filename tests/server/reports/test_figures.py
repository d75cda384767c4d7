"""Every dashboard figure equals a plain-SQL computation over a generated history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db import migrate
from server.db.database import Database, create_engine
from server.mail import outbox as mail_outbox
from server.reports import histogram, queries, rollup, weekly
from server.reports.tables import report_daily, report_facts, report_open
from tests.server.reports.history import (
    TZ,
    History,
    close_enough,
    day,
    generate,
    reference,
    seconds,
)
from tests.server.sla.helpers import Desk

PERIOD = ("2026-07-10", "2026-11-05")
# The module's history is written step by step, over a thousand transactions: on a busy
# two-core machine that alone can take a minute.
pytestmark = pytest.mark.timeout(240)  # the whole history, in the desk's days


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """One generated desk for the module (about 50 tickets over four months)."""
    path: Path = tmp_path_factory.mktemp("reports") / "desk.db"
    # synchronous=OFF: a test database need not survive a power cut, and the history
    # writes over a thousand transactions.
    db = Database(create_engine(f"sqlite:///{path}", synchronous="OFF"))
    db.write_sync(migrate.upgrade)
    try:
        yield generate(Desk(db))
    finally:
        db.close()


def _scope(group_id: int | None = None, category_id: int | None = None,
           period: tuple[str, str] = PERIOD) -> queries.Scope:
    return queries.Scope(start=dt.date.fromisoformat(period[0]),
                         end=dt.date.fromisoformat(period[1]), group_id=group_id,
                         category_id=category_id)


def _read(h: History, fn: Any) -> Any:
    return h.desk.db.read_sync(fn)


FILTERS = [{}, {"group": 0}, {"group": 1, "category": 2}, {"category": 0}]


def _filters(h: History, f: dict[str, int]) -> dict[str, int | None]:
    return {"group_id": h.groups[f["group"]] if "group" in f else None,
            "category_id": h.categories[f["category"]] if "category" in f else None}


@pytest.mark.parametrize("f", FILTERS)
def test_created_resolved_and_backlog_match_the_events(history: History,
                                                       f: dict[str, int]) -> None:
    """Created and resolved per desk day and the backlog at each day's end match a replay."""
    kw = _filters(history, f)
    ref = _read(history, lambda c: reference(c, *PERIOD, **kw))
    table = _read(history, lambda c: queries.volume(c, _scope(**kw)))
    assert sum(r[1] for r in table.rows) > 0
    for d, created, resolved, backlog in table.rows:
        assert (created, resolved, backlog) == (
            ref["created"].get(d, 0), ref["resolved"].get(d, 0), ref["backlog"].get(d, 0)), d


def test_history_has_the_edge_cases(history: History) -> None:
    """The generated history holds reopened, merged, cancelled and paused tickets."""
    counts = _read(history, lambda c: c.execute(sa.text(
        "SELECT (SELECT count(*) FROM tickets WHERE merged_into_id IS NOT NULL),"
        " (SELECT count(*) FROM tickets WHERE status = 'cancelled'),"
        " (SELECT count(*) FROM ticket_events WHERE json_extract(changes, '$.status.before')"
        "   = 'resolved' AND json_extract(changes, '$.status.after') = 'in_progress'),"
        " (SELECT count(*) FROM ticket_events WHERE json_extract(changes, '$.status.after')"
        "   = 'pending'),"
        " (SELECT count(*) FROM sla_clocks WHERE state = 'breached'),"
        " (SELECT count(*) FROM sla_clocks WHERE state = 'paused')")).one())
    assert all(n > 0 for n in counts[:5]), counts


@pytest.mark.parametrize("by", queries.BY)
def test_times_by_dimension_match_exact_percentiles(history: History, by: str) -> None:
    """Median and p90 of first-response and resolution times per dimension are within the
    histograms' stated error of the exact nearest-rank values."""
    ref = _read(history, lambda c: reference(c, *PERIOD))
    column = {"group": "group_id", "category": "category_id", "technician": "assignee_id",
              "priority": "priority", "channel": "source"}[by]

    def key(r: Any) -> str:
        v = getattr(r, column)
        return str(v if v is not None else 0)

    exact_fr: dict[str, list[float]] = {}
    for r in ref["fr"]:
        exact_fr.setdefault(key(r), []).append(seconds(r.created_at, r.first_at))
    exact_res: dict[str, list[float]] = {}
    for r in ref["done"]:
        exact_res.setdefault(key(r), []).append(seconds(r.created_at, r.last_at))
    table = _read(history, lambda c: queries.times(c, _scope(), by))
    assert {str(r[0]) for r in table.rows} == set(exact_fr) | set(exact_res)
    for k, _label, n_fr, fr50, fr90, n_res, res50, res90 in table.rows:
        fr, res = exact_fr.get(str(k), []), exact_res.get(str(k), [])
        assert (n_fr, n_res) == (len(fr), len(res)), k
        assert close_enough(fr50, histogram.nearest_rank(fr, 50)), (k, fr50, sorted(fr))
        assert close_enough(fr90, histogram.nearest_rank(fr, 90)), (k, fr90)
        assert close_enough(res50, histogram.nearest_rank(res, 50)), (k, res50)
        assert close_enough(res90, histogram.nearest_rank(res, 90)), (k, res90)


@pytest.mark.parametrize("f", FILTERS[:2])
def test_sla_compliance_per_day_matches_the_clocks(history: History, f: dict[str, int]) -> None:
    """Clocks met and breached per day match the clocks table (paused ones not counted)."""
    kw = _filters(history, f)
    ref = _read(history, lambda c: reference(c, *PERIOD, **kw))
    table = _read(history, lambda c: queries.sla(c, _scope(**kw)))
    assert sum(r[1] + r[2] + r[4] + r[5] for r in table.rows) > 0
    for d, fr_met, fr_b, fr_pct, res_met, res_b, _res_pct in table.rows:
        s = ref["sla"].get(d, {})
        assert (fr_met, fr_b, res_met, res_b) == (
            s.get("fr_met", 0), s.get("fr_breached", 0), s.get("res_met", 0),
            s.get("res_breached", 0)), d
        assert fr_pct == (round(100 * fr_met / (fr_met + fr_b), 1) if fr_met + fr_b else None)


def test_reopen_and_first_contact_rates_match(history: History) -> None:
    """Reopened and first-contact-resolved tickets per day match the timeline."""
    ref = _read(history, lambda c: reference(c, *PERIOD))
    by_day: dict[str, list[int]] = {}
    for r in ref["done"]:
        d = by_day.setdefault(day(r.last_at), [0, 0, 0])
        d[0] += 1
        d[1] += r.reopens > 0
        d[2] += r.reopens == 0 and r.replies <= 1
    table = _read(history, lambda c: queries.quality(c, _scope()))
    assert sum(r[2] for r in table.rows) > 0
    for d, done, reopened, _rp, fcr, _fp in table.rows:
        assert [done, reopened, fcr] == by_day.get(d, [0, 0, 0]), d


def test_remote_share_and_times_match(history: History) -> None:
    """The share of resolved tickets with a remote session and their times match."""
    ref = _read(history, lambda c: reference(c, *PERIOD))
    with_r = [seconds(r.created_at, r.last_at) for r in ref["done"] if r.remote]
    without = [seconds(r.created_at, r.last_at) for r in ref["done"] if not r.remote]
    table = _read(history, lambda c: queries.remote(c, _scope()))
    assert with_r and without
    for (label, n, share, p50, p90), values in zip(table.rows, (with_r, without), strict=True):
        assert n == len(values), label
        assert share == round(100 * n / (len(with_r) + len(without)), 1)
        assert close_enough(p50, histogram.nearest_rank(values, 50))
        assert close_enough(p90, histogram.nearest_rank(values, 90))


def test_satisfaction_matches_the_latest_ratings(history: History) -> None:
    """Ratings per day and their average count each ticket's latest rating once."""
    ref = _read(history, lambda c: reference(c, *PERIOD))
    table = _read(history, lambda c: queries.satisfaction(c, _scope()))
    assert sum(r[1] for r in table.rows) > 0
    for d, n, avg in table.rows:
        scores = ref["ratings"].get(d, [])
        assert n == len(scores)
        assert avg == (round(sum(scores) / len(scores), 2) if scores else None)


def test_a_rebuild_equals_the_incremental_roll_ups(history: History) -> None:
    """Rebuilding from scratch gives the very rows the event-by-event updates left."""
    def dump(c: Any) -> tuple[Any, ...]:
        return tuple(sorted((tuple(r[:-1]), sorted((k, sorted(v.items()))
                                                   for k, v in r[-1].items()))
                            for r in c.execute(sa.select(report_daily)) if any(r[5:-1]) or
                            any(r[-1].values())) for _ in [0]) + tuple(
            sorted(tuple(r) for r in c.execute(sa.select(report_open)) if r.n))

    before = _read(history, dump)
    facts_before = _read(history, lambda c: sorted(
        (r.ticket_id, r.items) for r in c.execute(sa.select(report_facts))))
    history.desk.db.write_sync(lambda c: rollup.rebuild(c, tz=TZ, now=dt.datetime.now(dt.UTC)))
    assert _read(history, dump) == before
    assert _read(history, lambda c: sorted(
        (r.ticket_id, r.items) for r in c.execute(sa.select(report_facts)))) == facts_before


def test_days_are_the_desk_time_zone_days(history: History) -> None:
    """A ticket filed at 00:30 desk time (17:30 UTC the day before) counts on the desk day."""
    late = _read(history, lambda c: c.execute(sa.text(
        "SELECT created_at FROM tickets WHERE strftime('%H', created_at) = '17' "
        "ORDER BY id LIMIT 1")).scalar())
    assert late is not None
    utc = dt.datetime.fromisoformat(str(late)).replace(tzinfo=dt.UTC)
    d = day(late)
    assert d == (utc.date() + dt.timedelta(days=1)).isoformat()
    desk_day = queries.volume  # the roll-up counts it on the desk day, not the UTC day
    table = _read(history, lambda c: desk_day(c, _scope(period=(d, d))))
    ref = _read(history, lambda c: reference(c, d, d))
    assert table.rows[0][1] == ref["created"][d] >= 1
    before = utc.date().isoformat()
    assert _read(history, lambda c: desk_day(c, _scope(period=(before, before)))).rows[0][1] == \
        ref_count(history, before)


def ref_count(history: History, d: str) -> int:
    """Tickets created on desk day ``d`` by the reference."""
    return int(_read(history, lambda c: reference(c, d, d))["created"].get(d, 0))


def test_weekly_summary_goes_to_managers_in_their_language(history: History) -> None:
    """Each group manager gets one mail with their group's last week, in their language;
    a second pass in the same week sends nothing."""
    db = history.desk.db
    tom = history.techs[1]
    db.write_sync(lambda c: c.execute(sa.text(
        "UPDATE users SET email = 'tom@example.org', language = 'id' WHERE id = :u"),
        {"u": tom}))
    db.write_sync(lambda c: c.execute(sa.text(
        "UPDATE groups SET manager_id = :u WHERE id = :g"), {"u": tom, "g": history.groups[0]}))
    mail_outbox.enable(db.engine, mail_outbox.MailConfig(base_url="https://desk.example.org",
                                                         domain="desk.example.org"))
    try:
        now = dt.datetime(2026, 10, 21, 3, 0, tzinfo=dt.UTC)  # a Wednesday
        assert db.write_sync(lambda c: weekly.queue_due(c, tz=TZ, now=now)) == 1
        assert db.write_sync(lambda c: weekly.queue_due(c, tz=TZ, now=now)) == 0
    finally:
        mail_outbox.disable(db.engine)
    mail = _read(history, lambda c: c.execute(sa.text(
        "SELECT to_addr, reason, subject, body FROM mail_outbox")).one())
    week = dt.date(2026, 10, 12)
    summary = _read(history, lambda c: weekly.summarise(c, history.groups[0], "Service desk",
                                                        week))
    assert (mail.to_addr, mail.reason) == ("tom@example.org", "report")
    assert mail.subject == "Ringkasan mingguan Service desk: 2026-10-12 sampai 2026-10-18"
    assert f"Tiket dibuat: {summary.created}" in mail.body
    assert f"Tiket diselesaikan: {summary.resolved}" in mail.body
    ref = _read(history, lambda c: reference(c, "2026-10-12", "2026-10-18",
                                             group_id=history.groups[0]))
    assert summary.created == sum(ref["created"].values())
    assert summary.backlog == ref["backlog"]["2026-10-18"]
