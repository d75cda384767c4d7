"""A real SMTP server (aiosmtpd) on 127.0.0.1 port 0 that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.waiting import eventually


@dataclass
class SmtpSink:
    """Received messages; ``refuse`` makes the server answer DATA with that reply."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: str | None = None
    tls_context: ssl.SSLContext | None = None  # given: clients must use STARTTLS
    tls_used: list[bool] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def handle_DATA(self, _server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        if self.refuse is not None:
            return self.refuse
        self.tls_used.append(session.ssl is not None)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"

    async def start(self) -> None:
        """Listen (again) on the sink's port; the first start picks a free port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="sink.test", loop=loop, tls_context=self.tls_context,
                         require_starttls=self.tls_context is not None),
            self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening (connections are refused until :meth:`start`)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[EmailMessage]:
        """Return the received messages once there are at least ``count``."""
        await eventually(lambda: len(self.messages) >= count, within=within)
        return list(self.messages)

    def to(self, addr: str) -> list[EmailMessage]:
        """Return the messages addressed to ``addr``."""
        return [m for m in self.messages if m["To"] == addr]

    def settings(self) -> dict[str, Any]:
        """Return server settings that send mail here in plain text."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none",
                "mail_from": "Deskmate <desk@deskmate.test>"}
