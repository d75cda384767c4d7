"""Request and response types of the directories API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.auth.identity import Role
from server.users.schemas import Strict

Kind = Literal["active_directory", "openldap"]
Security = Literal["ldaps", "starttls", "plain"]
Nesting = Literal["in_chain", "client", "off"]
Url = Annotated[str, Meta(min_length=8, max_length=300, pattern=r"^ldaps?://[^\s/]+/?$(?!\n)")]
Dn = Annotated[str, Meta(max_length=500)]
Filter = Annotated[str, Meta(max_length=1000)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
AttrName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z][\w;-]*$(?!\n)")]


class Attributes(Strict):
    """Which LDAP attribute fills each user field."""

    login: AttrName
    display_name: AttrName
    mail: AttrName
    phone: AttrName | None = None
    department: AttrName | None = None
    manager: AttrName | None = None
    external_id: AttrName = "entryUUID"  # AD: objectGUID


class GroupMapping(Strict):
    """Members of a directory group (nested members too) get a Deskmate group, a role,
    or both. The highest role of all a user's mappings wins."""

    group_dn: Dn
    deskmate_group_id: int | None = None
    role: Role | None = None


class DirectoryBody(Strict):
    """A directory as an admin writes it; bind_password is write-only."""

    name: Name
    kind: Kind
    urls: Annotated[list[Url], Meta(min_length=1, max_length=8)]
    bind_dn: Dn
    user_base: Dn
    user_filter: Filter
    attributes: Attributes
    security: Security = "ldaps"
    allow_plaintext: bool = False
    ca_pem: Annotated[str, Meta(max_length=20_000)] = ""
    bind_password: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    disabled_filter: Filter = ""
    group_base: Dn = ""
    group_filter: Filter = ""
    nested_groups: Nesting = "client"
    group_mappings: Annotated[list[GroupMapping], Meta(max_length=200)] = []
    default_role: Role = "requester"
    sync_minutes: Annotated[int, Meta(ge=0, le=10_080)] = 60
    page_size: Annotated[int, Meta(ge=10, le=5000)] = 500
    timeout_seconds: Annotated[int, Meta(ge=1, le=120)] = 10
    enabled: bool = True
    # A directory user with no account yet gets one (default_role, or the group mapping's)
    # on their first sign-in by bind, without waiting for the next sync.
    create_on_sign_in: bool = False


class Directory(Struct, kw_only=True):
    """A directory as the API shows it (never the bind password)."""

    id: int
    name: str
    kind: Kind
    enabled: bool
    urls: list[str]
    security: Security
    allow_plaintext: bool
    ca_pem: str
    bind_dn: str
    bind_password_set: bool
    user_base: str
    user_filter: str
    disabled_filter: str
    attributes: Attributes
    group_base: str
    group_filter: str
    nested_groups: Nesting
    group_mappings: list[GroupMapping]
    default_role: Role
    create_on_sign_in: bool
    sync_minutes: int
    page_size: int
    timeout_seconds: int
    last_sync_at: dt.datetime | None
    last_sync: dict[str, Any] | None
    created_at: dt.datetime


class DirectoryList(Struct, kw_only=True):
    """Every directory."""

    items: list[Directory]


class ConnectionTest(Struct, kw_only=True):
    """What a connection test found."""

    ok: bool
    message: str
    server: str | None = None
    users_found: int | None = None


class UserChange(Struct, kw_only=True):
    """One user a sync creates, updates or deactivates."""

    username: str
    action: Literal["create", "update", "deactivate", "reactivate"]
    fields: list[str] = []


class SyncReport(Struct, kw_only=True):
    """What a sync did (or, for a preview, would do)."""

    preview: bool
    users_seen: int
    groups_seen: int
    created: int
    updated: int
    deactivated: int
    reactivated: int
    memberships_added: int
    memberships_removed: int
    writes: int
    changes: list[UserChange]
    skipped: list[str]
