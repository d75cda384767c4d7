"""The console in Bahasa Indonesia: no page of the layout walks shows English catalogue text.

The pages are tests/console/walk.py's (every route of console/static/app.js, with real ids,
for each role that may open it, on the same small seeded desk), opened once each.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.console import walk
from tests.console.test_console import log_in
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]  # a walk of every page

LOCALES = Path(__file__).resolve().parents[2] / "console" / "static" / "locales"
PLACEHOLDER = re.compile(r"\{\w+\}")
INDONESIAN_TITLE = "Masuk ke layanan bantuan TI"
# The console's own formatter, in the page (the same module instance the views use).
FIVE_MINUTES_AGO = """() => import("/static/js/format.js")
  .then((format) => format.ago(new Date(Date.now() - 5 * 60 * 1000).toISOString()))"""

# Everything a page shows a person: its visible text and the words given to assistive
# technology and tooltips.
PAGE_TEXTS = """() => {
  // What the page marks translate="no" (product names, IANA zones) is the same in every
  // language: it is left out while the text is read.
  const kept = [...document.querySelectorAll('[translate="no"]')]
    .map((el) => [el, el.style.display]);
  for (const [el] of kept) el.style.display = "none";
  const text = document.body.innerText;
  for (const [el, display] of kept) el.style.display = display;
  const attrs = [];
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    for (const name of ["aria-label", "title", "placeholder"]) {
      const value = el.getAttribute(name);
      if (value) attrs.push(value);
    }
  }
  return { text, attrs, title: document.title };
}"""


def _catalogue(language: str) -> dict[str, str]:
    return dict(json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8")))


def english_only() -> list[tuple[str, str, str, re.Pattern[str]]]:
    """Return (key, text, clue, pattern) of each English text that Indonesian says differently.

    A text with placeholders matches with anything in their place; one with fewer than
    three fixed letters around placeholders ("{d}d {h}h") says too little to look for.
    The clue, its longest fixed piece, is in any text the pattern matches: a page without
    it is not searched (most pages hold few of the two thousand texts).
    """
    english, indonesian = _catalogue("en"), _catalogue("id")
    found = []
    for key, text in english.items():
        if key == "language.name" or indonesian.get(key) == text:
            continue
        pieces = PLACEHOLDER.split(text)
        letters = sum(len(re.findall(r"[A-Za-z]", piece)) for piece in pieces)
        if letters < (3 if len(pieces) > 1 else 2):
            continue
        body = ".{1,80}?".join(re.escape(piece) for piece in pieces)
        clue = max(pieces, key=len)
        found.append((key, text, clue, re.compile(rf"(?<![\w]){body}(?![\w])")))
    return found


ENGLISH = english_only()


# Names of products, the same in every language, also inside translated sentences.
PRODUCT_NAMES = re.compile(r"Active Directory|OpenLDAP|Deskmate")


async def english_on(page: Any) -> list[str]:
    """Return the English catalogue texts (by key) the page shows or names, each in context."""
    seen = await page.evaluate(PAGE_TEXTS)
    # One text a line: no pattern runs across lines, so none across two of the page's texts.
    texts = "\n".join(PRODUCT_NAMES.sub("", text)
                      for text in [seen["text"], seen["title"], *seen["attrs"]])
    found = set()
    for key, text, clue, pattern in ENGLISH:
        match = pattern.search(texts) if clue in texts else None
        if match:
            around = texts[max(0, match.start() - 30):match.end() + 30].replace("\n", " | ")
            found.add(f"{key}: {text!r} in \"{around}\"")
    return sorted(found)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(module_server: RunningServer, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[walk.Desk]:
    """The layout walks' small desk (tests/console/walk.py), what people wrote in Indonesian.

    The module's walks only read it, so they share it (and the server and the browser).
    """
    admin = await module_server.login("admin", ADMIN_PASSWORD)
    seeded = await walk.seed(module_server, admin, tmp_path_factory.mktemp("agents"),
                             walk.INDONESIAN)
    try:
        yield seeded
    finally:
        await seeded.stop()


def pages(desk: walk.Desk) -> dict[str, list[str]]:
    """Return the pages each role's Indonesian walk opens: the layout walks' pages."""
    return walk.paths_for(desk)


def test_the_indonesian_walk_covers_every_route_of_the_console() -> None:
    """Each route the console's router knows is opened, in Bahasa Indonesia, by some role."""
    walked = [path for paths in pages(walk.Desk(ticket=1, resolved=2, device=3, offline=4,
                                                  session=5, article=6, group=7)).values()
              for path in paths]
    missing = [r.pattern for r in walk.console_routes()
               if not any(r.fullmatch(path) for path in walked)]
    assert not missing, f"routes the Indonesian walk does not open: {missing}"


