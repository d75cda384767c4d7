"""Report roll-ups: daily counters and duration histograms kept with ticket events.

The tables start empty; the server builds them on its first start after this revision
(or ahead of time: ``deskmate-server reports-rebuild``), see server/reports/rollup.py.

Revision ID: 0025_reports
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.schema import UTCDateTime

revision = "0025_reports"
down_revision = "0024_problems"
branch_labels = None
depends_on = None

COUNTERS = ("created", "entered", "left", "resolved", "responded", "done", "reopened", "fcr",
            "remote", "fr_met", "fr_breached", "res_met", "res_breached", "rated", "rating_sum")


def upgrade() -> None:
    op.create_table(
        "report_daily",
        sa.Column("dim", sa.String(12), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("group_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("dim_value", sa.String(32), primary_key=True),
        *(sa.Column(name, sa.Integer, nullable=False) for name in COUNTERS),
        sa.Column("hists", sa.JSON, nullable=False),
    )
    op.create_table(
        "report_facts",
        sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.Column("assignee_id", sa.Integer, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
    )
    op.create_table(
        "report_open",
        sa.Column("group_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "report_kb_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("shown", sa.Integer, nullable=False),
        sa.Column("filed", sa.Integer, nullable=False),
    )
    op.create_table(
        "report_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("weekly_sent", sa.String(10), nullable=True),
    )


def downgrade() -> None:
    for name in ("report_state", "report_kb_daily", "report_open", "report_facts",
                 "report_daily"):
        op.drop_table(name)
