"""Request and response types for the knowledge base (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from server.tickets.schemas import Tag, Tags, UserRef
from server.users.schemas import Cursor, Limit, Strict

Visibility = Annotated[Literal["public", "internal"], Meta(
    description="public articles are shown to requesters once published")]
ArticleStatus = Literal["draft", "published", "archived"]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Summary = Annotated[str, Meta(max_length=1000)]
Body = Annotated[str, Meta(max_length=100_000, description="Markdown (CommonMark + tables)")]
SearchText = Annotated[str, Meta(min_length=1, max_length=200)]
Number = Annotated[int, Meta(ge=1, le=1_000_000)]
SNIPPET_HELP = ("plain text; matched words are wrapped in U+0002 (start) and U+0003 (end) "
                "— escape the text, then turn the marks into highlighting")


class Category(Struct, kw_only=True):
    """A node of the knowledge-base category tree."""

    id: int
    parent_id: int | None
    name: str
    active: bool = True


class CategoryCreate(Strict):
    """A new knowledge-base category."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    parent_id: int | None = None


class CategoryList(Struct, kw_only=True):
    """All knowledge-base categories."""

    items: list[Category]


class Article(Struct, kw_only=True):
    """An article as the API shows it, with its body rendered to sanitized HTML."""

    id: int
    title: str
    summary: str
    body: str
    body_html: str
    category_id: int | None
    tags: list[str]
    visibility: Literal["public", "internal"]
    status: ArticleStatus
    owner: UserRef | None
    review_date: dt.date | None
    version: int
    views: int
    created_at: dt.datetime
    updated_at: dt.datetime
    linked_ticket_ids: list[int] | None = None  # staff only


class ArticleSummary(Struct, kw_only=True):
    """An article in a list, without its body."""

    id: int
    title: str
    summary: str
    category_id: int | None
    tags: list[str]
    visibility: Literal["public", "internal"]
    status: ArticleStatus
    version: int
    updated_at: dt.datetime


class ArticleCreate(Strict):
    """A new article; technicians and admins write them."""

    title: Title
    summary: Summary = ""
    body: Body = ""
    category_id: int | None = None
    tags: Tags = []
    visibility: Visibility = "internal"
    status: ArticleStatus = "draft"
    owner_id: int | None = None
    review_date: dt.date | None = None


class ArticleUpdate(Strict):
    """Changes to an article; a change of title, summary or body makes a new version."""

    title: Title | UnsetType = UNSET
    summary: Summary | UnsetType = UNSET
    body: Body | UnsetType = UNSET
    category_id: int | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET
    visibility: Visibility | UnsetType = UNSET
    status: ArticleStatus | UnsetType = UNSET
    owner_id: int | UnsetType | None = UNSET
    review_date: dt.date | UnsetType | None = UNSET


class ArticlePage(Struct, kw_only=True):
    """One page of articles, newest first."""

    items: list[ArticleSummary]
    next_cursor: str | None


class ArticleQuery(Strict):
    """Filters and page of the article list."""

    category_id: int | None = None
    tag: Tag | None = None
    status: ArticleStatus | None = None
    visibility: Literal["public", "internal"] | None = None
    limit: Limit | None = None
    cursor: Cursor | None = None


class Version(Struct, kw_only=True):
    """One stored version of an article."""

    number: int
    title: str
    summary: str
    body: str
    editor: UserRef | None
    created_at: dt.datetime
    restored_from: int | None


class VersionInfo(Struct, kw_only=True):
    """A version in the history list, without its text."""

    number: int
    title: str
    editor: UserRef | None
    created_at: dt.datetime
    restored_from: int | None


class VersionList(Struct, kw_only=True):
    """An article's versions, newest first."""

    items: list[VersionInfo]


class DiffQuery(Strict):
    """Which two versions to compare."""

    from_: Number = msgspec.field(name="from")
    to: Number


class VersionDiff(Struct, kw_only=True, rename={"from_": "from"}):
    """A unified diff between two versions (title, summary and body)."""

    from_: int
    to: int
    diff: str


class SearchHit(Struct, kw_only=True):
    """An article found by search, with a highlighted snippet."""

    article: ArticleSummary
    snippet: Annotated[str, Meta(description=SNIPPET_HELP)]


class SearchPage(Struct, kw_only=True):
    """One page of search results, best match first."""

    items: list[SearchHit]
    next_cursor: str | None


class SearchQuery(Strict):
    """Words to find, filters and page."""

    q: SearchText
    category_id: int | None = None
    tag: Tag | None = None
    status: ArticleStatus | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] | None = None
    cursor: Cursor | None = None


class PreviewCreate(Strict):
    """Markdown to render as the article page would show it."""

    body: Body


class Preview(Struct, kw_only=True):
    """Sanitized HTML of a Markdown body (the same rendering as a saved article)."""

    html: str


class SuggestQuery(Strict):
    """What the requester has typed so far."""

    q: SearchText


class Suggestions(Struct, kw_only=True):
    """Up to five public, published articles matching the text."""

    items: list[SearchHit]