async def walk_pages(page: Any, paths: list[str]) -> dict[str, list[str]]:
    """Open each page and return the English texts found, by page (empty when none)."""
    leaks = {}
    for path in paths:
        await walk.visit(page, path)
        found = await english_on(page)
        if found:
            leaks[path] = found
    return leaks


# Dialogs opened from a page (route, button): their texts are checked like the pages'.
ADMIN_DIALOGS = [
    ("/admin/users", "Pengguna baru"),
    ("/admin/enrollment", "Token baru"),
    ("/admin/health", "Tambah pemeriksaan"),
    ("/desk/tickets/{ticket}", "Selesaikan\u2026"),
    ("/desk/tickets/{ticket}", "Tautkan perangkat"),
    ("/desk/tickets/{ticket}", "Pintasan papan ketik"),
]


async def walk_dialogs(page: Any, dialogs: list[tuple[str, str]],
                       desk: walk.Desk) -> dict[str, list[str]]:
    """Open each dialog and return the English texts found in the page, by dialog."""
    leaks = {}
    for path, button in dialogs:
        await walk.visit(page, path.format(ticket=desk.ticket))
        await page.get_by_role("button", name=button, exact=True).click()
        await expect(page.get_by_role("dialog")).to_be_visible()
        found = await english_on(page)
        if found:
            leaks[button] = found
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("dialog")).to_have_count(0)
    return leaks


async def role_walk(server: RunningServer, browser: Any, desk: walk.Desk,
                    role: str) -> dict[str, list[str]]:
    """Log in as the role in Bahasa Indonesia, walk its pages; return the English found."""
    username = walk.ROLE_USERS[role]
    async with open_page(browser, server.base_url, locale="id-ID") as page:
        await page.goto("/")
        await expect(page.get_by_role("button", name="Masuk")).to_be_visible()
        leaks = {"login": found} if (found := await english_on(page)) else {}
        await page.get_by_label("Nama pengguna").fill(username)
        await page.get_by_label("Kata sandi").fill(walk.PASSWORDS[username])
        await page.get_by_role("button", name="Masuk").click()
        await expect(page.get_by_role("button", name="Keluar")).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "id"
        leaks |= await walk_pages(page, pages(desk)[role])
        if role == "admin":
            leaks |= await walk_dialogs(page, ADMIN_DIALOGS, desk)
        return leaks


@pytest.mark.asyncio(loop_scope="module")
async def test_console_in_indonesian_shows_no_english_catalogue_text(
        module_server: RunningServer, module_browser: Any, desk: walk.Desk) -> None:
    """With a browser that prefers Bahasa Indonesia, no page of any role's walk (every route it may open) shows or names an English text of the catalogue that Indonesian says differently."""  # noqa: E501
    roles = list(walk.ROLE_USERS)
    # One browser context per role, side by side: each page mostly waits for the console
    # to settle, so the three walks take little longer than the admin's alone.
    found = await asyncio.gather(*(role_walk(module_server, module_browser, desk, role)
                                   for role in roles))
    leaks = [f"{role} {where}: {texts}" for role, role_leaks in zip(roles, found, strict=True)
             for where, texts in role_leaks.items()]
    assert not leaks, "\n".join(leaks)


