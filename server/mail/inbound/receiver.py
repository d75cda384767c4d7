"""Direct delivery: an LMTP (RFC 2033) or SMTP receiver that a local mail server feeds.

Postfix (or any MTA) delivers the desk's mail here instead of to a mailbox. A recipient
is accepted when it is the address of an active mailbox of kind ``lmtp`` (a plus-tag
aside); the message is acknowledged with 250 only after it is written
(:class:`server.mail.inbound.intake.Intake`), and with a temporary 451 when it could not
be, so the MTA keeps it and tries again: nothing is lost, and the Message-ID keeps a
retry from making anything twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.keys import DATABASE
from server.mail.inbound.ingest import Route
from server.mail.inbound.intake import Intake
from server.mail.inbound.mailboxes import route_of
from server.mail.inbound.tables import mailboxes

log = logging.getLogger("deskmate.mail.in")
MESSAGE_MAX = 64 * 1024 * 1024  # bytes of one message (attachments beyond the limit go)


def _bare(address: str) -> str:
    """Return an address without its plus-tag, lower-case."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.partition('+')[0]}{at}{domain}"


class Handler:
    """aiosmtpd handler: route recipients to mailboxes, take the message in on DATA."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def _route(self, address: str) -> Route | None:
        bare = _bare(address)
        row = await self.intake.app[DATABASE].read(lambda c: c.execute(
            sa.select(mailboxes.c.id, mailboxes.c.group_id, mailboxes.c.category_id,
                      mailboxes.c.unknown_sender)
            .where(sa.func.lower(mailboxes.c.address) == bare, mailboxes.c.kind == "lmtp",
                   mailboxes.c.active.is_(True))).first())
        if row is None:
            return None
        return route_of(row)

    async def handle_RCPT(self, _server: SMTP, _session: Session, envelope: Envelope,
                          address: str, _options: list[str]) -> str:
        if await self._route(address) is None:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 ok"

    async def handle_DATA(self, server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        count = len(envelope.rcpt_tos) if isinstance(server, LMTP) else 1
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        route = await self._route(envelope.rcpt_tos[0]) if envelope.rcpt_tos else None
        if route is None:
            return "\r\n".join(["550 5.1.1 no such mailbox here"] * count)
        try:
            result = await self.intake.take(raw, route)
        except Exception:
            log.exception("mail from %s could not be taken in", envelope.mail_from)
            # RFC 2033 section 4.2: one reply per recipient after DATA.
            return "\r\n".join(["451 4.3.0 not stored, try again later"] * count)
        status = f"250 2.0.0 {result.outcome}"
        return "\r\n".join([status] * count)


class Receiver:
    """A listening LMTP or SMTP server on the event loop."""

    def __init__(self, intake: Intake, *, host: str, port: int, protocol: str) -> None:
        self.handler = Handler(intake)
        self.host = host
        self.port = port
        self.protocol = protocol
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; ``port`` 0 picks a free port (read it back from :attr:`port`)."""
        loop = asyncio.get_running_loop()
        kind: Any = LMTP if self.protocol == "lmtp" else SMTP

        def factory() -> SMTP:
            server: SMTP = kind(self.handler, hostname="deskmate", loop=loop,
                                data_size_limit=MESSAGE_MAX, enable_SMTPUTF8=True,
                                decode_data=False)
            return server

        self._server = await loop.create_server(factory, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("mail receiver (%s) on %s port %d", self.protocol, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
