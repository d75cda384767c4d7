"""Benchmark: what e-mail notifications cost the writer, and how fast the outbox drains.

Prints figures, never passes or fails. On a fresh SQLite database built by the real
migrations (synchronous=NORMAL, as the other ticket benchmarks), with a requester and a
technician who both have e-mail addresses:

* writer cost: one write transaction that creates a ticket (assigned to the technician)
  and adds a public staff reply, through ``server.tickets.creation`` and ``timeline`` —
  with mail off (the baseline) and with mail on (the same transaction also renders and queues three
  e-mails). Runs alternate in blocks so both see the same machine.
* delivery: ``--mails`` queued rows drained by the real ``MailSender.run_pass`` over
  ``smtplib`` to a local aiosmtpd server; beside it, the baseline of the same messages
  sent by bare ``smtplib`` over one connection with no database work.

* ingest (``--ingest``, needs Debian's dovecot-imapd): messages put into a real Dovecot
  mailbox (IMAPS on loopback), taken into tickets by the real ``ImapReader`` and
  ``Intake`` (fetch, parse, store the raw message, write ticket + de-duplication row,
  expunge); beside it, a raw IMAP fetch of the same messages, one by one, in the same
  run.

    .venv/bin/python bench/mail.py [--tickets 2000] [--mails 1000] [--ingest 500]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.db import migrate
from server.db.database import Database, create_engine
from server.keys import BROKER, DATABASE, SETTINGS
from server.mail import compose, outbox
from server.mail.sender import MailSender, SmtpConfig
from server.settings import load
from server.tickets import creation, timeline
from server.tickets.priority import priority_for
from server.users import store as users

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


class Sink:
    """Count what an aiosmtpd server receives."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, _s: SMTP, _sess: Session, _env: Envelope) -> str:
        self.count += 1
        return "250 OK"


