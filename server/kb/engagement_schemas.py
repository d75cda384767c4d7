"""Types for deflection, feedback, statistics, ticket links and required reading."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from server.kb.schemas import ArticleSummary
from server.tickets.schemas import UserRef
from server.users.schemas import Cursor, Limit, Strict


class DeflectionCreate(Strict):
    """"This solved my problem": the text the requester had typed."""

    query: Annotated[str, Meta(max_length=200)] = ""


class Deflection(Struct, kw_only=True):
    """A recorded deflection."""

    id: int
    article_id: int
    user_id: int | None
    query: str
    at: dt.datetime


class FeedbackCreate(Strict):
    """Helpful or not, with an optional comment; sending again changes it."""

    helpful: bool
    comment: Annotated[str, Meta(max_length=2000)] | None = None


class Feedback(Struct, kw_only=True):
    """The caller's feedback on an article."""

    article_id: int
    user_id: int
    helpful: bool
    comment: str | None
    updated_at: dt.datetime


class ArticleStats(Struct, kw_only=True):
    """How one article is used."""

    article_id: int
    title: str
    status: str
    visibility: str
    views: int
    deflections: int
    helpful: int
    not_helpful: int


class StatsQuery(Strict):
    """Page of the statistics."""

    limit: Limit | None = None
    cursor: Cursor | None = None


class StatsPage(Struct, kw_only=True):
    """Usage per article, in id order."""

    items: list[ArticleStats]
    next_cursor: str | None


class LinkedArticles(Struct, kw_only=True):
    """The articles linked to a ticket."""

    items: list[ArticleSummary]


class RequiredReadingCreate(Strict):
    """Make an article required reading for a group's members."""

    group_id: int


class Assignment(Struct, kw_only=True):
    """An article assigned to a group as required reading."""

    article_id: int
    group_id: int
    assigned_at: dt.datetime


class Acknowledgement(Struct, kw_only=True):
    """A user's confirmation that they have read an article."""

    article_id: int
    user_id: int
    version: int
    at: dt.datetime


class PendingArticle(Struct, kw_only=True):
    """An article the caller still has to read."""

    article: ArticleSummary
    group_ids: list[int]


class GroupReading(Struct, kw_only=True):
    """For one group and article: who has read it and who has not."""

    group_id: int
    article_id: int
    title: str
    acknowledged: list[UserRef]
    pending: list[UserRef]


class RequiredReadingQuery(Strict):
    """Narrow the staff overview to one group."""

    group_id: int | None = None


class RequiredReading(Struct, kw_only=True):
    """The caller's pending reading and, for staff, the overview per group and article."""

    mine: list[PendingArticle]
    overview: list[GroupReading] | None
