"""Run e-mail in while the application runs: the LMTP/SMTP receiver and one reader per
active IMAP mailbox, restarted when an admin changes the mailboxes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.db.schema import utcnow
from server.keys import DATABASE, SETTINGS
from server.mail.inbound import mailboxes
from server.mail.inbound.imap import ImapReader
from server.mail.inbound.intake import Intake
from server.mail.inbound.receiver import Receiver

STOP_SECONDS = 10.0


class MailIn:
    """The receiver and the IMAP readers of one application."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.intake = Intake(app)
        self.receiver: Receiver | None = None
        self.readers: dict[int, tuple[ImapReader, asyncio.Task[None]]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the receiver (when a port is set) and the IMAP readers."""
        settings = self.app[SETTINGS]
        if settings.mail_lmtp_port:
            self.receiver = Receiver(self.intake, host=settings.mail_lmtp_host,
                                     port=settings.mail_lmtp_port,
                                     protocol=settings.mail_lmtp_protocol)
            await self.receiver.start()
        await self.reload()

    def _status(self, mailbox_id: int, error: str | None) -> None:
        now = utcnow()
        task = asyncio.ensure_future(self.app[DATABASE].write(functools.partial(
            mailboxes.set_status, mailbox_id=mailbox_id, error=error, now=now)))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def reload(self) -> None:
        """Match the running IMAP readers to the active mailbox records."""
        async with self._lock:
            rows = await self.app[DATABASE].read(mailboxes.list_all)
            wanted: dict[int, Any] = {r.id: r for r in rows if r.kind == "imap" and r.active}
            settings = self.app[SETTINGS]
            for mailbox_id in list(self.readers):
                await self._stop_reader(mailbox_id)
            for mailbox_id, row in wanted.items():
                config = mailboxes.imap_config(row, ca_file=settings.mail_imap_ca_file)
                reader = ImapReader(self.intake, config,
                                    poll_seconds=settings.mail_imap_poll_seconds,
                                    on_status=self._status)
                task = asyncio.create_task(reader.run_forever(), name=f"imap-{row.id}")
                self.readers[mailbox_id] = (reader, task)

    async def _stop_reader(self, mailbox_id: int) -> None:
        reader, task = self.readers.pop(mailbox_id)
        reader.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Stop the receiver and every reader (a message in hand is finished first)."""
        if self.receiver is not None:
            await self.receiver.stop()
        async with self._lock:
            for mailbox_id in list(self.readers):
                await self._stop_reader(mailbox_id)


MAIL_IN: web.AppKey[MailIn] = web.AppKey("mail_in")


async def mail_in_ctx(app: web.Application) -> AsyncIterator[None]:
    """Take mail in while the application runs."""
    service = app[MAIL_IN] = MailIn(app)
    await service.start()
    yield
    await service.stop()
