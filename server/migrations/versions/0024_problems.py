"""Problem management and satisfaction: root cause, workaround, known error, low-score flag.

``tickets`` gains the problem record's ``root_cause``, ``workaround``, ``known_error`` and
``workaround_article_id`` (the KB article the workaround was published as), and
``satisfaction_flagged_at`` (a low satisfaction score waiting for the group manager).
Ratings themselves stay where the tray always put them: timeline events of type
``rating`` (server/satisfaction/store.py); a new index finds them by type.
``problem_suggestions`` keeps the recurring problems found in the history
(server/problems/detect.py) until someone accepts or dismisses them.

Revision ID: 0024_problems
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0024_problems"
down_revision = "0023_language"
branch_labels = None
depends_on = None

_COLUMNS = ("root_cause", "workaround", "known_error", "workaround_article_id",
            "satisfaction_flagged_at")


def upgrade() -> None:
    op.add_column("tickets", sa.Column("root_cause", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("workaround", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("known_error", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("tickets", sa.Column("workaround_article_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("satisfaction_flagged_at", UTCDateTime(),
                                       nullable=True))
    op.create_index("ix_ticket_events_type_ticket_id", "ticket_events", ["type", "ticket_id"])
    op.create_table(
        "problem_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ticket_ids", sa.JSON(), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["problem_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_problem_suggestions_key"),
    )
    op.create_index("ix_problem_suggestions_status_id", "problem_suggestions",
                    ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_problem_suggestions_status_id", table_name="problem_suggestions")
    op.drop_table("problem_suggestions")
    op.drop_index("ix_ticket_events_type_ticket_id", table_name="ticket_events")
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild would cascade deletes.
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
