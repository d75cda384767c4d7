"""The recurring problems found in the history, waiting to be accepted or dismissed.

Migration 0024_problems creates it; importing this module registers it on ``metadata``.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

problem_suggestions = sa.Table(
    "problem_suggestions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),  # health, text, category, software
    sa.Column("key", sa.String(200), nullable=False),  # server.problems.detect: stable
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("ticket_ids", sa.JSON, nullable=False),
    # The groups of its incidents (none: tickets without a group), for who may see it.
    sa.Column("group_ids", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, accepted, dismissed
    sa.Column("problem_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("key", name="uq_problem_suggestions_key"),
    sa.Index("ix_problem_suggestions_status_id", "status", "id"),
)
