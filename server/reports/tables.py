"""Report tables, declared on the shared metadata of :mod:`server.db.schema`.

Migration 0025_reports creates them. ``report_daily`` is the roll-up every dashboard reads:
one row per dimension, day, group and category (and the dimension's value), with counters
and duration histograms. ``report_facts`` keeps what each ticket added, so a change
subtracts exactly that and adds the new contribution in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata
from server.reports.facts import COUNTERS

# dim: "all" (value ""), "technician" (assignee id, "0" for none), "priority" ("1".."5")
# or "channel" (the ticket's source). Group and category 0 stand for none (a key column
# cannot be NULL in a primary key).
report_daily = sa.Table(
    "report_daily", metadata,
    sa.Column("dim", sa.String(12), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),  # YYYY-MM-DD, report time zone
    sa.Column("group_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("dim_value", sa.String(32), primary_key=True),
    *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in COUNTERS),
    # {"fr": {"12": 3, ...}, "res": {...}, "res_remote": {...}, "rating": {"5": 2}}
    sa.Column("hists", sa.JSON, nullable=False),
)

report_facts = sa.Table(
    "report_facts", metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("group_id", sa.Integer, nullable=False),
    sa.Column("category_id", sa.Integer, nullable=False),
    sa.Column("assignee_id", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("items", sa.JSON, nullable=False),  # [[day, name, value], ...]
)

# Open tickets now per group and category: the backlog's end point.
report_open = sa.Table(
    "report_open", metadata,
    sa.Column("group_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.Integer, nullable=False),
)

# The portal's new-ticket form: forms that showed knowledge-base suggestions, and those
# of them that were filed as tickets anyway (the rest were deflected).
report_kb_daily = sa.Table(
    "report_kb_daily", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("shown", sa.Integer, nullable=False),
    sa.Column("filed", sa.Integer, nullable=False),
)

# One row: the time zone the roll-ups were built in, and the last weekly summary sent.
report_state = sa.Table(
    "report_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tz", sa.String(64), nullable=False),
    sa.Column("built_at", UTCDateTime, nullable=False),
    sa.Column("weekly_sent", sa.String(10), nullable=True),  # the Monday of the last week sent
)
