"""Deliver the outbox over SMTP in the background, with retries and an injectable clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.db.schema import utcnow
from server.keys import BROKER, DATABASE, MAIL_SENDER, SETTINGS
from server.mail import compose, outbox
from server.settings import Settings

log = logging.getLogger("deskmate.mail")

BATCH = 20  # mails per SMTP connection
POLL_SECONDS = 60.0  # longest sleep when nothing wakes the sender
SMTP_TIMEOUT = 30.0
STOP_SECONDS = SMTP_TIMEOUT + 5  # how long shutdown waits for a delivery in progress


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to deliver; the password is never logged or stored elsewhere."""

    host: str
    port: int
    security: str  # starttls | tls | none
    ca_file: str
    username: str
    password: str
    mail_from: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """Return the SMTP configuration of ``settings``."""
        return cls(host=settings.smtp_host, port=settings.smtp_port,
                   security=settings.smtp_security, ca_file=settings.smtp_ca_file,
                   username=settings.smtp_username,
                   password=settings.smtp_password, mail_from=settings.mail_from)

    def __repr__(self) -> str:
        return f"SmtpConfig(host={self.host!r}, port={self.port}, security={self.security!r})"


Transport = Callable[[SmtpConfig, list[tuple[int, Any]]], list[outbox.Outcome]]


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600  # RFC 5321 section 4.2.1: 5yz is a permanent negative reply


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


@functools.cache
def _tls_context(ca_file: str) -> ssl.SSLContext:
    """Return a client TLS context that verifies the server (built once per CA file:
    loading the system's CA store costs tens of milliseconds)."""
    return ssl.create_default_context(cafile=ca_file or None)


def deliver(config: SmtpConfig, rows: list[tuple[int, Any]]) -> list[outbox.Outcome]:
    """Send messages over one SMTP connection (blocking: call in a thread).

    A refusal with a 5xx code fails that message for good; anything else (connection
    refused, timeouts, 4xx codes, a dropped connection) is temporary and retried later.
    """
    outcomes: list[outbox.Outcome] = []
    try:
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=SMTP_TIMEOUT,
                context=_tls_context(config.ca_file))
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=_tls_context(config.ca_file))
            if config.username:
                smtp.login(config.username, config.password)
            for mail_id, message in rows:
                try:
                    refused = smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused as exc:
                    codes = [code for code, _msg in exc.recipients.values()]
                    outcomes.append(outbox.Outcome(
                        mail_id, f"recipient refused: {codes}",
                        permanent=all(_is_permanent(c) for c in codes)))
                except smtplib.SMTPServerDisconnected:
                    raise
                except smtplib.SMTPResponseException as exc:
                    outcomes.append(outbox.Outcome(mail_id, _describe(exc),
                                                   permanent=_is_permanent(exc.smtp_code)))
                else:
                    if refused:  # a single recipient per message: refusal raises instead
                        outcomes.append(outbox.Outcome(mail_id, f"refused: {refused}"))
                    else:
                        outcomes.append(outbox.Outcome(mail_id))
    except (OSError, smtplib.SMTPException) as exc:
        reason = _describe(exc)
        done = {o.mail_id for o in outcomes}
        outcomes += [outbox.Outcome(mail_id, reason) for mail_id, _ in rows
                     if mail_id not in done]
    return outcomes


