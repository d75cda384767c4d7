"""Tickets: each full-text document takes its timeline event's id as rowid.

A ticket's title and description are the document of its "created" event; a reply's
document is its own event's. So a document is found by rowid (no scan of the index when a
title changes), and rowid order is time order, which search uses to bound its candidates.

Revision ID: 0007_ticket_indexes
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0007_ticket_indexes"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TEMP TABLE fts_docs AS "
               "SELECT title, body, ticket_id, event_id, public FROM tickets_fts")
    op.execute("DELETE FROM tickets_fts")
    op.execute(
        "INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, public) "
        "SELECT coalesce(d.event_id, (SELECT min(e.id) FROM ticket_events e "
        "WHERE e.ticket_id = d.ticket_id)), d.title, d.body, d.ticket_id, d.event_id, d.public "
        "FROM fts_docs d")
    op.execute("DROP TABLE fts_docs")


def downgrade() -> None:
    pass  # rowids mean nothing to the previous revision's code
