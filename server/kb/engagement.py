"""SQL for deflections, feedback, views, statistics, ticket links and required reading."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import group_members, groups, users
from server.errors import NotFound, ValidationFailed
from server.kb.engagement_schemas import (
    Acknowledgement,
    ArticleStats,
    Assignment,
    Deflection,
    Feedback,
    GroupReading,
    PendingArticle,
)
from server.kb.store import Viewer, summaries, visible
from server.kb.tables import (
    kb_acknowledgements,
    kb_articles,
    kb_deflections,
    kb_feedback,
    kb_required_reading,
    kb_ticket_links,
)
from server.tickets.schemas import UserRef


def count_view(conn: Connection, article_id: int) -> None:
    """Count one view of an article."""
    conn.execute(kb_articles.update().where(kb_articles.c.id == article_id)
                 .values(views=kb_articles.c.views + 1))


def deflect(conn: Connection, article_id: int, *, user_id: int, query: str,
            now: dt.datetime) -> Deflection:
    """Record that an article solved the user's problem before they filed a ticket."""
    deflection_id = int(conn.execute(kb_deflections.insert().values(
        article_id=article_id, user_id=user_id, query=query, at=now))
        .inserted_primary_key[0])  # type: ignore[index]
    return Deflection(id=deflection_id, article_id=article_id, user_id=user_id, query=query,
                      at=now)


def give_feedback(conn: Connection, article_id: int, *, user_id: int, helpful: bool,
                  comment: str | None, now: dt.datetime) -> Feedback:
    """Store or change the user's one feedback on an article."""
    where = (kb_feedback.c.article_id == article_id, kb_feedback.c.user_id == user_id)
    if conn.execute(sa.select(kb_feedback.c.user_id).where(*where)).first() is None:
        conn.execute(kb_feedback.insert().values(article_id=article_id, user_id=user_id,
                                                 helpful=helpful, comment=comment,
                                                 updated_at=now))
    else:
        conn.execute(kb_feedback.update().where(*where).values(
            helpful=helpful, comment=comment, updated_at=now))
    return Feedback(article_id=article_id, user_id=user_id, helpful=helpful,
                    comment=comment, updated_at=now)


