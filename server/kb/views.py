"""HTTP handlers for articles, their versions, categories, search and suggestions."""

from __future__ import annotations

import asyncio
from typing import Any

from server.api.pagination import INT, OFFSET, decode_cursor, encode_cursor
from server.api.routing import ADMIN, ANY_USER, STAFF, ApiRequest, Router, page_limit
from server.category_tree import CategoryUpdate
from server.db.schema import utcnow
from server.errors import ValidationFailed
from server.kb import store
from server.kb.engagement import count_view
from server.kb.render import to_html
from server.kb.schemas import (
    Article,
    ArticleCreate,
    ArticlePage,
    ArticleQuery,
    ArticleUpdate,
    Category,
    CategoryCreate,
    CategoryList,
    DiffQuery,
    Preview,
    PreviewCreate,
    SearchHit,
    SearchPage,
    SearchQuery,
    Suggestions,
    SuggestQuery,
    Version,
    VersionDiff,
    VersionList,
)
from server.kb.search import SEARCH_INDEX, sync
from server.kb.search_index import SearchIndex
from server.kb.versions import as_document, unified_diff
from server.keys import DATABASE
from server.users import store as audit
from server.users.schemas import to_builtins

router = Router("kb")
AID = r"{article_id:\d{1,18}}"
NUM = r"{number:\d{1,9}}"
SUGGESTIONS = 5


def viewer(req: ApiRequest) -> store.Viewer:
    """Return who is reading, for visibility rules."""
    return store.Viewer(user_id=req.user.user_id, is_staff=req.user.is_staff)


def _clean_title(title: str) -> str:
    clean = title.strip()
    if not clean:
        raise ValidationFailed("title must not be blank")
    return clean


@router.route("GET", "/api/v1/kb/categories", roles=ANY_USER,
              summary="List knowledge-base categories", response=CategoryList)
async def list_kb_categories(req: ApiRequest) -> CategoryList:
    rows = await req.app[DATABASE].read(store.list_categories)
    return CategoryList(items=[Category(id=r.id, parent_id=r.parent_id, name=r.name,
                                        active=r.active) for r in rows])


@router.route("POST", "/api/v1/kb/categories", roles=STAFF,
              summary="Create a knowledge-base category", body=CategoryCreate,
              response=Category, status=201)
async def create_kb_category(req: ApiRequest) -> Category:
    body: CategoryCreate = req.body
    name = body.name.strip()
    if not name:
        raise ValidationFailed("name must not be blank")
    actor = req.user.user_id

    def run(conn: Any) -> int:
        category_id = store.create_category(conn, name, body.parent_id)
        audit.record(conn, actor_id=actor, action="kb_category.create",
                     target_type="kb_category", target_id=category_id, now=utcnow(),
                     name=name)
        return category_id

    category_id = await req.app[DATABASE].write(run)
    return Category(id=category_id, parent_id=body.parent_id, name=name)


@router.route("PATCH", r"/api/v1/kb/categories/{category_id:\d{1,18}}", roles=ADMIN,
              summary="Rename, move or retire a knowledge-base category",
              body=CategoryUpdate, response=Category)
async def update_kb_category(req: ApiRequest) -> Category:
    category_id = int(req.params["category_id"])
    changes = to_builtins(req.body)
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        row, changed = store.update_category(conn, category_id, changes)
        if changed:
            audit.record(conn, actor_id=actor, action="kb_category.update",
                         target_type="kb_category", target_id=category_id, now=utcnow(),
                         **changed)
        return row

    row = await req.app[DATABASE].write(run)
    return Category(id=row.id, parent_id=row.parent_id, name=row.name, active=row.active)


@router.route("POST", "/api/v1/kb/articles", roles=STAFF, summary="Create an article",
              body=ArticleCreate, response=Article, status=201)
async def create_article(req: ApiRequest) -> Article:
    values = to_builtins(req.body)
    values["title"] = _clean_title(values["title"])
    me = viewer(req)

    def run(conn: Any) -> Article:
        article_id = store.create_article(conn, values, editor_id=me.user_id, now=utcnow())
        return store.get_article(conn, article_id, me)

    article = await req.app[DATABASE].write(run)
    await sync(req.app, [article.id])
    return article


@router.route("POST", "/api/v1/kb/preview", roles=STAFF,
              summary="Render Markdown as a saved article would show (changes nothing)",
              body=PreviewCreate, response=Preview)
async def preview(req: ApiRequest) -> Preview:
    body: PreviewCreate = req.body
    return Preview(html=await asyncio.to_thread(to_html, body.body))


@router.route("GET", "/api/v1/kb/articles", roles=ANY_USER, summary="List articles",
              query=ArticleQuery, response=ArticlePage)
async def list_articles(req: ApiRequest) -> ArticlePage:
    q: ArticleQuery = req.query
    after = None
    if q.cursor:
        (after,) = decode_cursor(q.cursor, INT)
    limit = page_limit(req.app, q.limit)
    me = viewer(req)
    items, last = await req.app[DATABASE].read(lambda c: store.list_articles(
        c, me, category_id=q.category_id, tag=q.tag, status=q.status,
        visibility=q.visibility, after=after, limit=limit))
    return ArticlePage(items=items, next_cursor=encode_cursor(last) if last else None)


