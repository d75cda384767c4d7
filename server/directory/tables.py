"""Tables of the directory package (on the shared metadata)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One LDAP server (or a set of replicas: urls) that people come from. bind_password is
# write-only through the API; it is kept because the scheduled sync binds with it.
directories = sa.Table(
    "directories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # active_directory | openldap
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("urls", sa.JSON, nullable=False),
    sa.Column("security", sa.String(16), nullable=False),  # ldaps | starttls | plain
    sa.Column("allow_plaintext", sa.Boolean, nullable=False, default=False),
    sa.Column("ca_pem", sa.Text, nullable=False, default=""),
    sa.Column("bind_dn", sa.String(500), nullable=False),
    sa.Column("bind_password", sa.String(500), nullable=False, default=""),
    sa.Column("user_base", sa.String(500), nullable=False),
    sa.Column("user_filter", sa.String(1000), nullable=False),
    sa.Column("disabled_filter", sa.String(1000), nullable=False, default=""),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("group_base", sa.String(500), nullable=False, default=""),
    sa.Column("group_filter", sa.String(1000), nullable=False, default=""),
    sa.Column("nested_groups", sa.String(16), nullable=False, default="client"),
    sa.Column("group_mappings", sa.JSON, nullable=False),
    sa.Column("default_role", sa.String(16), nullable=False, default="requester"),
    # A directory user with no account yet gets one on first sign-in by bind (0026_bind).
    sa.Column("create_on_sign_in", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("sync_minutes", sa.Integer, nullable=False, default=60),
    sa.Column("page_size", sa.Integer, nullable=False, default=500),
    sa.Column("timeout_seconds", sa.Integer, nullable=False, default=10),
    sa.Column("last_sync_at", UTCDateTime, nullable=True),
    sa.Column("last_sync", sa.JSON, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('active_directory', 'openldap')", name="kind"),
    sa.CheckConstraint("security IN ('ldaps', 'starttls', 'plain')", name="security"),
)

# A user whose account comes from a directory: no local password; signs in by binding.
directory_accounts = sa.Table(
    "directory_accounts", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("directory_id", sa.Integer,
              sa.ForeignKey("directories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("dn", sa.String(1000), nullable=False),
    sa.Column("phone", sa.String(100), nullable=True),
    sa.Column("department", sa.String(200), nullable=True),
    sa.Column("manager_dn", sa.String(1000), nullable=True),
    sa.Column("manager_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("synced_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("directory_id", "external_id",
                        name="uq_directory_accounts_directory_external"),
)

# Group memberships a directory gave (sync removes only these, never a hand-made one).
directory_memberships = sa.Table(
    "directory_memberships", metadata,
    sa.Column("directory_id", sa.Integer,
              sa.ForeignKey("directories.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
)
