"""A ticket's former numbers (kind changes); stored KB HTML checked again.

``ticket_former_numbers`` keeps the numbers a ticket had before its kind changed, so a
search for an old number still finds it (server/tickets/kind_change.py).

Knowledge-base articles store their sanitized HTML. The sanitizer now checks image
paths as a browser normalises them (``/api/v1/attachments/../kb`` is not an
attachment); articles saved before are sanitized again here with the current rules.

Revision ID: 0016_product
Revises: 0015_auth
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.tickets.tables  # noqa: F401 - registers the table on the shared metadata
from server.db.schema import UTCDateTime
from server.kb.render import sanitize

revision = "0016_product"
down_revision = "0015_auth"
branch_labels = None
depends_on = None

_ARTICLES = sa.table("kb_articles", sa.column("id", sa.Integer),
                     sa.column("body_html", sa.Text))


def upgrade() -> None:
    op.create_table(
        "ticket_former_numbers",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_ticket_former_numbers_ticket_id", "ticket_former_numbers",
                    ["ticket_id"])
    conn = op.get_bind()
    rows = conn.execute(sa.select(_ARTICLES.c.id, _ARTICLES.c.body_html)
                        .where(_ARTICLES.c.body_html.like("%src=%"))).all()
    for row in rows:
        clean = sanitize(row.body_html)
        if clean != row.body_html:
            conn.execute(_ARTICLES.update().where(_ARTICLES.c.id == row.id)
                         .values(body_html=clean))


def downgrade() -> None:
    op.drop_index("ix_ticket_former_numbers_ticket_id", table_name="ticket_former_numbers")
    op.drop_table("ticket_former_numbers")
