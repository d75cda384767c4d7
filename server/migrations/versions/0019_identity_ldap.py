"""Identity: TOTP second factor and recovery codes, password reset links, LDAP/Active
Directory directories with the accounts and group memberships they give.

Revision ID: 0019_identity_ldap
Revises: 0018_mail_in
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.auth.tables
import server.directory.tables  # noqa: F401 - registers the directory tables
from server.db.schema import UTCDateTime

revision = "0019_identity_ldap"
down_revision = "0018_mail_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_user_totp_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_totp")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_password_resets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    op.create_table(
        "directories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("allow_plaintext", sa.Boolean(), nullable=False),
        sa.Column("ca_pem", sa.Text(), nullable=False),
        sa.Column("bind_dn", sa.String(length=500), nullable=False),
        sa.Column("bind_password", sa.String(length=500), nullable=False),
        sa.Column("user_base", sa.String(length=500), nullable=False),
        sa.Column("user_filter", sa.String(length=1000), nullable=False),
        sa.Column("disabled_filter", sa.String(length=1000), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("group_base", sa.String(length=500), nullable=False),
        sa.Column("group_filter", sa.String(length=1000), nullable=False),
        sa.Column("nested_groups", sa.String(length=16), nullable=False),
        sa.Column("group_mappings", sa.JSON(), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("sync_minutes", sa.Integer(), nullable=False),
        sa.Column("page_size", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
        sa.Column("last_sync", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('active_directory', 'openldap')",
                           name=op.f("ck_directories_kind")),
        sa.CheckConstraint("security IN ('ldaps', 'starttls', 'plain')",
                           name=op.f("ck_directories_security")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directories")),
        sa.UniqueConstraint("name", name=op.f("uq_directories_name")),
    )
    op.create_table(
        "directory_accounts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("directory_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("dn", sa.String(length=1000), nullable=False),
        sa.Column("phone", sa.String(length=100), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("manager_dn", sa.String(length=1000), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["directory_id"], ["directories.id"], ondelete="CASCADE",
                                name=op.f("fk_directory_accounts_directory_id_directories")),
        sa.ForeignKeyConstraint(["manager_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_directory_accounts_manager_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_directory_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_directory_accounts")),
        sa.UniqueConstraint("directory_id", "external_id",
                            name="uq_directory_accounts_directory_external"),
    )
    op.create_table(
        "directory_memberships",
        sa.Column("directory_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["directory_id"], ["directories.id"], ondelete="CASCADE",
                                name=op.f("fk_directory_memberships_directory_id_directories")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_directory_memberships_group_id_groups")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_directory_memberships_user_id_users")),
        sa.PrimaryKeyConstraint("directory_id", "user_id", "group_id",
                                name=op.f("pk_directory_memberships")),
    )


def downgrade() -> None:
    for table in ("directory_memberships", "directory_accounts", "directories",
                  "password_resets", "recovery_codes", "user_totp"):
        op.drop_table(table)
