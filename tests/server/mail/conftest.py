"""Fixtures for the mail tests: a real SMTP server, a real Dovecot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.dovecot import Dovecot, running_dovecot
from tests.support.smtp import SmtpSink


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1, a free port."""
    smtp = SmtpSink()
    await smtp.start()
    try:
        yield smtp
    finally:
        await smtp.stop()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on 127.0.0.1 (IMAPS and STARTTLS) with one account."""
    with running_dovecot() as server:
        yield server
