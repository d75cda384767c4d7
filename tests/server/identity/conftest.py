"""Fixtures of the identity tests: a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