def stats(conn: Connection, *, after: int | None, limit: int,
          ) -> tuple[list[ArticleStats], int | None]:
    """Return views, deflections and feedback counts per article, in id order."""
    deflections = (sa.select(kb_deflections.c.article_id, sa.func.count().label("n"))
                   .group_by(kb_deflections.c.article_id).subquery())
    feedback = (sa.select(
        kb_feedback.c.article_id,
        sa.func.sum(sa.case((kb_feedback.c.helpful.is_(True), 1), else_=0)).label("yes"),
        sa.func.sum(sa.case((kb_feedback.c.helpful.is_(False), 1), else_=0)).label("no"))
        .group_by(kb_feedback.c.article_id).subquery())
    query = (sa.select(kb_articles.c.id, kb_articles.c.title, kb_articles.c.status,
                       kb_articles.c.visibility, kb_articles.c.views,
                       sa.func.coalesce(deflections.c.n, 0).label("deflections"),
                       sa.func.coalesce(feedback.c.yes, 0).label("helpful"),
                       sa.func.coalesce(feedback.c.no, 0).label("not_helpful"))
             .outerjoin(deflections, deflections.c.article_id == kb_articles.c.id)
             .outerjoin(feedback, feedback.c.article_id == kb_articles.c.id))
    if after is not None:
        query = query.where(kb_articles.c.id > after)
    rows = list(conn.execute(query.order_by(kb_articles.c.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [ArticleStats(article_id=r.id, title=r.title, status=r.status,
                          visibility=r.visibility, views=r.views,
                          deflections=int(r.deflections), helpful=int(r.helpful),
                          not_helpful=int(r.not_helpful)) for r in rows]
    return items, rows[-1].id if more and rows else None


def link_ticket(conn: Connection, ticket_id: int, article_id: int, *, actor_id: int,
                now: dt.datetime) -> bool:
    """Link an article to a ticket; return False if it already was."""
    exists = conn.execute(sa.select(kb_ticket_links.c.ticket_id).where(
        kb_ticket_links.c.ticket_id == ticket_id,
        kb_ticket_links.c.article_id == article_id)).first()
    if exists is not None:
        return False
    conn.execute(kb_ticket_links.insert().values(ticket_id=ticket_id, article_id=article_id,
                                                 created_by=actor_id, created_at=now))
    return True


def unlink_ticket(conn: Connection, ticket_id: int, article_id: int) -> None:
    """Remove the link between a ticket and an article.

    Raises:
        NotFound: they were not linked.
    """
    removed = conn.execute(kb_ticket_links.delete().where(
        kb_ticket_links.c.ticket_id == ticket_id,
        kb_ticket_links.c.article_id == article_id)).rowcount
    if not removed:
        raise NotFound("article {article_id} is not linked to ticket {ticket_id}",
                       article_id=article_id, ticket_id=ticket_id)


def linked_articles(conn: Connection, ticket_id: int, viewer: Viewer) -> list[Any]:
    """Return the rows of the articles linked to a ticket that the viewer may see."""
    return list(conn.execute(sa.select(kb_articles).where(
        kb_articles.c.id.in_(sa.select(kb_ticket_links.c.article_id).where(
            kb_ticket_links.c.ticket_id == ticket_id)), visible(viewer))
        .order_by(kb_articles.c.id)))


def assign_reading(conn: Connection, article_id: int, group_id: int, *, actor_id: int,
                   now: dt.datetime) -> Assignment:
    """Make a published article required reading for a group (again: no change).

    Raises:
        ValidationFailed: no such group, or the article is not published.
    """
    if conn.execute(sa.select(groups.c.id).where(groups.c.id == group_id)).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}", group_id=group_id)
    status = conn.execute(sa.select(kb_articles.c.status)
                          .where(kb_articles.c.id == article_id)).scalar_one()
    if status != "published":
        raise ValidationFailed("only a published article can be required reading; this "
                               "one is {status}", code="invalid_transition", status=status)
    row = conn.execute(sa.select(kb_required_reading).where(
        kb_required_reading.c.article_id == article_id,
        kb_required_reading.c.group_id == group_id)).one_or_none()
    if row is None:
        conn.execute(kb_required_reading.insert().values(
            article_id=article_id, group_id=group_id, assigned_by=actor_id, assigned_at=now))
        return Assignment(article_id=article_id, group_id=group_id, assigned_at=now)
    return Assignment(article_id=article_id, group_id=group_id, assigned_at=row.assigned_at)


def unassign_reading(conn: Connection, article_id: int, group_id: int) -> None:
    """Stop requiring an article for a group.

    Raises:
        NotFound: it was not required for that group.
    """
    removed = conn.execute(kb_required_reading.delete().where(
        kb_required_reading.c.article_id == article_id,
        kb_required_reading.c.group_id == group_id)).rowcount
    if not removed:
        raise NotFound("article {article_id} is not required reading for group {group_id}",
                       article_id=article_id, group_id=group_id)


def _my_groups(conn: Connection, user_id: int) -> list[int]:
    return [g for (g,) in conn.execute(sa.select(group_members.c.group_id).where(
        group_members.c.user_id == user_id))]


def acknowledge(conn: Connection, article_id: int, *, user_id: int, version: int,
                now: dt.datetime) -> Acknowledgement:
    """Record that the user has read an article required for one of their groups.

    Raises:
        ValidationFailed: the article is not required reading for the user.
    """
    required = conn.execute(sa.select(kb_required_reading.c.group_id).where(
        kb_required_reading.c.article_id == article_id,
        kb_required_reading.c.group_id.in_(_my_groups(conn, user_id)))).first()
    if required is None:
        raise ValidationFailed("article {article_id} is not required reading for you",
                               code="not_required", article_id=article_id)
    where = (kb_acknowledgements.c.article_id == article_id,
             kb_acknowledgements.c.user_id == user_id)
    if conn.execute(sa.select(kb_acknowledgements.c.user_id).where(*where)).first() is None:
        conn.execute(kb_acknowledgements.insert().values(
            article_id=article_id, user_id=user_id, version=version, at=now))
    else:
        conn.execute(kb_acknowledgements.update().where(*where).values(version=version,
                                                                       at=now))
    return Acknowledgement(article_id=article_id, user_id=user_id, version=version, at=now)


def pending_for(conn: Connection, viewer: Viewer) -> list[PendingArticle]:
    """Return the published articles the viewer must read and has not acknowledged."""
    my_groups = _my_groups(conn, viewer.user_id)
    if not my_groups:
        return []
    rows = list(conn.execute(
        sa.select(kb_required_reading.c.group_id, kb_articles)
        .join(kb_articles, kb_articles.c.id == kb_required_reading.c.article_id)
        .where(kb_required_reading.c.group_id.in_(my_groups),
               kb_articles.c.status == "published", visible(viewer),
               kb_articles.c.id.not_in(sa.select(kb_acknowledgements.c.article_id).where(
                   kb_acknowledgements.c.user_id == viewer.user_id)))
        .order_by(kb_articles.c.id, kb_required_reading.c.group_id)))
    groups_of: dict[int, list[int]] = defaultdict(list)
    first: dict[int, Any] = {}
    for row in rows:
        groups_of[row.id].append(row.group_id)
        first.setdefault(row.id, row)
    articles = summaries(conn, list(first.values()))
    return [PendingArticle(article=a, group_ids=groups_of[a.id]) for a in articles]


def overview(conn: Connection, *, group_id: int | None) -> list[GroupReading]:
    """Return, per group and required article, who has acknowledged it and who has not."""
    query = (sa.select(kb_required_reading.c.group_id, kb_articles.c.id, kb_articles.c.title)
             .join(kb_articles, kb_articles.c.id == kb_required_reading.c.article_id)
             .order_by(kb_required_reading.c.group_id, kb_articles.c.id))
    if group_id is not None:
        query = query.where(kb_required_reading.c.group_id == group_id)
    assignments = list(conn.execute(query))
    if not assignments:
        return []
    group_ids = sorted({a.group_id for a in assignments})
    article_ids = sorted({a.id for a in assignments})
    members: dict[int, list[UserRef]] = defaultdict(list)
    for gid, uid, name in conn.execute(
            sa.select(group_members.c.group_id, users.c.id, users.c.display_name)
            .join(users, users.c.id == group_members.c.user_id)
            .where(group_members.c.group_id.in_(group_ids), users.c.active.is_(True))
            .order_by(users.c.id)):
        members[gid].append(UserRef(id=uid, display_name=name))
    read = {(a, u) for a, u in conn.execute(
        sa.select(kb_acknowledgements.c.article_id, kb_acknowledgements.c.user_id)
        .where(kb_acknowledgements.c.article_id.in_(article_ids)))}
    return [GroupReading(
        group_id=a.group_id, article_id=a.id, title=a.title,
        acknowledged=[m for m in members[a.group_id] if (a.id, m.id) in read],
        pending=[m for m in members[a.group_id] if (a.id, m.id) not in read],
    ) for a in assignments]
