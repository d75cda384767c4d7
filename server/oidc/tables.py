"""Tables of the OpenID Connect package (on the shared metadata)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# One OpenID provider people sign in with. client_secret is write-only through the API.
oidc_providers = sa.Table(
    "oidc_providers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("issuer", sa.String(300), nullable=False),
    sa.Column("client_id", sa.String(300), nullable=False),
    sa.Column("client_secret", sa.String(500), nullable=False, default=""),
    sa.Column("scopes", sa.String(300), nullable=False),
    sa.Column("ca_pem", sa.Text, nullable=False, default=""),
    sa.Column("username_claim", sa.String(100), nullable=False),
    sa.Column("groups_claim", sa.String(100), nullable=False),
    sa.Column("group_mappings", sa.JSON, nullable=False),
    sa.Column("default_role", sa.String(16), nullable=False, default="requester"),
    sa.Column("create_users", sa.Boolean, nullable=False, default=False),
    sa.Column("match_verified_email", sa.Boolean, nullable=False, default=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False, default=10),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# A user linked to a provider's subject: the stable (iss, sub) pair, never the e-mail.
# created: the provider created the account (its role follows the provider's claims).
oidc_accounts = sa.Table(
    "oidc_accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("provider_id", sa.Integer,
              sa.ForeignKey("oidc_providers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("issuer", sa.String(300), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("created", sa.Boolean, nullable=False, default=False),
    sa.Column("linked_at", UTCDateTime, nullable=False),
    sa.Column("last_login_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("issuer", "subject", name="uq_oidc_accounts_issuer_subject"),
)

# Group memberships a provider's claims gave (a later sign-in removes only these).
oidc_memberships = sa.Table(
    "oidc_memberships", metadata,
    sa.Column("provider_id", sa.Integer,
              sa.ForeignKey("oidc_providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
)

# A sign-in on its way through the provider: found by the hash of its state, bound to
# the browser by the hash of a cookie, used once (deleted when the provider answers).
oidc_flows = sa.Table(
    "oidc_flows", metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("provider_id", sa.Integer,
              sa.ForeignKey("oidc_providers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("nonce", sa.String(100), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("redirect_uri", sa.String(500), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
)
