"""Recordings of remote sessions: the per-group switch and one row per recording.

Revision ID: 0011_recordings
Revises: 0010_sessions
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.remote.tables  # noqa: F401 - registers the remote tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0011_recordings"
down_revision = "0010_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("remote_policies", sa.Column("record", sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.create_table(
        "remote_recordings",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("dropped_frames", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("delete_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["remote_sessions.id"],
                                name=op.f("fk_remote_recordings_session_id_remote_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"],
                                name=op.f("fk_remote_recordings_deleted_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_remote_recordings")),
    )
    op.create_index("ix_remote_recordings_state_ended_at", "remote_recordings",
                    ["state", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_remote_recordings_state_ended_at", table_name="remote_recordings")
    op.drop_table("remote_recordings")
    with op.batch_alter_table("remote_policies") as batch:
        batch.drop_column("record")
