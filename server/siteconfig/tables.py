"""The site settings table (on the shared metadata)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One row per console-edited setting; a row overrides the static setting of the same name
# (server/settings.py). Only names in server.siteconfig.rules.NAMES are ever written.
site_settings = sa.Table(
    "site_settings", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)