def start_sink() -> tuple[Sink, int]:
    """Run an SMTP server on 127.0.0.1 in a thread of its own; return it and its port."""
    sink, ready = Sink(), threading.Event()
    port: list[int] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(loop.create_server(
            lambda: SMTP(sink, hostname="sink", loop=loop), "127.0.0.1", 0))
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait()
    return sink, port[0]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def writer_cost(db: Database, n: int, requester: int, tech: int) -> None:
    times: dict[str, list[float]] = {"off": [], "on": []}
    config = outbox.MailConfig(base_url="https://desk.example.org", domain="example.org")

    def one(conn: Any) -> None:
        new = creation.NewTicket(kind="incident", title="Printer on fire", description="Smoke.",
                                 impact=3, urgency=3, priority=priority_for(3, 3),
                                 category_id=None, requester_id=requester, assignee_id=tech,
                                 group_id=None, device_ids=[], tags=[], source="api")
        tid = creation.create_ticket(conn, new, actor_id=requester, now=T0)
        timeline.add_comment(conn, tid, actor_id=tech, body="On it.", public=True, now=T0)

    block = 100
    for start in range(0, n, block):
        for mode in ("off", "on") if (start // block) % 2 == 0 else ("on", "off"):
            if mode == "on":
                outbox.enable(db.engine, config)
            else:
                outbox.disable(db.engine)
            for _ in range(min(block, n - start)):
                t = time.perf_counter()
                db.write_sync(one)
                times[mode].append((time.perf_counter() - t) * 1000)
    outbox.disable(db.engine)
    queued = db.read_sync(outbox.counts).get("queued", 0)
    print(f"writer: create ticket + public reply, {n} transactions each, mails queued: {queued}")
    for mode in ("off", "on"):
        ms = times[mode]
        print(f"  mail {mode:3}: median {statistics.median(ms):6.3f} ms  "
              f"p99 {p(ms, 0.99):6.3f} ms  mean {statistics.fmean(ms):6.3f} ms")
    extra = statistics.median(times["on"]) - statistics.median(times["off"])
    print(f"  extra per transaction with mail on (median): {extra:.3f} ms")


def delivery(db: Database, data: Path, mails: int, recipient: int) -> None:
    sink, port = start_sink()
    db.write_sync(lambda c: c.execute(outbox.mail_outbox.delete()))
    ticket = compose.Ticket(id=1, number="INC-000001", title="Printer on fire")
    who = compose.Recipient(id=1, name="Rick", email="rick@example.org", staff=False)
    rows = [compose.render("reply", ticket, who, base_url="https://d", domain="example.org",
                           text="On it. " * 40) for _ in range(mails)]
    db.write_sync(lambda c: c.execute(outbox.mail_outbox.insert(), [{
        # A real recipient: the sender checks again that the user may get the mail.
        "created_at": T0, "ticket_id": None, "recipient_id": recipient, "reason": "reply",
        "to_addr": m.to_addr, "subject": m.subject, "body": m.body,
        "message_id": m.message_id, "thread_id": m.thread_id, "status": "queued",
        "attempts": 0, "next_attempt_at": T0} for m in rows]))
    settings = load(environ={}, overrides={
        "data": str(data), "smtp_host": "127.0.0.1", "smtp_port": port,
        "smtp_security": "none", "mail_from": "desk@example.org"})

    # Baseline: the same messages over one bare smtplib connection, no database.
    config = SmtpConfig.from_settings(settings)
    messages = [compose.message(mail_from=config.mail_from, to_addr=m.to_addr,
                                subject=m.subject, body=m.body, message_id=m.message_id,
                                thread_id=m.thread_id) for m in rows]
    t = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for msg in messages:
            smtp.send_message(msg)
    bare = time.perf_counter() - t

    async def drain() -> float:
        app = web.Application()
        app[DATABASE] = db
        app[SETTINGS] = settings
        sender = MailSender(app, now=lambda: T0 + dt.timedelta(seconds=1))
        t = time.perf_counter()
        counts = await sender.run_pass()
        took = time.perf_counter() - t
        assert counts["sent"] == mails, counts
        return took

    took = asyncio.run(drain())
    print(f"delivery of {mails} mails to a local aiosmtpd (one process, 2 cores shared):")
    print(f"  bare smtplib, one connection: {bare:6.2f} s  {mails / bare:7.0f} mails/s")
    print(f"  MailSender.run_pass (batches of 20 per connection, outbox read + "
          f"record): {took:6.2f} s  {mails / took:7.0f} mails/s")
    print(f"  sink received {sink.count} messages")


def _ingest_message(n: int) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Rick <rick@example.org>"
    msg["To"] = "help@example.org"
    msg["Subject"] = f"Printer problem {n}"
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg.set_content("The printer on the third floor jams. " * 20 + f"({n})")
    return msg.as_bytes()


def ingest(db: Database, data: Path, count: int) -> None:
    """Take ``count`` messages from Dovecot into tickets; compare with a raw IMAP fetch."""
    from server.live import Broker
    from server.mail.inbound.imap import ImapConfig, ImapReader
    from server.mail.inbound.ingest import Route
    from server.mail.inbound.intake import Intake
    from tests.support.dovecot import running_dovecot

    with running_dovecot() as dovecot:
        dovecot.append([_ingest_message(n) for n in range(count)])
        # Baseline: the same messages fetched one by one over one IMAPS connection.
        imap = dovecot.client()
        t = time.perf_counter()
        imap.select("INBOX")
        _typ, found = imap.uid("SEARCH", "UNDELETED")
        for uid in found[0].split():
            imap.uid("FETCH", uid, "(BODY.PEEK[])")
        raw_fetch = time.perf_counter() - t
        imap.logout()
        settings = load(environ={}, overrides={"data": str(data)})
        config = ImapConfig(mailbox_id=0, name="bench", host="127.0.0.1",
                            port=dovecot.imaps_port, security="tls",
                            username=dovecot.username, password=dovecot.password,
                            folder="INBOX", done_folder="", route=Route(),
                            ca_file=str(dovecot.ca_file))

        async def take_all() -> tuple[float, int]:
            app = web.Application()
            app[DATABASE] = db
            app[SETTINGS] = settings
            app[BROKER] = Broker()
            intake = Intake(app)
            await intake.key()
            reader = ImapReader(intake, config, poll_seconds=60)
            t = time.perf_counter()
            while await reader.run_round():
                pass
            took = time.perf_counter() - t
            await asyncio.to_thread(reader._close)
            return took, intake.taken

        took, taken = asyncio.run(take_all())
        left = dovecot.count()
    print(f"ingest of {count} messages from Dovecot (IMAPS on loopback, 2 cores shared):")
    print(f"  raw IMAP fetch, one by one: {raw_fetch:6.2f} s  {count / raw_fetch:7.0f} msgs/s")
    print(f"  ImapReader + Intake into tickets (fetch, parse, write, expunge): {took:6.2f} s  "
          f"{taken / took:7.0f} msgs/s  ({taken} tickets, {left} left in the mailbox)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--ingest", type=int, default=500, help="0: skip the ingest figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(create_engine(f"sqlite:///{tmp}/bench.db", synchronous="NORMAL"))
        db.write_sync(migrate.upgrade)
        requester = db.write_sync(lambda c: users.create_user(
            c, username="rick", display_name="Rick", role="requester",
            email="rick@example.org", password_hash=None, now=T0))
        tech = db.write_sync(lambda c: users.create_user(
            c, username="tina", display_name="Tina", role="technician",
            email="tina@example.org", password_hash=None, now=T0))
        writer_cost(db, args.tickets, requester, tech)
        delivery(db, Path(tmp), args.mails, requester)
        if args.ingest:
            ingest(db, Path(tmp), args.ingest)
        db.close()



if __name__ == "__main__":
    main()
