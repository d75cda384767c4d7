"""Knowledge-base tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0005 creates them and 0008_kb_search the search queue (the search index itself
is a tantivy index in the data directory). Importing this module registers the tables
on ``metadata``.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.names import folded
from server.db.schema import UTCDateTime, metadata, unique_under

kb_categories = sa.Table(
    "kb_categories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("kb_categories.id", ondelete="CASCADE"),
              nullable=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    # Retired categories keep their articles but are not offered for new ones.
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.UniqueConstraint("parent_id", "name", name="uq_kb_categories_parent_id_name"),
    *unique_under("kb_categories", "parent_id"),
)

kb_articles = sa.Table(
    "kb_articles", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("summary", sa.String(1000), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # The sanitized rendering of body, made once per edit rather than per read.
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("category_id", sa.Integer,
              sa.ForeignKey("kb_categories.id", ondelete="SET NULL"), nullable=True),
    sa.Column("visibility", sa.String(16), nullable=False),  # public or internal
    sa.Column("status", sa.String(16), nullable=False),  # draft, published, archived
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("review_date", sa.Date, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("views", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_kb_articles_status_visibility_id", "status", "visibility", "id"),
    sa.Index("ix_kb_articles_category_id", "category_id"),
)

kb_article_tags = sa.Table(
    "kb_article_tags", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("tag", sa.String(50), primary_key=True, index=True),
)

kb_versions = sa.Table(
    "kb_versions", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("summary", sa.String(1000), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("editor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("restored_from", sa.Integer, nullable=True),
)

kb_ticket_links = sa.Table(
    "kb_ticket_links", metadata,
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True, index=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

kb_feedback = sa.Table(
    "kb_feedback", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("comment", sa.String(2000), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

kb_deflections = sa.Table(
    "kb_deflections", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("query", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_kb_deflections_article_id_id", "article_id", "id"),
)

kb_required_reading = sa.Table(
    "kb_required_reading", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True, index=True),
    sa.Column("assigned_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
)

kb_acknowledgements = sa.Table(
    "kb_acknowledgements", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Articles whose search-index entry is out of date (see server/kb/search.py); rows are
# added in the transaction that changes the article and removed once indexed.
kb_search_queue = sa.Table(
    "kb_search_queue", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, nullable=False),
)
