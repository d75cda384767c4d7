"""Markdown rendering: the allow-list keeps formatting and drops every script vector."""

from __future__ import annotations

import re

import pytest

from server.kb.render import to_html, to_text

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x61;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](http://plain.example/tracker.png)",
    "![x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<img src="https://ok.example/a.png" onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=1></circle></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>",
    "<iframe src=https://evil.example></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<object data=https://evil.example/x.swf></object>",
    "<embed src=https://evil.example/x.swf>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onclick="alert(1)">click</div>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<input autofocus onfocus="alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<!-- <script>alert(1)</script> -->",
    "<<script>script>alert(1)<</script>/script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="https://ok.example" target="_blank">x</a>',
    "<div>\n\n<script>alert(1)</script>\n\n</div>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    "<a href='//evil.example'>protocol-relative</a>",
]

_EVENT_ATTR = re.compile(r"<[^>]*\son\w+\s*=", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*(\w+)", re.IGNORECASE)
_URL = re.compile(r"""\s(href|src|action|srcdoc|formaction)\s*=\s*["']?([^"'\s>]*)""",
                  re.IGNORECASE)
ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                "code", "em", "strong", "del", "s", "sub", "sup", "kbd", "ul", "ol", "li",
                "a", "img", "table", "thead", "tbody", "tr", "th", "td", "details", "summary"}


def _assert_safe(html: str) -> None:
    assert not _EVENT_ATTR.search(html), html
    assert {t.lower() for t in _TAG.findall(html)} <= ALLOWED_TAGS, html
    for attr, url in _URL.findall(html):
        lowered = url.lower()
        assert attr.lower() in ("href", "src"), html
        if attr.lower() == "href":
            assert lowered.startswith(("http://", "https://", "mailto:")), html
        else:
            assert lowered.startswith(("https://", "/api/v1/attachments/")), html
    for a in re.findall(r"<a\s[^>]*>", html):
        assert 'rel="noopener noreferrer nofollow"' in a, a


@pytest.mark.parametrize("source", XSS)
def test_xss_corpus_renders_harmless(source: str) -> None:
    """No tag, attribute or URL outside the allow-list survives rendering."""
    html = to_html(source)
    _assert_safe(html)
    assert "<script" not in html.lower() and "onerror" not in html.lower()


def test_markdown_formatting_survives() -> None:
    """Headings, emphasis, code, lists, tables, safe links and images render."""
    html = to_html("# Reset\n\n**Bold** and `code`\n\n- one\n- two\n\n"
                   "| a | b |\n|--:|---|\n| 1 | 2 |\n\n"
                   "[docs](https://docs.example/x) <mailto:help@example.com>\n\n"
                   "![shot](/api/v1/attachments/12) ![ext](https://img.example/a.png)\n\n"
                   "Press <kbd>Ctrl</kbd>")
    for part in ("<h1>Reset</h1>", "<strong>Bold</strong>", "<code>code</code>",
                 "<li>one</li>", "<table>", '<th style="text-align:right">a</th>',
                 '<a href="https://docs.example/x" rel="noopener noreferrer nofollow">',
                 'href="mailto:help@example.com"', 'src="/api/v1/attachments/12"',
                 'src="https://img.example/a.png"', "<kbd>Ctrl</kbd>"):
        assert part in html, (part, html)


def test_plain_text_drops_markup_and_highlight_marks() -> None:
    """The indexed text is readable words without Markdown or the snippet marks."""
    text = to_text("# Title\n\nSome *emph* \u0002x\u0003 [link](https://x.example)\n\n"
                   "```\nfenced code\n```")
    assert text == "Title Some emph x link fenced code"


# Image sources that look like the server's attachments until they are normalised as a
# browser does (WHATWG URL parsing): dot segments, also percent-encoded, backslashes as
# slashes, tabs and newlines removed, and another host.
ESCAPING_IMAGES = [
    "/api/v1/attachments/../kb/articles",
    "/api/v1/attachments/..%2fkb/articles",
    "/api/v1/attachments/%2e%2e/kb/articles",
    "/api/v1/attachments/.%2E/kb/articles",
    "/api/v1/attachments/%2E./kb/articles",
    "/api/v1/attachments/..\\kb/articles",
    "/api/v1/attachments\\..\\..\\auth/session",
    "/api/v1/attachments/.\t./kb/articles",
    "/api/v1/attachments/.\n./kb/articles",
    "/api/v1/attachments/./../../v1/users",
    "/api/v1/attachments/12/../../users",
    "/API/v1/attachments/../kb/articles",
    "/api/v1/attachments/12?next=/api/v1/users",
    "\\\\evil.example/api/v1/attachments/12",
    "/\\evil.example/api/v1/attachments/12",
    " //evil.example/api/v1/attachments/12",
]


@pytest.mark.parametrize("src", ESCAPING_IMAGES)
def test_image_paths_are_checked_after_normalising(src: str) -> None:
    """An image path that leaves /api/v1/attachments/ once normalised is dropped, in raw HTML and in Markdown."""  # noqa: E501
    for source in (f'<img src="{src}" alt="x">', f"![x](<{src}>)"):
        html = to_html(source)
        assert "src=" not in html, (source, html)


def test_attachment_images_are_kept_in_their_normal_form() -> None:
    """A plain attachment path, and one with harmless dot segments, render as the plain path."""
    assert 'src="/api/v1/attachments/12"' in to_html('<img src="/api/v1/attachments/12">')
    assert 'src="/api/v1/attachments/12"' in to_html(
        '<img src="/api/v1/attachments/./7/../12">')
    assert 'src="https://img.example/a.png"' in to_html("![x](https://img.example/a.png)")
