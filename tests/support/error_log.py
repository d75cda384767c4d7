"""Fail any test during which Deskmate logs an error or a traceback it did not expect.

As blockbuster does for blocking calls: a handler on the root logger collects, while a
test runs, every record of the watched loggers (Deskmate's own, and asyncio's, aiohttp's
and websockets' on its behalf) at ERROR or above, and every record that carries a
traceback. So "Task exception was never retrieved" (asyncio) and "Error handling
request" (aiohttp) count as well as ``log.exception(...)`` in our code. The test fails
when one was collected that the test did not declare.

A test that provokes an error on purpose declares it with a regular expression, searched
in ``"<logger>: <message>"`` followed, for a record with a traceback, by a line
``"<ExceptionType>: <exception text>"``::

    @pytest.mark.expect_error_log(r"deskmate\\.agents: .*connection failed")
    async def test_...

or, for an error expected only from some point on, ``error_log.expect(r"...")`` with
the ``error_log`` fixture. Load it with ``-p tests.support.error_log`` (tests/conftest.py
does).
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import traceback
from collections.abc import Iterator

import pytest

# Logger name roots watched: Deskmate's ("deskmate.*", and modules logging under their
# own name) and the libraries that report our failures for us.
WATCHED = ("deskmate", "server", "shared", "endpoint_agent", "asyncio", "aiohttp",
           "websockets")
MARKER = "expect_error_log"
MAX_SHOWN = 5  # records described in a failure; the rest are counted


def describe(record: logging.LogRecord) -> str:
    """Return the text expected patterns are searched in: logger, message, exception."""
    text = f"{record.name}: {record.getMessage()}"
    exc = record.exc_info[1] if record.exc_info else None
    if exc is not None:
        text += f"\n{type(exc).__name__}: {exc}"
    return text


class ErrorLog(logging.Handler):
    """Collects the error records of watched loggers; knows which ones are expected."""

    def __init__(self, expected: list[str] | None = None) -> None:
        super().__init__(level=logging.NOTSET)
        self.expected = [re.compile(p) for p in expected or []]
        self.unexpected: list[logging.LogRecord] = []
        self.allowed: list[logging.LogRecord] = []
        self._guard = threading.Lock()

    def expect(self, pattern: str) -> None:
        """Allow records whose description (see :func:`describe`) matches ``pattern``."""
        self.expected.append(re.compile(pattern))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] not in WATCHED:
            return
        if record.levelno < logging.ERROR and not record.exc_info:
            return
        text = describe(record)
        with self._guard:
            if any(p.search(text) for p in self.expected):
                self.allowed.append(record)
            else:
                self.unexpected.append(record)

    def take(self) -> list[logging.LogRecord]:
        """Return the unexpected records collected so far, and forget them."""
        with self._guard:
            found, self.unexpected = self.unexpected, []
        return found


def report(records: list[logging.LogRecord], when: str) -> str:
    """Return the failure text for unexpected error records."""
    lines = [f"{len(records)} unexpected error log record(s) {when} (declare expected ones "
             f"with @pytest.mark.{MARKER}(pattern) or error_log.expect(pattern)):"]
    for record in records[:MAX_SHOWN]:
        lines.append(f"--- {record.levelname} {describe(record)}")
        if record.exc_info and record.exc_info[1] is not None:
            tb = "".join(traceback.format_exception(*record.exc_info))
            lines.append(tb.rstrip()[-3000:])
    if len(records) > MAX_SHOWN:
        lines.append(f"... and {len(records) - MAX_SHOWN} more")
    return "\n".join(lines)


ERROR_LOG = pytest.StashKey[ErrorLog]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*patterns): the test provokes error log records matching "
        "these regular expressions on purpose (tests/support/error_log.py)")


@pytest.fixture(autouse=True)
def error_log(request: pytest.FixtureRequest) -> Iterator[ErrorLog]:
    """Fail the test if a watched logger records an error or traceback it did not expect."""
    patterns = [p for m in request.node.iter_markers(MARKER) for p in m.args]
    handler = ErrorLog(patterns)
    request.node.stash[ERROR_LOG] = handler
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
        # A task that failed and was dropped reports itself when it is collected.
        gc.collect(1)  # young objects only: a full collection costs ~0.5 s per test
    finally:
        root.removeHandler(handler)
    found = handler.take()
    if found:
        pytest.fail(report(found, "while the test's fixtures were torn down"), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test itself (not its teardown) for errors logged while it ran."""
    result = yield
    handler = item.stash.get(ERROR_LOG, None)
    if handler is not None:
        found = handler.take()
        if found:
            pytest.fail(report(found, "during the test"), pytrace=False)
    return result
