"""SQL for articles, their categories, tags and versions (functions over a Connection)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server import category_tree
from server.db.names import fold, fold_tags
from server.db.schema import users
from server.errors import NotFound, ValidationFailed
from server.i18n.messages import N_
from server.kb import search
from server.kb.render import to_html
from server.kb.schemas import Article, ArticleSummary, Version, VersionInfo
from server.kb.search_index import Filters, SearchIndex
from server.kb.search_query import parse
from server.kb.tables import (
    kb_article_tags,
    kb_articles,
    kb_categories,
    kb_ticket_links,
    kb_versions,
)
from server.tickets.schemas import UserRef

CONTENT = ("title", "summary", "body")
MAX_HITS = 2000  # how deep search results page


@dataclass(frozen=True)
class Viewer:
    """Who reads: staff see every article, requesters only public published ones."""

    user_id: int
    is_staff: bool


def visible(viewer: Viewer) -> Any:
    """Return the condition on kb_articles for what ``viewer`` may see."""
    if viewer.is_staff:
        return sa.true()
    return sa.and_(kb_articles.c.status == "published", kb_articles.c.visibility == "public")


def public_published() -> Any:
    """Return the condition for articles anyone may be shown (suggestions)."""
    return sa.and_(kb_articles.c.status == "published", kb_articles.c.visibility == "public")


def get_row(conn: Connection, article_id: int, viewer: Viewer) -> Any:
    """Return an article row the viewer may see.

    Raises:
        NotFound: no such article, or the viewer may not know it exists.
    """
    row = conn.execute(sa.select(kb_articles).where(
        kb_articles.c.id == article_id, visible(viewer))).one_or_none()
    if row is None:
        raise NotFound("no article with id {article_id}", article_id=article_id)
    return row


def _user_refs(conn: Connection, ids: set[int]) -> dict[int, UserRef]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(users.c.id, users.c.display_name)
                        .where(users.c.id.in_(sorted(ids))))
    return {r.id: UserRef(id=r.id, display_name=r.display_name) for r in rows}


def _tags_of(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        for aid, tag in conn.execute(sa.select(kb_article_tags.c.article_id,
                                               kb_article_tags.c.tag)
                                     .where(kb_article_tags.c.article_id.in_(ids))
                                     .order_by(kb_article_tags.c.tag)):
            tags[aid].append(tag)
    return tags


def summaries(conn: Connection, rows: list[Any]) -> list[ArticleSummary]:
    """Return list entries for article rows, in the given order."""
    tags = _tags_of(conn, [r.id for r in rows])
    return [ArticleSummary(id=r.id, title=r.title, summary=r.summary,
                           category_id=r.category_id, tags=tags[r.id],
                           visibility=r.visibility, status=r.status, version=r.version,
                           updated_at=r.updated_at) for r in rows]


def get_article(conn: Connection, article_id: int, viewer: Viewer) -> Article:
    """Return one article as the viewer may see it.

    Raises:
        NotFound: no such article, or not visible to the viewer.
    """
    r = get_row(conn, article_id, viewer)
    links = None
    if viewer.is_staff:
        links = [t for (t,) in conn.execute(
            sa.select(kb_ticket_links.c.ticket_id).where(
                kb_ticket_links.c.article_id == article_id)
            .order_by(kb_ticket_links.c.ticket_id))]
    owner = _user_refs(conn, {r.owner_id} if r.owner_id is not None else set())
    return Article(id=r.id, title=r.title, summary=r.summary, body=r.body,
                   body_html=r.body_html, category_id=r.category_id,
                   tags=_tags_of(conn, [r.id])[r.id], visibility=r.visibility,
                   status=r.status, owner=owner.get(r.owner_id) if r.owner_id else None,
                   review_date=r.review_date, version=r.version, views=r.views,
                   created_at=r.created_at, updated_at=r.updated_at,
                   linked_ticket_ids=links)


def check_refs(conn: Connection, *, category_id: int | None = None,
               owner_id: int | None = None) -> None:
    """Refuse references to rows that do not exist (422 naming the field)."""
    category_tree.check_usable(conn, kb_categories, category_id,
                               what=N_("knowledge-base category"))
    if owner_id is not None and conn.execute(sa.select(users.c.id).where(
            users.c.id == owner_id, users.c.active.is_(True),
            users.c.role.in_(("admin", "technician")))).first() is None:
        raise ValidationFailed("owner_id: no active technician or admin with id {owner_id}",
                               owner_id=owner_id)


def _set_tags(conn: Connection, article_id: int, tags: list[str]) -> None:
    conn.execute(kb_article_tags.delete().where(kb_article_tags.c.article_id == article_id))
    clean = fold_tags(tags)
    if clean:
        conn.execute(kb_article_tags.insert(),
                     [{"article_id": article_id, "tag": t} for t in clean])


def _add_version(conn: Connection, article_id: int, number: int, *, title: str,
                 summary: str, body: str, editor_id: int | None, now: dt.datetime,
                 restored_from: int | None = None) -> None:
    conn.execute(kb_versions.insert().values(
        article_id=article_id, number=number, title=title, summary=summary, body=body,
        editor_id=editor_id, created_at=now, restored_from=restored_from))


def create_article(conn: Connection, values: dict[str, Any], *, editor_id: int,
                   now: dt.datetime) -> int:
    """Insert an article and its first version; return its id.

    Raises:
        ValidationFailed: a bad category or owner.
    """
    owner_id = values.get("owner_id") or editor_id
    check_refs(conn, category_id=values.get("category_id"), owner_id=owner_id)
    article_id = int(conn.execute(kb_articles.insert().values(
        title=values["title"], summary=values["summary"], body=values["body"],
        body_html=to_html(values["body"]), category_id=values.get("category_id"),
        visibility=values["visibility"], status=values["status"], owner_id=owner_id,
        review_date=values.get("review_date"), version=1, views=0, created_at=now,
        updated_at=now)).inserted_primary_key[0])  # type: ignore[index]
    _set_tags(conn, article_id, values.get("tags", []))
    _add_version(conn, article_id, 1, title=values["title"], summary=values["summary"],
                 body=values["body"], editor_id=editor_id, now=now)
    search.queue(conn, [article_id])
    return article_id


def update_article(conn: Connection, article_id: int, changes: dict[str, Any], *,
                   editor_id: int, now: dt.datetime,
                   restored_from: int | None = None) -> bool:
    """Apply changes; a new title, summary or body stores a new version.

    Returns whether anything changed.

    Raises:
        NotFound: no such article.
        ValidationFailed: a bad category or owner.
    """
    row = get_row(conn, article_id, Viewer(user_id=editor_id, is_staff=True))
    # Keeping a category that was retired since is fine; choosing one anew is not.
    new_category = changes.get("category_id")
    check_refs(conn, category_id=new_category if new_category != row.category_id else None,
               owner_id=changes.get("owner_id"))
    values = {k: v for k, v in changes.items()
              if k != "tags" and getattr(row, k) != v}
    tags_changed = False
    if "tags" in changes:
        before = _tags_of(conn, [article_id])[article_id]
        after = fold_tags(changes["tags"])
        if before != after:
            _set_tags(conn, article_id, after)
            tags_changed = True
    if not values and not tags_changed:
        return False
    if any(k in values for k in CONTENT):
        content = {k: values.get(k, getattr(row, k)) for k in CONTENT}
        values["version"] = row.version + 1
        if "body" in values:
            values["body_html"] = to_html(values["body"])
        _add_version(conn, article_id, row.version + 1, editor_id=editor_id, now=now,
                     restored_from=restored_from, **content)
    # Status, visibility, category and tags are search filters: any change re-indexes.
    search.queue(conn, [article_id])
    conn.execute(kb_articles.update().where(kb_articles.c.id == article_id)
                 .values(**values, updated_at=now))
    return True


def list_articles(conn: Connection, viewer: Viewer, *, category_id: int | None,
                  tag: str | None, status: str | None, visibility: str | None,
                  after: int | None, limit: int) -> tuple[list[ArticleSummary], int | None]:
    """Return a page of articles, newest first, and the id to continue after."""
    query = sa.select(kb_articles).where(visible(viewer))
    for column, value in ((kb_articles.c.category_id, category_id),
                          (kb_articles.c.status, status),
                          (kb_articles.c.visibility, visibility)):
        if value is not None:
            query = query.where(column == value)
    if tag is not None:
        query = query.where(kb_articles.c.id.in_(sa.select(kb_article_tags.c.article_id)
                                                 .where(kb_article_tags.c.tag == fold(tag))))
    if after is not None:
        query = query.where(kb_articles.c.id < after)
    rows = list(conn.execute(query.order_by(kb_articles.c.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return summaries(conn, rows), rows[-1].id if more and rows else None


def search_articles(conn: Connection, index: SearchIndex, text: str, viewer: Viewer, *,
                    public_only: bool, category_id: int | None, tag: str | None,
                    status: str | None, offset: int, limit: int,
                    suggest: bool = False) -> tuple[list[tuple[ArticleSummary, str]],
                                                    int | None]:
    """Return a page of (article, snippet) best match first, and the offset to continue.

    Search needs every word; ``suggest`` (text a requester is typing into a ticket)
    needs any word but the most common ones, ranked by how many match and how well.

    The index ranks and filters; the rows are then read with the same visibility rule,
    so an index that lags behind an edit can hide an article but never show one the
    viewer may not see.
    """
    clauses = parse(text, index.analyze, skip_stop_words=suggest)
    if not clauses or offset >= MAX_HITS:
        return [], None
    filters = Filters(public_only=public_only or not viewer.is_staff, status=status,
                      category_id=category_id, tag=tag)
    hits = index.search(clauses, filters, offset=offset, limit=limit + 1, any_clause=suggest,
                        snippet_limit=limit)
    more = len(hits) > limit
    hits = hits[:limit]
    ids = [h[0] for h in hits]
    query = sa.select(kb_articles).where(
        kb_articles.c.id.in_(ids), public_published() if public_only else visible(viewer))
    for column, value in ((kb_articles.c.category_id, category_id),
                          (kb_articles.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    rows = {r.id: r for r in conn.execute(query)} if ids else {}
    ordered = [rows[i] for i in ids if i in rows]
    snips = {aid: s.get("body") or s.get("summary") for aid, _, s in hits}
    found = list(zip(summaries(conn, ordered),
                     [snips[r.id] or r.summary or r.title for r in ordered], strict=True))
    return found, offset + limit if more and offset + limit < MAX_HITS else None


def _version(row: Any, refs: dict[int, UserRef]) -> Version:
    return Version(number=row.number, title=row.title, summary=row.summary, body=row.body,
                   editor=refs.get(row.editor_id) if row.editor_id else None,
                   created_at=row.created_at, restored_from=row.restored_from)


def list_versions(conn: Connection, article_id: int) -> list[VersionInfo]:
    """Return an article's versions, newest first."""
    rows = list(conn.execute(sa.select(kb_versions).where(
        kb_versions.c.article_id == article_id).order_by(kb_versions.c.number.desc())))
    refs = _user_refs(conn, {r.editor_id for r in rows if r.editor_id is not None})
    return [VersionInfo(number=r.number, title=r.title,
                        editor=refs.get(r.editor_id) if r.editor_id else None,
                        created_at=r.created_at, restored_from=r.restored_from)
            for r in rows]


