"""PostgreSQL: ticket full-text search (a tsvector table with a GIN index).

On SQLite, ticket search is the FTS5 table ``tickets_fts`` (revision 0003). PostgreSQL
gets a plain table of the same name and columns — ``rowid`` is the document's event id,
as on SQLite — so server/tickets/search.py writes and deletes documents with the same
SQL on both; only the match and rank expressions differ. ``document`` is generated from
the title (weight A) and body (weight B) with the ``deskmate`` text search
configuration: English stemming like FTS5's porter tokenizer, and, like FTS5, no stop
words (so every word a user types must match). Existing tickets are indexed here.

Nothing changes on SQLite.

Revision ID: 0013_postgres_search
Revises: 0012_mail
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0013_postgres_search"
down_revision = "0012_mail"
branch_labels = None
depends_on = None

# The token types pg_catalog.english sends to its stemmer (which also drops stop words).
_WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE TEXT SEARCH DICTIONARY deskmate_english "
               "(TEMPLATE = snowball, LANGUAGE = english)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION deskmate (COPY = pg_catalog.english)")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION deskmate ALTER MAPPING FOR {_WORD_TOKENS} "
               "WITH deskmate_english")
    op.execute(
        "CREATE TABLE tickets_fts ("
        "rowid bigint PRIMARY KEY, "
        "title text NOT NULL, "
        "body text NOT NULL, "
        "ticket_id integer NOT NULL, "
        "event_id integer, "
        "public smallint NOT NULL, "
        "document tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('deskmate', title), 'A') || "
        "setweight(to_tsvector('deskmate', body), 'B')) STORED)")
    op.execute("CREATE INDEX ix_tickets_fts_document ON tickets_fts USING gin (document)")
    # A ticket's title and description are the document of its first ("created") event;
    # each event with text (a reply, a note) is its own document.
    op.execute(
        "INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, public) "
        "SELECT first.id, t.title, t.description, t.id, NULL, 1 FROM tickets t "
        "JOIN (SELECT ticket_id, min(id) AS id FROM ticket_events GROUP BY ticket_id) first "
        "ON first.ticket_id = t.id")
    op.execute(
        "INSERT INTO tickets_fts (rowid, title, body, ticket_id, event_id, public) "
        "SELECT e.id, '', e.body, e.ticket_id, e.id, CASE WHEN e.public THEN 1 ELSE 0 END "
        "FROM ticket_events e WHERE e.body <> '' "
        "AND e.id NOT IN (SELECT min(id) FROM ticket_events GROUP BY ticket_id)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE tickets_fts")
    op.execute("DROP TEXT SEARCH CONFIGURATION deskmate")
    op.execute("DROP TEXT SEARCH DICTIONARY deskmate_english")
