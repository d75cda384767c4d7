"""SQL of the OpenID Connect package: providers, sign-ins on their way, linked accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.auth import credentials
from server.db.schema import group_members, groups, users
from server.errors import Conflict, NotFound, ValidationFailed
from server.oidc.schemas import Provider, ProviderBody
from server.oidc.tables import oidc_accounts, oidc_flows, oidc_memberships, oidc_providers
from server.users import store as user_store


def digest(text: str) -> str:
    """Return the SHA-256 hex digest a secret is stored as."""
    return hashlib.sha256(text.encode()).hexdigest()


def shown(row: Any, redirect_uri: str) -> Provider:
    """Return a provider row as the API shows it (no client secret)."""
    values = {name: getattr(row, name) for name in Provider.__struct_fields__
              if name not in ("client_secret_set", "redirect_uri")}
    return msgspec.convert({**values, "client_secret_set": bool(row.client_secret),
                            "redirect_uri": redirect_uri}, Provider, from_attributes=True)


def list_rows(conn: Connection, *, enabled_only: bool = False) -> list[Any]:
    """Return every provider row (the enabled ones only, when asked)."""
    query = sa.select(oidc_providers).order_by(oidc_providers.c.name, oidc_providers.c.id)
    if enabled_only:
        query = query.where(oidc_providers.c.enabled.is_(True))
    return list(conn.execute(query).all())


def get_row(conn: Connection, provider_id: int) -> Any:
    """Return a provider row.

    Raises:
        NotFound: no such provider.
    """
    row = conn.execute(sa.select(oidc_providers).where(oidc_providers.c.id == provider_id)
                       ).one_or_none()
    if row is None:
        raise NotFound("no identity provider with id {provider_id}", provider_id=provider_id)
    return row


def _values(conn: Connection, body: ProviderBody, provider_id: int | None) -> dict[str, Any]:
    taken = sa.select(oidc_providers.c.id).where(oidc_providers.c.name == body.name)
    if provider_id is not None:
        taken = taken.where(oidc_providers.c.id != provider_id)
    if conn.execute(taken).first() is not None:
        raise Conflict("identity provider name {name!r} is taken", name=body.name,
                       field="name")
    for mapping in body.group_mappings:
        if mapping.deskmate_group_id is not None and conn.execute(sa.select(groups.c.id).where(
                groups.c.id == mapping.deskmate_group_id)).first() is None:
            raise ValidationFailed("group_mappings: no group with id {group_id}",
                                   group_id=mapping.deskmate_group_id)
    values = dict(msgspec.to_builtins(body))
    values.pop("client_secret", None)
    return values


def create_provider(conn: Connection, body: ProviderBody, now: dt.datetime) -> int:
    """Insert a provider and return its id.

    Raises:
        Conflict: the name is taken.
    """
    values = _values(conn, body, None)
    secret = body.client_secret if isinstance(body.client_secret, str) else ""
    result = conn.execute(oidc_providers.insert().values(
        **values, client_secret=secret, created_at=now, updated_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_provider(conn: Connection, provider_id: int, body: ProviderBody,
                    now: dt.datetime) -> None:
    """Replace a provider's settings (the client secret only when one is given)."""
    get_row(conn, provider_id)
    values = _values(conn, body, provider_id)
    if isinstance(body.client_secret, str):
        values["client_secret"] = body.client_secret
    conn.execute(oidc_providers.update().where(oidc_providers.c.id == provider_id)
                 .values(**values, updated_at=now))


def delete_provider(conn: Connection, provider_id: int) -> None:
    """Delete a provider; its links go (the users stay, and sign in otherwise or not)."""
    get_row(conn, provider_id)
    conn.execute(oidc_providers.delete().where(oidc_providers.c.id == provider_id))


def save_flow(conn: Connection, *, state: str, provider_id: int, browser: str, nonce: str,
              verifier: str, redirect_uri: str, now: dt.datetime,
              max_age: dt.timedelta) -> None:
    """Remember a sign-in sent to the provider (and forget ones that took too long)."""
    conn.execute(oidc_flows.delete().where(oidc_flows.c.created_at < now - max_age))
    conn.execute(oidc_flows.insert().values(
        state_hash=digest(state), provider_id=provider_id, browser_hash=digest(browser),
        nonce=nonce, code_verifier=verifier, redirect_uri=redirect_uri, created_at=now))


