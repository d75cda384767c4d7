"""The server killed (SIGKILL) at random points while it reads mail from Dovecot: after a
restart every message is in exactly one ticket, and the mailbox is empty.

The issue asks for 1,000 messages; the suite runs DESKMATE_TEST_MAIL_CRASH_N (default 150)
to stay within its time budget. ``DESKMATE_TEST_MAIL_CRASH_N=1000`` runs the full size.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db import migrate
from server.db.database import Database, create_engine
from server.db.schema import tickets, users, utcnow
from server.mail.inbound.tables import mail_inbound, mailboxes
from tests.support.dovecot import Dovecot

N = int(os.environ.get("DESKMATE_TEST_MAIL_CRASH_N", "150"))
KILLS = 12
SENDERS = 10


def _message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"User {n % SENDERS} <user{n % SENDERS}@example.test>"
    msg["To"] = "help@deskmate.test"
    msg["Subject"] = f"Crash test message {n}"
    msg["Message-ID"] = f"<crash-{n}@example.test>"
    msg.set_content(f"Body of message {n}.")
    return msg.as_bytes()


def _prepare(data: Path, dovecot: Dovecot) -> None:
    """Make the database with the senders and the IMAP mailbox before the server starts."""
    data.mkdir(parents=True)
    db = Database(create_engine(f"sqlite:///{data / 'deskmate.db'}"))
    try:
        db.write_sync(migrate.upgrade)

        def fill(conn: Any) -> None:
            now = utcnow()
            conn.execute(users.insert(), [{
                "username": f"user{i}", "display_name": f"User {i}", "role": "requester",
                "email": f"user{i}@example.test", "active": True, "created_at": now,
                "updated_at": now} for i in range(SENDERS)])
            conn.execute(mailboxes.insert().values(
                name="Help", kind="imap", address="help@deskmate.test", host="127.0.0.1",
                port=dovecot.imaps_port, security="tls", username=dovecot.username,
                password=dovecot.password, folder="INBOX", done_folder="", active=True,
                created_at=now))

        db.write_sync(fill)
    finally:
        db.close()


def _start(data: Path, dovecot: Dovecot) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    env.update({"DESKMATE_PORT": "0", "DESKMATE_ADMIN_PASSWORD": "admin-password-1",
                "DESKMATE_MAIL_IMAP_CA_FILE": str(dovecot.ca_file),
                "DESKMATE_MAIL_IN_RATE_PER_HOUR": "1000000",
                "DESKMATE_SQLITE_SYNCHRONOUS": "NORMAL"})
    return subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


@pytest.mark.timeout(600)
def test_killed_server_loses_and_duplicates_nothing(tmp_path: Path, dovecot: Dovecot) -> None:
    """N messages, the server SIGKILLed KILLS times at random moments while reading them:
    in the end each message is exactly one ticket and the mailbox is empty."""
    dovecot.append([_message(n) for n in range(N)])
    data = tmp_path / "data"
    _prepare(data, dovecot)
    rng = random.Random(16)
    kills = 0
    while kills < KILLS and dovecot.count() > 0:
        proc = _start(data, dovecot)
        time.sleep(rng.uniform(1.0, 4.0))  # start-up takes about a second of it
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    proc = _start(data, dovecot)
    try:
        deadline = time.monotonic() + 300
        while dovecot.count() > 0:
            assert time.monotonic() < deadline, "the mailbox was not emptied"
            assert proc.poll() is None, "the server stopped"
            time.sleep(0.5)
        time.sleep(1.0)  # the last message's expunge follows its commit
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    db = Database(create_engine(f"sqlite:///{data / 'deskmate.db'}"))
    try:
        rows = db.read_sync(lambda c: c.execute(sa.select(
            tickets.c.id, tickets.c.title, tickets.c.description)).all())
        taken = db.read_sync(lambda c: c.execute(sa.select(
            mail_inbound.c.message_key, mail_inbound.c.outcome, mail_inbound.c.ticket_id)).all())
    finally:
        db.close()
    numbers = sorted(int(m.group(1)) for r in rows
                     if (m := re.fullmatch(r"Crash test message (\d+)", r.title)))
    assert numbers == list(range(N))  # every message once, none twice
    assert sorted(t.message_key for t in taken) == sorted(f"<crash-{n}@example.test>"
                                                          for n in range(N))
    assert {t.outcome for t in taken} == {"ticket"}
    assert len({t.ticket_id for t in taken}) == N
    assert dovecot.count() == 0
    assert kills >= 1