@pytest.mark.asyncio(loop_scope="module")
async def test_console_in_english_still_speaks_english(
        module_server: RunningServer, module_browser: Any, desk: walk.Desk) -> None:
    """With an English browser the same pages show the English texts, not the Indonesian ones."""
    async with open_page(module_browser, module_server.base_url, locale="en-US") as page:
        await log_in(page, "admin", ADMIN_PASSWORD)
        await page.goto(f"/#/desk/tickets/{desk.ticket}")
        await expect(page.get_by_role("heading", name="Conversation")).to_be_visible()
        await expect(page.locator(".ticket-meta")).to_contain_text("Opened by")
        await page.goto(f"/#/devices/{desk.device}")
        await expect(page.get_by_role("tab", name="Hardware")).to_be_visible()
        await expect(page.locator(".device-line")).to_contain_text("Online")
        assert await page.evaluate("document.documentElement.lang") == "en"
        text = await page.evaluate("document.body.innerText")
        assert "Perangkat" not in text and "Tiket" not in text


async def test_login_page_language_switch_applies_at_once_and_survives_a_reload(
        server: RunningServer, browser: Any) -> None:
    """The login page's language menu, listed from the catalogue files, changes the page and its date formats without a reload and is remembered after one."""  # noqa: E501
    resp = await server.client().get("/api/v1/languages")
    assert resp.status == 200
    listed = {item["code"]: item["name"] for item in resp.json["items"]}
    assert listed == {path.stem: _catalogue(path.stem)["language.name"]
                      for path in LOCALES.glob("*.json")}
    assert resp.json["items"][0]["code"] == "en"

    async with open_page(browser, server.base_url, locale="en-US") as page:
        await page.goto("/")
        await expect(page.get_by_role("heading", name="Log in to the service desk")).to_be_visible()
        menu = page.get_by_label("Language")
        await expect(menu.locator("option")).to_have_count(len(listed))
        await page.get_by_label("User name").fill("admin")
        await page.evaluate("window.__sameDocument = true")
        await menu.select_option("id")
        await expect(page.get_by_role("heading", name=INDONESIAN_TITLE)).to_be_visible()
        assert await page.evaluate("window.__sameDocument") is True  # no reload happened
        await expect(page.get_by_label("Nama pengguna")).to_have_value("admin")
        await expect(page.get_by_label("Bahasa")).to_have_value("id")
        assert await english_on(page) == []
        assert await page.evaluate(FIVE_MINUTES_AGO) == "5 menit yang lalu"

        await page.reload()
        await expect(page.get_by_role("heading", name=INDONESIAN_TITLE)).to_be_visible()
        await page.get_by_label("Bahasa").select_option("en")
        await expect(page.get_by_role("heading", name="Log in to the service desk")).to_be_visible()
        assert await page.evaluate(FIVE_MINUTES_AGO) == "5 minutes ago"


def test_languages_endpoint_lists_each_catalogue_with_its_own_name(tmp_path: Path) -> None:
    """A catalogue file with a language name is a language; one without, or broken, is not."""
    from server.languages import languages

    (tmp_path / "en.json").write_text(json.dumps({"language.name": "English"}), encoding="utf-8")
    (tmp_path / "fr.json").write_text(json.dumps({"language.name": "Fran\u00e7ais"}),
                                      encoding="utf-8")
    (tmp_path / "xx.json").write_text(json.dumps({"nav.desk": "?"}), encoding="utf-8")
    (tmp_path / "yy.json").write_text("{not json", encoding="utf-8")
    assert [(lang.code, lang.name) for lang in languages(tmp_path)] == [
        ("en", "English"), ("fr", "Fran\u00e7ais")]