class MailSender:
    """Deliver due outbox rows in passes; ``now`` and the transport are injectable."""

    def __init__(self, app: web.Application, *, now: Callable[[], dt.datetime] = utcnow,
                 transport: Transport = deliver, batch: int = BATCH) -> None:
        self.app = app
        self.now = now
        self.transport = transport
        self.batch = batch
        self.wake = asyncio.Event()
        self.stopping = False

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig.from_settings(self.app[SETTINGS])

    async def run_pass(self) -> dict[str, int]:
        """Try every due mail once (in batches); return counts of sent, retry and failed."""
        db = self.app[DATABASE]
        settings = self.app[SETTINGS]
        config = self.config
        totals = {"sent": 0, "retry": 0, "failed": 0}
        while not self.stopping:
            rows = await db.read(functools.partial(outbox.due, now=self.now(), limit=self.batch))
            if not rows:
                break
            # Rights may have changed since the mail was queued: check them again.
            dropped = [outbox.Outcome(r.id, reason, permanent=True) for r in rows
                       if (reason := outbox.undeliverable(r)) is not None]
            skip = {o.mail_id for o in dropped}
            messages = [(r.id, compose.message(
                mail_from=config.mail_from, to_addr=outbox.address(r), subject=r.subject,
                body=r.body, message_id=r.message_id, thread_id=r.thread_id))
                for r in rows if r.id not in skip]
            outcomes = dropped
            if messages:
                outcomes = dropped + await asyncio.to_thread(self.transport, config, messages)
            counts = await db.write(functools.partial(
                outbox.record, outcomes=outcomes, now=self.now(),
                max_attempts=settings.mail_max_attempts))
            for key, value in counts.items():
                totals[key] += value
            for outcome in dropped:
                log.info("mail %d dropped: %s", outcome.mail_id, outcome.error)
            for outcome in outcomes[len(dropped):]:
                if outcome.error is not None:
                    log.warning("mail %d not delivered (%s): %s", outcome.mail_id,
                                "failed" if outcome.permanent else "will retry", outcome.error)
            if counts["sent"] == 0 and len(dropped) < len(rows):
                break  # the server refuses everything now: wait for the backoff
        return totals

    async def prune(self) -> int:
        """Delete sent and failed mails older than ``mail_keep_days``."""
        keep = dt.timedelta(days=self.app[SETTINGS].mail_keep_days)
        return await self.app[DATABASE].write(
            functools.partial(outbox.prune, before=self.now() - keep))

    async def seconds_to_next(self) -> float:
        """Return how long to sleep: until the next attempt is due, at most POLL_SECONDS."""
        upcoming = await self.app[DATABASE].read(outbox.next_attempt)
        if upcoming is None:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, (upcoming - self.now()).total_seconds()))

    def poke(self, **_change: Any) -> None:
        """Wake the sender (a ticket changed: mails may have been queued with it)."""
        self.wake.set()

    async def run_forever(self) -> None:
        """Send, prune, and sleep until woken or the next retry is due, until stopped."""
        last_prune: dt.datetime | None = None
        while not self.stopping:
            self.wake.clear()
            try:
                sent = await self.run_pass()
                if sent["sent"] or sent["failed"]:
                    log.info("mail: %d sent, %d failed, %d to retry", sent["sent"],
                             sent["failed"], sent["retry"])
                now = self.now()
                if last_prune is None or now - last_prune > dt.timedelta(hours=1):
                    last_prune = now
                    pruned = await self.prune()
                    if pruned:
                        log.info("mail: pruned %d old outbox rows", pruned)
                delay = await self.seconds_to_next()
            except Exception:
                log.exception("mail sender pass failed")
                delay = POLL_SECONDS
            if self.stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    """Turn the outbox on and run the sender while the application runs (if smtp_host)."""
    settings = app[SETTINGS]
    if not settings.smtp_host:
        yield
        return
    engine = app[DATABASE].engine
    outbox.enable(engine, outbox.MailConfig(base_url=settings.base_url,
                                            domain=compose.domain_of(settings.mail_from),
                                            language=settings.default_language,
                                            time_zone=settings.default_time_zone))
    sender = app.get(MAIL_SENDER)
    if sender is None:
        sender = app[MAIL_SENDER] = MailSender(app)
    app[BROKER].listeners.append(sender.poke)
    task = asyncio.create_task(sender.run_forever(), name="mail-sender")
    yield
    app[BROKER].listeners.remove(sender.poke)
    outbox.disable(engine)
    # Let a delivery in progress finish and be recorded, so it is not sent again.
    sender.stopping = True
    sender.wake.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
