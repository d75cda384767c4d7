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
LINK_REL = "noopener noreferrer nofollow"
# Marks the search index uses around matched words; never allowed in indexed text.
MARK_START, MARK_END = "\u0002", "\u0003"
_MARKS = re.compile("[\u0002\u0003]")


# A server image is one attachment, by id: nothing else of the API loads as an image.
_ATTACHMENT_PATH = re.compile(r"/api/v1/attachments/[0-9]{1,18}")
# What a browser's URL parser ignores (WHATWG URL): tabs and newlines anywhere, C0
# controls and spaces at either end.
_URL_IGNORED = re.compile("[\t\n\r]")
_URL_TRIMMED = "".join(chr(c) for c in range(0x21))
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def browser_url(value: str) -> str:
    """Return a URL attribute as a browser reads it: ignored characters removed."""
    return _URL_IGNORED.sub("", value.strip(_URL_TRIMMED))


def normalised_path(value: str) -> str | None:
    """Return the path a browser requests for a relative URL, or None if it names a host.

    Backslashes count as slashes and dot segments are removed, also percent-encoded
    ones (``%2e%2e``), as the WHATWG URL standard does for http(s) URLs; a query or
    fragment is kept out (None).
    """
    path = browser_url(value).replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or "?" in path or "#" in path:
        return None
    segments: list[str] = []
    parts = path.split("/")[1:]
    for i, segment in enumerate(parts):
        lowered = segment.lower()
        last = i == len(parts) - 1
        if lowered in _DOUBLE_DOT:
            if segments:
                segments.pop()
            if last:
                segments.append("")
        elif lowered in _SINGLE_DOT:
            if last:
                segments.append("")
        else:
            segments.append(segment)
    return "/" + "/".join(segments)


def image_src(value: str) -> str | None:
    """Return the source of an image to keep (normalised), or None to drop it.

    Images load without a click: only TLS URLs and the server's own attachments. A path
    is checked as the browser will request it, so ``/api/v1/attachments/../kb`` is
    another endpoint and is dropped.
    """
    url = browser_url(value)
    if url.lower().startswith("https://"):
        return url
    path = normalised_path(url)
    return path if path is not None and _ATTACHMENT_PATH.fullmatch(path) else None


def _url_ok(tag: str, attr: str, value: str) -> str | None:
    """Keep a URL attribute only when its scheme (or prefix) is allowed."""
    if tag == "a" and attr == "href":
        url = browser_url(value)
        return url if url.lower().startswith(LINK_SCHEMES) else None
    if tag == "img" and attr == "src":
        return image_src(value)
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