@router.route("GET", f"/api/v1/kb/articles/{AID}", roles=ANY_USER, summary="Read an article",
              response=Article)
async def get_article(req: ApiRequest) -> Article:
    article_id = int(req.params["article_id"])
    me = viewer(req)
    article = await req.app[DATABASE].read(lambda c: store.get_article(c, article_id, me))
    # One small UPDATE per read; the count shown is the one before this view.
    await req.app[DATABASE].write(lambda c: count_view(c, article_id))
    return article


@router.route("PATCH", f"/api/v1/kb/articles/{AID}", roles=STAFF,
              summary="Edit an article", body=ArticleUpdate, response=Article)
async def update_article(req: ApiRequest) -> Article:
    article_id = int(req.params["article_id"])
    changes = to_builtins(req.body)
    if not changes:
        raise ValidationFailed("nothing to change")
    if "title" in changes:
        changes["title"] = _clean_title(changes["title"])
    me = viewer(req)

    def run(conn: Any) -> Article:
        store.update_article(conn, article_id, changes, editor_id=me.user_id, now=utcnow())
        return store.get_article(conn, article_id, me)

    article = await req.app[DATABASE].write(run)
    await sync(req.app, [article.id])
    return article


@router.route("GET", f"/api/v1/kb/articles/{AID}/versions", roles=STAFF,
              summary="List an article's versions", response=VersionList)
async def list_versions(req: ApiRequest) -> VersionList:
    article_id = int(req.params["article_id"])
    me = viewer(req)

    def run(conn: Any) -> VersionList:
        store.get_row(conn, article_id, me)
        return VersionList(items=store.list_versions(conn, article_id))

    return await req.app[DATABASE].read(run)


@router.route("GET", f"/api/v1/kb/articles/{AID}/versions/{NUM}", roles=STAFF,
              summary="Get a version of an article", response=Version)
async def get_version(req: ApiRequest) -> Version:
    article_id, number = int(req.params["article_id"]), int(req.params["number"])
    me = viewer(req)

    def run(conn: Any) -> Version:
        store.get_row(conn, article_id, me)
        return store.get_version(conn, article_id, number)

    return await req.app[DATABASE].read(run)


@router.route("GET", f"/api/v1/kb/articles/{AID}/diff", roles=STAFF,
              summary="Compare two versions of an article", query=DiffQuery,
              response=VersionDiff)
async def diff_versions(req: ApiRequest) -> VersionDiff:
    article_id = int(req.params["article_id"])
    q: DiffQuery = req.query
    me = viewer(req)

    def run(conn: Any) -> tuple[Version, Version]:
        store.get_row(conn, article_id, me)
        return (store.get_version(conn, article_id, q.from_),
                store.get_version(conn, article_id, q.to))

    old, new = await req.app[DATABASE].read(run)
    text = unified_diff(as_document(old.title, old.summary, old.body),
                        as_document(new.title, new.summary, new.body),
                        old_name=f"version {old.number}", new_name=f"version {new.number}")
    return VersionDiff(from_=old.number, to=new.number, diff=text)


@router.route("POST", f"/api/v1/kb/articles/{AID}/versions/{NUM}/restore", roles=STAFF,
              summary="Restore an old version as a new version", response=Article)
async def restore_version(req: ApiRequest) -> Article:
    article_id, number = int(req.params["article_id"]), int(req.params["number"])
    me = viewer(req)

    def run(conn: Any) -> Article:
        old = store.get_version(conn, article_id, number)
        store.update_article(conn, article_id,
                             {"title": old.title, "summary": old.summary, "body": old.body},
                             editor_id=me.user_id, now=utcnow(), restored_from=number)
        return store.get_article(conn, article_id, me)

    article = await req.app[DATABASE].write(run)
    await sync(req.app, [article.id])
    return article


def _hits(found: list[Any]) -> list[SearchHit]:
    return [SearchHit(article=a, snippet=s) for a, s in found]


def _index(req: ApiRequest) -> SearchIndex:
    return req.app[SEARCH_INDEX]


@router.route("GET", "/api/v1/kb/search", roles=ANY_USER, summary="Search articles",
              query=SearchQuery, response=SearchPage)
async def search_articles(req: ApiRequest) -> SearchPage:
    q: SearchQuery = req.query
    offset = 0
    if q.cursor:
        (offset,) = decode_cursor(q.cursor, OFFSET)
    limit = page_limit(req.app, q.limit, default=20)
    me, index = viewer(req), _index(req)
    found, more = await req.app[DATABASE].read(lambda c: store.search_articles(
        c, index, q.q, me, public_only=False, category_id=q.category_id, tag=q.tag,
        status=q.status, offset=offset, limit=limit))
    return SearchPage(items=_hits(found),
                      next_cursor=encode_cursor(more) if more is not None else None)


@router.route("GET", "/api/v1/kb/suggest", roles=ANY_USER,
              summary="Suggest articles for a ticket being written", query=SuggestQuery,
              response=Suggestions)
async def suggest(req: ApiRequest) -> Suggestions:
    q: SuggestQuery = req.query
    me, index = viewer(req), _index(req)
    found, _ = await req.app[DATABASE].read(lambda c: store.search_articles(
        c, index, q.q, me, public_only=True, category_id=None, tag=None, status=None,
        offset=0, limit=SUGGESTIONS, suggest=True))
    return Suggestions(items=_hits(found))
