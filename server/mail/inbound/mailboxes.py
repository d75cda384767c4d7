"""Mailbox records and the taken-in messages: storage (runs in the writer's transaction)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import categories, groups
from server.errors import Conflict, NotFound, ValidationFailed
from server.mail.inbound.imap import ImapConfig
from server.mail.inbound.ingest import Route
from server.mail.inbound.oauth import OAuthConfig
from server.mail.inbound.tables import mail_failing_addresses, mail_inbound, mailboxes
from server.settings import LOCAL_HOSTS

FIELDS = ("name", "kind", "address", "host", "port", "security", "username", "password",
          "folder", "done_folder", "group_id", "category_id", "active", "unknown_sender",
          "auth", "oauth_token_url", "oauth_client_id", "oauth_client_secret",
          "oauth_refresh_token", "oauth_scope")


def get(conn: Connection, mailbox_id: int) -> Any:
    """Return one mailbox row (password included: callers never show it).

    Raises:
        NotFound: no such mailbox.
    """
    row = conn.execute(sa.select(mailboxes).where(mailboxes.c.id == mailbox_id)).first()
    if row is None:
        raise NotFound("no mailbox with id {mailbox_id}", mailbox_id=mailbox_id)
    return row


def list_all(conn: Connection) -> list[Any]:
    """Return every mailbox, in id order."""
    return list(conn.execute(sa.select(mailboxes).order_by(mailboxes.c.id)))


def _check(conn: Connection, values: dict[str, Any], *, except_id: int | None = None) -> None:
    """Refuse a mailbox that cannot work or would send its password in clear."""
    taken = conn.execute(sa.select(mailboxes.c.id).where(
        sa.func.lower(mailboxes.c.name) == values["name"].lower())).scalar()
    if taken is not None and taken != except_id:
        raise Conflict("a mailbox named {name!r} exists", code="name_taken",
                       name=values["name"])
    if values["kind"] == "imap":
        if not values["host"]:
            raise ValidationFailed("host: an IMAP mailbox needs a host")
        if not values["username"]:
            raise ValidationFailed("username: an IMAP mailbox needs a user name")
        if values["auth"] == "oauth2":
            url = urllib.parse.urlsplit(values["oauth_token_url"])
            if url.scheme != "https" and not (url.scheme == "http"
                                              and url.hostname in LOCAL_HOSTS):
                raise ValidationFailed("oauth_token_url: give the https address of the "
                                       "token endpoint")
            if not values["oauth_client_id"]:
                raise ValidationFailed("oauth_client_id: OAuth2 needs the client id")
        if values["security"] == "none" and values["host"].strip("[]").lower() \
                not in LOCAL_HOSTS:
            raise ValidationFailed("security: none would send the password in clear to "
                                   "{host!r}; use tls or starttls", host=values["host"])
    if values["group_id"] is not None and conn.execute(
            sa.select(groups.c.id).where(groups.c.id == values["group_id"])).first() is None:
        raise ValidationFailed("group_id: no group with id {group_id}",
                               group_id=values["group_id"])
    if values["category_id"] is not None and conn.execute(sa.select(categories.c.id).where(
            categories.c.id == values["category_id"])).first() is None:
        raise ValidationFailed("category_id: no category with id {category_id}",
                               category_id=values["category_id"])


def create(conn: Connection, values: dict[str, Any], now: dt.datetime) -> int:
    """Insert a mailbox; return its id."""
    values = {**values, "address": values["address"].lower()}
    _check(conn, values)
    return int(conn.execute(mailboxes.insert().values(created_at=now, **values))
               .inserted_primary_key[0])  # type: ignore[index]


def update(conn: Connection, mailbox_id: int, changes: dict[str, Any]) -> None:
    """Change a mailbox (fields left out stay as they are)."""
    row = get(conn, mailbox_id)
    values = {name: getattr(row, name) for name in FIELDS}
    values.update(changes)
    values["address"] = values["address"].lower()
    _check(conn, values, except_id=mailbox_id)
    conn.execute(mailboxes.update().where(mailboxes.c.id == mailbox_id).values(
        last_error=None, **changes))


def delete(conn: Connection, mailbox_id: int) -> None:
    """Delete a mailbox (its taken-in messages stay, for de-duplication)."""
    get(conn, mailbox_id)
    conn.execute(mailboxes.delete().where(mailboxes.c.id == mailbox_id))


def set_status(conn: Connection, mailbox_id: int, error: str | None, now: dt.datetime) -> None:
    """Record a mailbox's last error (None: it was read successfully now)."""
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values["last_seen_at"] = now
    conn.execute(mailboxes.update().where(mailboxes.c.id == mailbox_id).values(**values))


