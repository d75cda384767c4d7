"""Tables of the device-binding rules (on the shared metadata): logins seen, group rules."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# An OS login a device reported (in its inventory or on a ticket), as reported: what staff
# confirm a binding from. A device keeps at most bindings.MAX_LOGINS of them.
device_logins = sa.Table(
    "device_logins", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
)

# "Bind the first login seen on devices of this group": one row per group that has it.
binding_rules = sa.Table(
    "binding_rules", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
