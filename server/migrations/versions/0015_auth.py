"""Server secrets: the key that signs login device cookies, shared by every node.

Revision ID: 0015_auth
Revises: 0014_identity
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.auth.tables  # noqa: F401 - registers the auth tables on the shared metadata
from server.db.schema import UTCDateTime

revision = "0015_auth"
down_revision = "0014_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