def imap_config(row: Any, *, ca_file: str) -> ImapConfig:
    """Return how to reach and log in to a mailbox's IMAP server."""
    oauth = OAuthConfig(token_url=row.oauth_token_url, client_id=row.oauth_client_id,
                        client_secret=row.oauth_client_secret,
                        refresh_token=row.oauth_refresh_token, scope=row.oauth_scope) \
        if row.auth == "oauth2" else None
    return ImapConfig(mailbox_id=row.id, name=row.name, host=row.host, port=row.port,
                      security=row.security, username=row.username, password=row.password,
                      folder=row.folder, done_folder=row.done_folder, route=route_of(row),
                      ca_file=ca_file, oauth=oauth)


def route_of(row: Any) -> Route:
    """Return where a mailbox's new tickets go."""
    return Route(mailbox_id=row.id, group_id=row.group_id, category_id=row.category_id,
                 unknown_sender=row.unknown_sender)


def addresses(conn: Connection) -> frozenset[str]:
    """Return the addresses of every mailbox (the desk's own: mail from them is ignored)."""
    return frozenset(str(a).lower() for a in conn.execute(sa.select(mailboxes.c.address))
                     .scalars())


def list_inbound(conn: Connection, *, outcome: str | None, after: int | None,
                 limit: int) -> list[Any]:
    """Return taken-in messages, newest first (``after``: ids below it)."""
    query = sa.select(mail_inbound).order_by(mail_inbound.c.id.desc()).limit(limit)
    if outcome is not None:
        query = query.where(mail_inbound.c.outcome == outcome)
    if after is not None:
        query = query.where(mail_inbound.c.id < after)
    return list(conn.execute(query))


def get_inbound(conn: Connection, inbound_id: int) -> Any:
    """Return one taken-in message.

    Raises:
        NotFound: no such message.
    """
    row = conn.execute(sa.select(mail_inbound).where(mail_inbound.c.id == inbound_id)).first()
    if row is None:
        raise NotFound("no incoming message with id {inbound_id}", inbound_id=inbound_id)
    return row


def discard(conn: Connection, inbound_id: int, who: str) -> None:
    """Discard a held message (its row stays, so it is never taken in again).

    Raises:
        Conflict: the message is not held.
    """
    row = get_inbound(conn, inbound_id)
    if row.outcome != "held":
        raise Conflict("message {inbound_id} is {outcome}, not held", inbound_id=inbound_id,
                       outcome=row.outcome)
    conn.execute(mail_inbound.update().where(mail_inbound.c.id == inbound_id).values(
        outcome="ignored", reason=f"discarded by {who}"[:200]))


def failing(conn: Connection) -> list[Any]:
    """Return the addresses that bounced, newest first."""
    return list(conn.execute(sa.select(mail_failing_addresses)
                             .order_by(mail_failing_addresses.c.since.desc())))


def clear_failing(conn: Connection, address: str) -> None:
    """Let the outbox mail an address again.

    Raises:
        NotFound: the address is not marked failing.
    """
    done = conn.execute(mail_failing_addresses.delete().where(
        mail_failing_addresses.c.address == address.lower()))
    if not done.rowcount:
        raise NotFound("{address!r} is not marked as failing", address=address)
