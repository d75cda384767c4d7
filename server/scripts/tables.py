"""Script library and script-run tables, declared on the shared metadata.

Migration 0031_scripts creates them. Importing this module registers the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One row per script; its text lives in versions.
scripts = sa.Table(
    "scripts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Every edit is a new version; a version runs only once an admin who did not write it
# approved it.
script_versions = sa.Table(
    "script_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("script_id", sa.Integer, sa.ForeignKey("scripts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("description", sa.String(2000), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),  # bash | python
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),  # declared parameters, in order
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("approved_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("approved_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("script_id", "version", name="uq_script_versions_script_id"),
)

# A device group's script policy: may scripts run as root on its devices.
script_policies = sa.Table(
    "script_policies", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("run_as_root", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
)

# One row per device a script was run on: N devices, N runs sharing a batch.
script_runs = sa.Table(
    "script_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch", sa.String(32), nullable=False, index=True),
    sa.Column("version_id", sa.Integer,
              sa.ForeignKey("script_versions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("technician_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("parameters", sa.JSON, nullable=False),  # the values it ran with
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("as_root", sa.Boolean, nullable=False),
    sa.Column("account", sa.String(64), nullable=True),
    # requested -> running -> ended; or requested -> ended (refused, offline, skipped)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("end_reason", sa.String(500), nullable=False, default=""),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("truncated", sa.Boolean, nullable=False, default=False),
    sa.Column("stdout", sa.Text, nullable=False, default=""),  # kept up to the output cap
    sa.Column("stderr", sa.Text, nullable=False, default=""),
    sa.Column("attachment_id", sa.Integer,
              sa.ForeignKey("attachments.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
)
