"""The console's second net for article HTML: URLs are checked as the browser parses them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from server.kb.tables import kb_articles
from tests.console.test_console import log_in
from tests.console.test_kb import article
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser

# HTML as an article stored before the sanitizer normalised paths could hold it.
STORED = ('<p>Steps</p><img alt="ok" src="/api/v1/attachments/7">'
          '<img alt="up" src="/api/v1/attachments/../kb/articles">'
          '<img alt="encoded" src="/api/v1/attachments/%2e%2e/%2e%2e/users">'
          '<img alt="backslash" src="/api/v1/attachments\\..\\kb\\articles">'
          '<a href="/api/v1/attachments/../users">inside</a>'
          '<a href="https://docs.example/x">outside</a>')


async def test_old_article_html_cannot_make_the_browser_call_the_api(
        server: RunningServer, technician: Client, page: Any) -> None:
    """Images whose paths leave /api/v1/attachments/ once normalised are shown without a source, and a relative link without its target; an attachment keeps its source."""  # noqa: E501
    made = await article(technician, title="Printer steps", body="Steps")
    await server.db.write(lambda c: c.execute(
        kb_articles.update().where(kb_articles.c.id == made["id"]).values(body_html=STORED)))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if r.resource_type == "image" else None)
    await log_in(page, "tina", PASSWORD)
    await page.goto(f"/#/kb/articles/{made['id']}")
    body = page.locator(".kb-body")
    await expect(body).to_contain_text("Steps")
    sources = {alt: await body.locator(f"img[alt={alt}]").get_attribute("src")
               for alt in ("ok", "up", "encoded", "backslash")}
    assert sources == {"ok": "/api/v1/attachments/7", "up": None, "encoded": None,
                       "backslash": None}
    assert await body.locator("a", has_text="inside").get_attribute("href") is None
    assert await body.get_by_role("link", name="outside").get_attribute("href") == (
        "https://docs.example/x")
    assert not [u for u in requested if "/api/v1/" in u and "/attachments/7" not in u], requested
