"""What of a message goes on the ticket (pure): HTML made text, quoted history split off.

HTML mail becomes plain text with light Markdown (paragraphs, lists, links, emphasis,
quotes); scripts, styles and every tag are dropped, so nothing of the HTML can run in the
console. Replies lose the quoted history and the signature, recognised by
``mail-parser-reply`` (Outlook "From: ... Sent: ..." blocks, "On ... wrote:" lines, "-- "
signatures, "Sent from my ..." lines, in several languages); what was cut is kept apart
as the original, shown collapsed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

BODY_MAX = 100_000  # characters of a message kept in a ticket or comment
_LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "sv", "da", "pl", "cs"]
_BLOCK = frozenset({"p", "div", "section", "article", "header", "footer", "table", "tr",
                    "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                    "hr", "center", "address"})
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg",
                   "object", "iframe", "xml"})
_LINKABLE = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
# Phone and webmail one-liners that end a reply without a "-- " separator.
_SENT_FROM = re.compile(r"^\s*(sent from my|sent from (outlook|mail) for|get outlook for|"
                        r"dikirim dari)\b.*$", re.IGNORECASE | re.MULTILINE)


class _Text(HTMLParser):
    """Collect the text of an HTML document, with Markdown for its structure."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0
        self.href: list[str | None] = []
        self.lists: list[str] = []

    def _newline(self, count: int = 1) -> None:
        self.out.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if tag == "br":
            self._newline()
        elif tag in _BLOCK:
            self._newline(2)
            if tag == "blockquote":
                self.quote += 1
            elif tag == "pre":
                self.pre += 1
            elif tag in ("ul", "ol"):
                self.lists.append(tag)
            elif tag[0] == "h" and tag[1:].isdigit():
                self.out.append("#" * int(tag[1:]) + " ")
            elif tag == "hr":
                self.out.append("---")
        elif tag == "li":
            self._newline()
            self.out.append("- " if not self.lists or self.lists[-1] == "ul" else "1. ")
        elif tag in ("b", "strong"):
            self.out.append("**")
        elif tag in ("i", "em"):
            self.out.append("_")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.href.append(href if _LINKABLE.match(href) else None)
            if self.href[-1]:
                self.out.append("[")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in _BLOCK:
            self._newline(2)
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
        elif tag in ("b", "strong"):
            self.out.append("**")
        elif tag in ("i", "em"):
            self.out.append("_")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href:
                self.out.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        if self.quote:
            data = data.replace("\n", "\n> ")
            if not self.out or self.out[-1].endswith("\n"):
                data = "> " * self.quote + data.lstrip()
        self.out.append(data)


def html_to_text(source: str) -> str:
    """Return the text of an HTML body, with Markdown for paragraphs, lists and links."""
    parser = _Text()
    try:
        parser.feed(source)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last resort
        return html.unescape(re.sub(r"<[^>]*>", " ", source))
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Reply:
    """A reply split in what the sender wrote now and what they quoted or signed."""

    visible: str
    original: str  # quoted history and signature ('' when nothing was cut)


def split_reply(text: str) -> Reply:
    """Return a reply's own text apart from its quoted history and signature."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return Reply("", "")
    try:
        parsed = EmailReplyParser(languages=_LANGUAGES).read(text)
        first = parsed.replies[0].body if parsed.replies else text
    except Exception:  # the parser is heuristics: never lose the text for it
        first = text
    visible = _SENT_FROM.split(first, maxsplit=1)[0].strip() if first else ""
    if not visible:  # all of it looked quoted (say, a bare forward): keep it whole
        return Reply(text, "")
    # What was cut: the lines after the last one of the visible part (the parser
    # normalises spacing, so lines are matched stripped, in order).
    kept = [line.strip() for line in visible.splitlines() if line.strip()]
    lines = text.splitlines()
    matched = 0
    position = len(lines)
    for index, line in enumerate(lines):
        if matched < len(kept) and line.strip() == kept[matched]:
            matched += 1
            if matched == len(kept):
                position = index + 1
                break
    original = "\n".join(lines[position:]).strip() if matched == len(kept) else text
    if original == text and visible == text:
        original = ""
    return Reply(visible[:BODY_MAX], original[:BODY_MAX])


def body_text(text: str, html_body: str | None) -> str:
    """Return the text of a message: its plain part, or its HTML made text."""
    if text.strip():
        return text.replace("\r\n", "\n").strip()[:BODY_MAX]
    if html_body:
        return html_to_text(html_body)[:BODY_MAX]
    return ""
