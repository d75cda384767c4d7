"""Turn mail on and off while the server runs: the outbox switch and the sender task.

Mail is on when an SMTP host is in effect — the static ``smtp_host``, or one an admin
set in the console (server/siteconfig). Console edits call :meth:`MailControl.apply` on
the server that took them; every server also re-reads the stored values every
``WATCH_SECONDS``, so the other nodes of a cluster follow without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from server.keys import BROKER, DATABASE, MAIL_CONTROL, MAIL_SENDER, SETTINGS, SITE_VALUES
from server.mail import compose, outbox
from server.mail.sender import STOP_SECONDS, MailSender, SmtpConfig
from server.siteconfig import store as site_store
from server.siteconfig.rules import DEFAULT_PRODUCT

log = logging.getLogger("deskmate.mail")

WATCH_SECONDS = 60.0


class MailControl:
    """Keeps the outbox switch and the sender task in step with the settings in effect."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None
        self.sender: MailSender | None = app.get(MAIL_SENDER)  # a test may bring its own
        self.lock = asyncio.Lock()
        self.starting = True  # app state may be set only while the server starts

    def config(self) -> SmtpConfig:
        """Return the SMTP configuration in effect now."""
        return SmtpConfig.from_settings(self.app[SETTINGS], self.app[SITE_VALUES].values)

    async def refresh(self) -> None:
        """Re-read the stored site settings and apply them."""
        values = await self.app[DATABASE].read(site_store.load)
        self.app[SITE_VALUES].replace(values)
        await self.apply()

    async def apply(self) -> None:
        """Switch the outbox and the sender on or off for the settings in effect."""
        async with self.lock:
            config = self.config()
            engine = self.app[DATABASE].engine
            if not config.host:
                outbox.disable(engine)
                await self._stop_sender()
                return
            product = self.app[SITE_VALUES].values.get("product_name") or DEFAULT_PRODUCT
            outbox.enable(engine, outbox.MailConfig(
                base_url=self.app[SETTINGS].base_url,
                domain=compose.domain_of(config.mail_from), product=product,
                language=self.app[SETTINGS].default_language,
                time_zone=self.app[SETTINGS].default_time_zone))
            if self.task is None or self.task.done():
                sender = self.sender = self.sender or MailSender(self.app)
                if self.starting:
                    self.app[MAIL_SENDER] = sender  # tests reach the sender here
                sender.stopping = False
                self.app[BROKER].listeners.append(sender.poke)
                self.task = asyncio.create_task(sender.run_forever(), name="mail-sender")

    async def _stop_sender(self) -> None:
        task, self.task = self.task, None
        if task is None:
            return
        sender = self.sender
        assert sender is not None
        with contextlib.suppress(ValueError):
            self.app[BROKER].listeners.remove(sender.poke)
        # Let a delivery in progress finish and be recorded, so it is not sent again.
        sender.stopping = True
        sender.wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def watch(self) -> None:
        """Re-read the stored settings every WATCH_SECONDS (other nodes' edits)."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self.refresh()
            except Exception:
                log.exception("reading the site settings failed")

    async def stop(self) -> None:
        """Stop the sender (at shutdown) and turn the outbox off."""
        async with self.lock:
            outbox.disable(self.app[DATABASE].engine)
            await self._stop_sender()


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the site settings, run mail when a host is in effect, follow later edits."""
    app[SITE_VALUES].replace(await app[DATABASE].read(site_store.load))
    control = app[MAIL_CONTROL]
    control.sender = app.get(MAIL_SENDER)
    await control.apply()
    control.starting = False
    watcher = asyncio.create_task(control.watch(), name="site-settings-watch")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await control.stop()
