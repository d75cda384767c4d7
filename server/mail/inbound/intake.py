"""The one way a raw message enters Deskmate: parse, store files, write in one transaction.

The LMTP/SMTP receiver (:mod:`server.mail.inbound.receiver`) and the IMAP reader
(:mod:`server.mail.inbound.imap`) hand raw bytes to :meth:`Intake.take`; it returns only
after the message's ticket or comment and its de-duplication row are committed, so the
caller may then acknowledge the delivery or remove the message from the mailbox.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
from typing import Any

from aiohttp import web

from server.db.schema import tickets, utcnow
from server.keys import BROKER, DATABASE, MAIL_SENDER, SETTINGS
from server.mail.inbound import ingest, parse, threads
from server.tickets.priority import parse_matrix

log = logging.getLogger("deskmate.mail.in")


class Intake:
    """Take raw messages in for one application."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._key: bytes | None = None
        settings = app[SETTINGS]
        own = {a.strip().lower() for a in settings.mail_in_addresses if a.strip()}
        _name, sender = email.utils.parseaddr(settings.mail_from)
        if sender:
            own.add(sender.lower())
        self.policy = ingest.Policy(
            unknown_sender=settings.mail_in_unknown_sender,  # type: ignore[arg-type]
            rate_per_hour=settings.mail_in_rate_per_hour, own_addresses=frozenset(own),
            matrix=parse_matrix(settings.priority_matrix))
        self.taken = 0  # messages written (not counting duplicates), for the benchmark

    async def key(self) -> bytes:
        """Return the reply-token key (loaded once)."""
        if self._key is None:
            now = utcnow()
            self._key = await self.app[DATABASE].write(
                lambda c: threads.load_key(c, now))
        return self._key

    async def take(self, raw: bytes, route: ingest.Route) -> ingest.Result:
        """Write one message as a ticket, comment or refusal; return what became of it."""
        settings = self.app[SETTINGS]
        parsed = await asyncio.to_thread(parse.parse, raw)
        prepared = await asyncio.to_thread(
            ingest.prepare, parsed, raw, settings.data_dir / "attachments",
            limit=settings.attachment_max_bytes)
        key = await self.key()
        now = utcnow()
        try:
            result = await self.app[DATABASE].write(functools.partial(
                ingest.take_in, prepared=prepared, route=route, policy=self.policy, key=key,
                now=now))
        except Exception as exc:
            # A message that cannot be written must not block its mailbox for ever (it
            # would be fetched and fail again): it is held for the desk instead. When the
            # database itself is down this write fails too, and the message stays where it
            # is for the next try.
            log.exception("mail %s could not be taken in", parsed.key)
            reason = f"could not be taken in: {type(exc).__name__}"
            result = await self.app[DATABASE].write(functools.partial(
                ingest.hold, prepared=prepared, route=route, reason=reason, now=now))
        if result.duplicate:
            log.info("mail %s seen before (%s)", parsed.key, result.outcome)
            return result
        self.taken += 1
        log.info("mail %s from %s: %s %s", parsed.key, parsed.sender or "?", result.outcome,
                 result.reason)
        if result.ticket_id is not None:
            await self._publish(result)
        elif result.outcome == "refused" and MAIL_SENDER in self.app:
            self.app[MAIL_SENDER].poke()  # an answer may have been queued
        return result

    async def _publish(self, result: ingest.Result) -> None:
        ticket_id = result.ticket_id
        row: Any = await self.app[DATABASE].read(lambda c: c.execute(
            tickets.select().with_only_columns(tickets.c.number, tickets.c.requester_id)
            .where(tickets.c.id == ticket_id)).first())
        if row is not None and ticket_id is not None:
            self.app[BROKER].publish_ticket(
                ticket_id=ticket_id, number=row.number, requester_id=row.requester_id,
                change="created" if result.outcome == "ticket" else "commented", public=True)