def take_flow(conn: Connection, state: str) -> Any:
    """Return and delete the sign-in a state names (so it is used once), or None."""
    # One statement: of two callbacks racing with the same state, one gets the row.
    return conn.execute(oidc_flows.delete().where(oidc_flows.c.state_hash == digest(state))
                        .returning(*oidc_flows.c)).one_or_none()


def linked_user(conn: Connection, issuer: str, subject: str) -> Any:
    """Return (user row, link row) of the account linked to ``issuer``+``subject``, or None."""
    return conn.execute(
        sa.select(users, oidc_accounts.c.id.label("link_id"), oidc_accounts.c.created)
        .join(oidc_accounts, oidc_accounts.c.user_id == users.c.id)
        .where(oidc_accounts.c.issuer == issuer, oidc_accounts.c.subject == subject)
    ).one_or_none()


def user_by_verified_email(conn: Connection, email: str) -> Any:
    """Return the one active, not yet linked, person with this e-mail, or None (none or
    several)."""
    linked = sa.select(oidc_accounts.c.user_id)
    rows = conn.execute(sa.select(users).where(
        sa.func.lower(users.c.email) == email.lower(), users.c.active.is_(True),
        users.c.id.not_in(linked), ~users.c.username.contains(":"))).all()
    return rows[0] if len(rows) == 1 else None


def link(conn: Connection, *, user_id: int, provider_id: int, issuer: str, subject: str,
         created: bool, now: dt.datetime) -> None:
    """Link a user to a provider's subject."""
    conn.execute(oidc_accounts.insert().values(
        user_id=user_id, provider_id=provider_id, issuer=issuer, subject=subject,
        created=created, linked_at=now, last_login_at=now))


def free_username(conn: Connection, wanted: str) -> str:
    """Return ``wanted``, or ``wanted-2``, ``wanted-3``... when it is taken."""
    taken = set(conn.execute(sa.select(users.c.username).where(
        users.c.username.like(f"{wanted[:56]}%"))).scalars())
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted[:56]}-{n}" in taken:
        n += 1
    return f"{wanted[:56]}-{n}"


def apply_claims(conn: Connection, *, provider_id: int, user_id: int, role: str | None,
                 wanted_groups: set[int], now: dt.datetime) -> dict[str, Any]:
    """Bring a user's role (when given) and the groups this provider gave in line with
    its claims; return what changed."""
    changed: dict[str, Any] = {}
    if role is not None:
        current = conn.execute(sa.select(users.c.role).where(users.c.id == user_id)
                               ).scalar_one()
        if current != role:
            user_store.update_user(conn, user_id, {"role": role}, now)
            credentials.delete_user_sessions(conn, user_id)  # rights changed
            changed["role"] = role
    have = set(conn.execute(sa.select(oidc_memberships.c.group_id).where(
        oidc_memberships.c.provider_id == provider_id,
        oidc_memberships.c.user_id == user_id)).scalars())
    existing = set(conn.execute(sa.select(groups.c.id)).scalars())
    member_of = set(conn.execute(sa.select(group_members.c.group_id).where(
        group_members.c.user_id == user_id)).scalars())
    added = sorted((wanted_groups & existing) - have)
    for group_id in added:
        conn.execute(oidc_memberships.insert().values(
            provider_id=provider_id, user_id=user_id, group_id=group_id))
        if group_id not in member_of:
            conn.execute(group_members.insert().values(group_id=group_id, user_id=user_id))
    removed = sorted(have - wanted_groups)
    for group_id in removed:
        conn.execute(oidc_memberships.delete().where(
            oidc_memberships.c.provider_id == provider_id,
            oidc_memberships.c.user_id == user_id, oidc_memberships.c.group_id == group_id))
        conn.execute(group_members.delete().where(group_members.c.user_id == user_id,
                                                  group_members.c.group_id == group_id))
    if added:
        changed["groups_added"] = added
    if removed:
        changed["groups_removed"] = removed
    conn.execute(oidc_accounts.update().where(oidc_accounts.c.user_id == user_id,
                                              oidc_accounts.c.provider_id == provider_id)
                 .values(last_login_at=now))
    return changed
