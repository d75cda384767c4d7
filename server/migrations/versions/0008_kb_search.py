"""Knowledge-base search moves to a tantivy index: a queue of articles to (re)index
replaces the SQLite FTS5 table, and every existing article is queued once.

Revision ID: 0008_kb_search
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_kb_search"
down_revision = "0007_ticket_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_search_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_search_queue")),
    )
    op.execute("INSERT INTO kb_search_queue (article_id) SELECT id FROM kb_articles")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE kb_articles_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE kb_articles_fts USING fts5("
            "title, summary, body, article_id UNINDEXED, tokenize = 'porter unicode61')"
        )
        # The Markdown goes in as it is: 0005's code indexed its plain text, close enough
        # for a downgrade (the next edit of an article re-indexes it properly).
        op.execute("INSERT INTO kb_articles_fts (title, summary, body, article_id) "
                   "SELECT title, summary, body, id FROM kb_articles")
    op.drop_table("kb_search_queue")
