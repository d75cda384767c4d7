"""Tickets: a partial index for open tickets by priority; FTS rowids are event ids.

The queue's first screen, open tickets by priority, reads ix_tickets_open_priority_id in
order and stops after a page, instead of sorting every open ticket after the cursor.

A ticket's title and description are the document of its "created" event; a reply's
document is its own event's. So a document is found by rowid (no scan of the index when a
title changes), and rowid order is time order, which search uses to bound its candidates.

Revision ID: 0007_ticket_indexes
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import OPEN_STATUSES_SQL

revision = "0007_ticket_indexes"
down_revision = "0006_sla"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_open_priority_id", "tickets", ["priority", "id"], unique=False,
                    sqlite_where=sa.text(OPEN_STATUSES_SQL),
                    postgresql_where=sa.text(OPEN_STATUSES_SQL))
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
    # FTS rowids mean nothing to the previous revision's code: they stay.
    op.drop_index("ix_tickets_open_priority_id", table_name="tickets")
