"""Request and response types of the OpenID Connect API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from server.auth.identity import Role
from server.users.schemas import Strict

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Issuer = Annotated[str, Meta(min_length=9, max_length=300,
                             pattern=r"^https://[^\s?#]+$(?!\n)")]
ClaimName = Annotated[str, Meta(min_length=1, max_length=100,
                                pattern=r"^[A-Za-z0-9_:/.-]+$(?!\n)")]
_SCOPE = r"[\x21\x23-\x5b\x5d-\x7e]+"  # RFC 6749 section 3.3
Scopes = Annotated[str, Meta(min_length=6, max_length=300,
                             pattern=rf"^{_SCOPE}( {_SCOPE})*$(?!\n)")]


class ClaimMapping(Strict):
    """People whose groups claim holds ``claim_value`` get a Deskmate group, a role, or
    both. The highest role of all a person's mappings wins."""

    claim_value: Annotated[str, Meta(min_length=1, max_length=300)]
    deskmate_group_id: int | None = None
    role: Role | None = None


class ProviderBody(Strict):
    """An OpenID provider as an admin writes it; client_secret is write-only."""

    name: Name
    issuer: Issuer
    client_id: Annotated[str, Meta(min_length=1, max_length=300)]
    client_secret: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    scopes: Scopes = "openid email profile"
    ca_pem: Annotated[str, Meta(max_length=20_000)] = ""
    username_claim: ClaimName = "preferred_username"
    groups_claim: Annotated[str, Meta(max_length=100, pattern=r"^[A-Za-z0-9_:/.-]*$(?!\n)")] \
        = "groups"
    group_mappings: Annotated[list[ClaimMapping], Meta(max_length=200)] = []
    default_role: Role = "requester"
    create_users: bool = False
    match_verified_email: bool = False
    timeout_seconds: Annotated[int, Meta(ge=1, le=60)] = 10
    enabled: bool = True


class Provider(Struct, kw_only=True):
    """An OpenID provider as the API shows it (never the client secret)."""

    id: int
    name: str
    enabled: bool
    issuer: str
    client_id: str
    client_secret_set: bool
    scopes: str
    ca_pem: str
    username_claim: str
    groups_claim: str
    group_mappings: list[ClaimMapping]
    default_role: Role
    create_users: bool
    match_verified_email: bool
    timeout_seconds: int
    redirect_uri: str
    created_at: dt.datetime


class ProviderList(Struct, kw_only=True):
    """Every OpenID provider."""

    items: list[Provider]


class LoginProvider(Struct, kw_only=True):
    """A provider's button on the login page."""

    id: int
    name: str
    start_url: str


class LoginOptions(Struct, kw_only=True):
    """What the login page offers besides the password form."""

    providers: list[LoginProvider]
    local_login_admins_only: bool


class SsoSettings(Struct, kw_only=True):
    """Sign-in settings an admin changes in the console."""

    local_login_admins_only: bool


class SsoSettingsBody(Strict):
    """A change of the sign-in settings."""

    local_login_admins_only: bool


class DiscoveryTest(Struct, kw_only=True):
    """What reading a provider's discovery document and key set found."""

    ok: bool
    message: str
    keys: int | None = None
    algorithms: list[str] = []
