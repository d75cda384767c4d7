"""Request and response types for users, groups and API tokens (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from server.auth.identity import Role

# "$(?!\n)", as every pattern (see shared/protocol.py): re.search's "$" also matches
# before a final newline ("rick\n" was a name).
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{0,63}$(?!\n)"
Username = Annotated[str, Meta(pattern=USERNAME_PATTERN,
                               description="lower-case letters, digits and . _ @ -")]
DisplayName = Annotated[str, Meta(min_length=1, max_length=200)]
Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$(?!\n)")]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
GroupName = Annotated[str, Meta(min_length=1, max_length=100)]
Description = Annotated[str, Meta(max_length=1000)]
Cursor = Annotated[str, Meta(max_length=200, description="opaque; from next_cursor")]
Limit = Annotated[int, Meta(ge=1, le=1000)]
Language = Annotated[str, Meta(max_length=16, description=(
    "the language of the user's console, mail and API messages: a code the server has a "
    "catalogue for (en, id); null: as the browser asks (Accept-Language)"))]
AutoAssign = Annotated[Literal["none", "round_robin", "least_loaded"], Meta(
    description="who gets a ticket given to the group: nobody, members in turn, or the "
                "member with the fewest open tickets")]


class Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base for request bodies: unknown fields are an error."""


class User(Struct, kw_only=True):
    """A user as the API shows it (never the password hash)."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: Role
    active: bool
    group_ids: list[int]
    created_at: dt.datetime
    time_zone: str | None = None  # IANA zone the console shows times in; None: the browser's
    language: str | None = None


class UserCreate(Strict):
    """A new user; without a password the user cannot log in until one is set."""

    username: Username
    display_name: DisplayName
    role: Role
    email: Email | None = None
    password: Password | None = None


class UserUpdate(Strict):
    """Changes to a user; fields left out stay as they are."""

    display_name: DisplayName | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    role: Role | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    language: Language | UnsetType | None = UNSET


class UserPage(Struct, kw_only=True):
    """One page of users, in id order."""

    items: list[User]
    next_cursor: str | None


class UserQuery(Strict):
    """Filters for the user list."""

    role: Role | None = None
    q: Annotated[str, Meta(max_length=100)] | None = None
    active: bool | None = None
    group_id: int | None = None
    ids: Annotated[str, Meta(max_length=2000, pattern=r"^\d+(,\d+){0,199}$(?!\n)",
                             description="comma-separated user ids (up to 200)")] | None = None
    limit: Limit | None = None
    cursor: Cursor | None = None


class Group(Struct, kw_only=True):
    """A team of users (assignment group)."""

    id: int
    name: str
    description: str
    member_ids: list[int]
    auto_assign: AutoAssign
    manager_id: int | None
    created_at: dt.datetime


class GroupCreate(Strict):
    """A new group."""

    name: GroupName
    description: Description = ""
    auto_assign: AutoAssign = "none"


class GroupUpdate(Strict):
    """Changes to a group."""

    name: GroupName | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    auto_assign: AutoAssign | UnsetType = UNSET
    manager_id: int | UnsetType | None = UNSET


class GroupPage(Struct, kw_only=True):
    """One page of groups, in id order."""

    items: list[Group]
    next_cursor: str | None


class PageQuery(Strict):
    """Plain keyset pagination."""

    limit: Limit | None = None
    cursor: Cursor | None = None


class ApiToken(Struct, kw_only=True):
    """An API token as listed (the secret is shown only once, on creation)."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


DEFAULT_TOKEN_DAYS = 90


class ApiTokenCreate(Strict):
    """A new API token for the caller; every token expires."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Meta(
        ge=1, le=3650,
        description=f"days until the token expires: {DEFAULT_TOKEN_DAYS} when left out (or "
                    "the server's api_token_max_days if lower); more than "
                    "api_token_max_days (default 365) is refused")] | UnsetType = UNSET


class ApiTokenCreated(Struct, kw_only=True):
    """The new token and its secret, shown this one time."""

    token: str
    info: ApiToken


class ApiTokenList(Struct, kw_only=True):
    """The caller's API tokens."""

    items: list[ApiToken]


def to_builtins(value: Struct) -> dict[str, Any]:
    """Return the set fields of a struct as a dict (UNSET fields left out)."""
    return {k: v for k, v in msgspec.structs.asdict(value).items() if v is not UNSET}