def get_version(conn: Connection, article_id: int, number: int) -> Version:
    """Return one version of an article.

    Raises:
        NotFound: no such version.
    """
    row = conn.execute(sa.select(kb_versions).where(
        kb_versions.c.article_id == article_id,
        kb_versions.c.number == number)).one_or_none()
    if row is None:
        raise NotFound("article {article_id} has no version {number}", article_id=article_id,
                       number=number)
    refs = _user_refs(conn, {row.editor_id} if row.editor_id is not None else set())
    return _version(row, refs)


def list_categories(conn: Connection) -> list[Any]:
    """Return all knowledge-base categories ordered by name."""
    return list(conn.execute(sa.select(kb_categories).order_by(kb_categories.c.name,
                                                               kb_categories.c.id)))


def create_category(conn: Connection, name: str, parent_id: int | None) -> int:
    """Insert a category.

    Raises:
        ValidationFailed: the parent does not exist or is retired.
        Conflict: the name is taken under it (compared case-folded).
    """
    return category_tree.create(conn, kb_categories, name, parent_id)


def update_category(conn: Connection, category_id: int,
                    changes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Rename, move or retire a category; return (its row, what changed).

    Raises:
        NotFound, ValidationFailed, Conflict: see :func:`server.category_tree.update`.
    """
    changed = category_tree.update(conn, kb_categories, category_id, changes)
    row = conn.execute(sa.select(kb_categories)
                       .where(kb_categories.c.id == category_id)).one()
    return row, changed
