"""The outbox's states on a real migrated SQLite file: retries, failure, pruning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.db.database import Database
from server.mail import outbox
from server.mail.tables import mail_outbox
from tests.server.sla.helpers import T0, open_db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "mail.db")
    try:
        yield database
    finally:
        database.close()


def _queue(db: Database, n: int, at: dt.datetime = T0) -> list[int]:
    def run(conn: object) -> list[int]:
        ids = []
        for i in range(n):
            ids.append(int(conn.execute(mail_outbox.insert().values(  # type: ignore[attr-defined]
                created_at=at, ticket_id=None, recipient_id=None, reason="reply",
                to_addr="r@example.org", subject="s", body="b", message_id=f"<{at}.{i}@x>",
                thread_id=None, status="queued", attempts=0, next_attempt_at=at,
            )).inserted_primary_key[0]))
        return ids
    return db.write_sync(run)


def _row(db: Database, mail_id: int) -> object:
    return db.read_sync(lambda c: c.execute(
        mail_outbox.select().where(mail_outbox.c.id == mail_id)).one())


def test_temporary_failures_back_off_then_fail_after_max_attempts(db: Database) -> None:
    """Each temporary failure pushes the next try out; the last allowed one fails the mail."""
    [mail_id] = _queue(db, 1)
    now = T0
    for attempt in (1, 2):
        db.write_sync(lambda c, now=now: outbox.record(
            c, [outbox.Outcome(mail_id, "421 busy")], now, max_attempts=3))
        row = _row(db, mail_id)
        assert (row.status, row.attempts) == ("queued", attempt)  # type: ignore[attr-defined]
        assert row.next_attempt_at == now + outbox.backoff(attempt)  # type: ignore[attr-defined]
        assert db.read_sync(lambda c, now=now: outbox.due(c, now, limit=10)) == []
        now = row.next_attempt_at  # type: ignore[attr-defined]
    counts = db.write_sync(lambda c: outbox.record(
        c, [outbox.Outcome(mail_id, "421 busy")], now, max_attempts=3))
    assert counts == {"sent": 0, "retry": 0, "failed": 1}
    row = _row(db, mail_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "421 busy")  # type: ignore[attr-defined]
    assert db.read_sync(outbox.next_attempt) is None


def test_prune_removes_only_old_sent_and_failed_mail(db: Database) -> None:
    """Old sent and failed rows go; queued rows stay however old; recent rows stay."""
    old_sent, old_failed, old_queued = _queue(db, 3, T0)
    [new_sent] = _queue(db, 1, T0 + dt.timedelta(days=20))
    db.write_sync(lambda c: outbox.record(c, [
        outbox.Outcome(old_sent), outbox.Outcome(old_failed, "550 no", permanent=True),
        outbox.Outcome(new_sent)], T0, max_attempts=8))
    removed = db.write_sync(lambda c: outbox.prune(c, T0 + dt.timedelta(days=14)))
    assert removed == 2
    left = db.read_sync(lambda c: [(r.id, r.status) for r in c.execute(
        mail_outbox.select().order_by(mail_outbox.c.id))])
    assert left == [(old_queued, "queued"), (new_sent, "sent")]
