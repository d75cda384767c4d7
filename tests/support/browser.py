"""Headless Chromium driven by Playwright, using Debian's /usr/bin/chromium."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support.tools import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """Return Chromium's path, or skip/fail when it is not installed."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed")
    return str(CHROMIUM)


# Chromium logs every 4xx answer to fetch() as a console error. For the API these are
# expected answers (the session probe gets 401 when logged out, a wrong password gets
# 401) that the console shows in its notice area; anything else is still an error.
_API_4XX = "Failed to load resource: the server responded with a status of 4"


def is_api_4xx(msg: Any) -> bool:
    """Tell whether a console message is Chromium reporting an expected API 4xx."""
    return bool(msg.text.startswith(_API_4XX) and urlsplit(
        msg.location.get("url", "")).path.startswith("/api/"))


@contextlib.asynccontextmanager
async def open_page(browser: Any, base_url: str, *, locale: str = "en-US",
                    viewport: dict[str, int] | None = None,
                    touch: bool = False) -> AsyncIterator[Any]:
    """Open a page in a fresh context (one person); fail on errors in the page.

    The browser prefers ``locale``'s language (English unless a test asks for another), so
    the console speaks it: the suite's expectations are the English catalogue's texts.
    ``touch`` makes it a phone's browser: a touch screen (``locator.tap()``, a coarse
    pointer) that honours the page's viewport meta tag.
    """
    # The server's CA is not in Chromium's store; the context accepts the test server's
    # certificate, which is ours and was just created on loopback.
    context = await browser.new_context(ignore_https_errors=True, base_url=base_url,
                                        viewport=viewport or {"width": 1280, "height": 800},
                                        locale=locale, has_touch=touch, is_mobile=touch)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not is_api_4xx(msg) else None)
    try:
        yield page
    finally:
        await context.close()
    assert not errors, f"errors in the page: {errors}"
