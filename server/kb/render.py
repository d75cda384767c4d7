"""Markdown to sanitized HTML, and to plain text for the search index (pure functions).

markdown-it-py renders CommonMark plus tables; its raw-HTML pass-through stays on so
authors can use harmless tags (``<kbd>``, ``<details>``), and nh3 (ammonia) is the one
security boundary: it keeps an allow-list of tags and attributes and checks every URL.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": True}).enable("table")
# A second parser for the index, with raw HTML off so markup never reaches the text.
_md_text = MarkdownIt("commonmark", {"html": False}).enable("table")

TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "s", "sub", "sup", "kbd", "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
})
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
LINK_SCHEMES = ("http://", "https://", "mailto:")
# Images load without a click, so they are limited to TLS or the server's own files.
IMAGE_PREFIXES = ("https://", "/api/v1/attachments/")
LINK_REL = "noopener noreferrer nofollow"
# Marks the search index uses around matched words; never allowed in indexed text.
MARK_START, MARK_END = "\u0002", "\u0003"
_MARKS = re.compile("[\u0002\u0003]")


def _url_ok(tag: str, attr: str, value: str) -> str | None:
    """Keep a URL attribute only when its scheme (or prefix) is allowed."""
    if tag == "a" and attr == "href":
        return value if value.lower().startswith(LINK_SCHEMES) else None
    if tag == "img" and attr == "src":
        if value.lower().startswith(IMAGE_PREFIXES) and not value.startswith("//"):
            return value
        return None
    return value


def sanitize(html: str) -> str:
    """Return ``html`` with everything outside the allow-list removed."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()},
        attribute_filter=_url_ok,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def to_html(markdown: str) -> str:
    """Render Markdown (CommonMark + tables) to sanitized HTML."""
    return sanitize(_md.render(markdown))


def _texts(tokens: list[Token]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        if token.type in ("text", "code_inline", "code_block", "fence"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "image":
            out.append(" ".join(_texts(token.children or [])))
        elif token.children:
            out.append("".join(_texts(token.children)))
        elif token.block and token.nesting == -1:
            out.append("\n")
    return out


def to_text(markdown: str) -> str:
    """Return the readable text of Markdown, for indexing and snippets."""
    return clean_text(" ".join(_texts(_md_text.parse(markdown))))


def clean_text(text: str) -> str:
    """Remove the search-highlight marks from user text and squeeze whitespace."""
    return re.sub(r"\s+", " ", _MARKS.sub(" ", text)).strip()
