"""Ticket tables declared outside server/db/schema.py, on its shared metadata.

Migration 0016_product creates them; importing this module registers them on ``metadata``.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# The numbers a ticket had before its kind changed (INC-000042 became REQ-000007): a
# number names one ticket forever, so a search for the old one still finds it.
ticket_former_numbers = sa.Table(
    "ticket_former_numbers", metadata,
    sa.Column("number", sa.String(16), primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("until", UTCDateTime, nullable=False),  # when the ticket left this number
    sa.Index("ix_ticket_former_numbers_ticket_id", "ticket_id"),
)

# The desk's saved views: a name for a set of queue filters and a sort. A personal view
# is its owner's alone (nobody else lists, opens or changes it, admins included); a
# shared one is listed for all staff and changed by admins only. Migration
# 0022_self_service creates it.
saved_views = sa.Table(
    "saved_views", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_key", sa.Text, nullable=False),  # server.db.names.fold(name)
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_saved_views_owner_id", "owner_id"),
)
