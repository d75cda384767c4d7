"""OpenID Connect sign-in: providers, the accounts linked to a provider's subject, the
group memberships a provider's claims gave, and sign-ins on their way (state, nonce,
PKCE verifier).

Revision ID: 0029_oidc
Revises: 0023_language
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.oidc.tables  # noqa: F401 - registers the OIDC tables
from server.db.schema import UTCDateTime

revision = "0029_oidc"
down_revision = "0028_terminal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=False),
        sa.Column("scopes", sa.String(length=300), nullable=False),
        sa.Column("ca_pem", sa.Text(), nullable=False),
        sa.Column("username_claim", sa.String(length=100), nullable=False),
        sa.Column("groups_claim", sa.String(length=100), nullable=False),
        sa.Column("group_mappings", sa.JSON(), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("create_users", sa.Boolean(), nullable=False),
        sa.Column("match_verified_email", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_oidc_providers_name")),
    )
    op.create_table(
        "oidc_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_accounts_user_id_users")),
        sa.ForeignKeyConstraint(["provider_id"], ["oidc_providers.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_accounts_provider_id_oidc_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_accounts")),
        sa.UniqueConstraint("issuer", "subject", name="uq_oidc_accounts_issuer_subject"),
    )
    op.create_index(op.f("ix_oidc_accounts_user_id"), "oidc_accounts", ["user_id"])
    op.create_table(
        "oidc_memberships",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["oidc_providers.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_memberships_provider_id_oidc_providers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_memberships_user_id_users")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_memberships_group_id_groups")),
        sa.PrimaryKeyConstraint("provider_id", "user_id", "group_id",
                                name=op.f("pk_oidc_memberships")),
    )
    op.create_table(
        "oidc_flows",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["oidc_providers.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_flows_provider_id_oidc_providers")),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_flows")),
    )
    op.create_index(op.f("ix_oidc_flows_created_at"), "oidc_flows", ["created_at"])


def downgrade() -> None:
    op.drop_table("oidc_flows")
    op.drop_table("oidc_memberships")
    op.drop_table("oidc_accounts")
    op.drop_table("oidc_providers")
