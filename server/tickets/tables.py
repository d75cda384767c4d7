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
