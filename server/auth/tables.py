"""Tables of the auth package (on the shared metadata)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.schema import UTCDateTime, metadata

# Server-wide secrets created on first use and shared by every node of a cluster (the
# device-cookie signing key). Values are random; they never leave the server.
server_secrets = sa.Table(
    "server_secrets", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# A user's TOTP second factor (RFC 6238). The secret must be stored readable to compute
# codes; confirmed_at is None while an enrolment waits for its first code. last_step is
# the last accepted time step: a code is accepted once (RFC 6238 section 5.2).
user_totp = sa.Table(
    "user_totp", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("confirmed_at", UTCDateTime, nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=True),
)

# Single-use recovery codes of a confirmed TOTP factor, stored as SHA-256 digests (each
# code carries 80 random bits, so no KDF is needed; see server/auth/totp.py).
recovery_codes = sa.Table(
    "recovery_codes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)

# Password reset links sent by e-mail: the secret is stored as a digest only; a link works
# once (used_at) and until expires_at.
password_resets = sa.Table(
    "password_resets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)
