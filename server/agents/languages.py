"""Tell connected agents the language of the people bound to their device's logins.

An agent announcing ``login_languages`` gets a ``login_languages`` message right after
``welcome`` and again whenever what it would say changes: a binding made or removed (by
staff or by a group's rule), a bound person's language, role or activity changed. The
agent shows its tray, consent dialogs and indicator for a login in that person's
language. A device learns only the languages of the people bound to its own logins.

Pushes reach the agents connected to this server process; an agent connected elsewhere
(another process) hears of a change at its next connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from server.agents.hub import AgentLink, Hub
from server.db.database import Database
from server.devices import bindings
from shared import protocol as p

log = logging.getLogger("deskmate.agents")


def _capable(link: AgentLink) -> bool:
    return link.welcomed and p.LOGIN_LANGUAGES_CAPABILITY in link.capabilities


async def push_languages(db: Database, hub: Hub, device_ids: Iterable[int] | None = None,
                         ) -> int:
    """Send ``login_languages`` to the connected capable agents of these devices (None:
    all) whose languages changed since their last one; return how many were sent.

    One read for all of them; a link whose read was overtaken by a newer one leaves the
    sending to that one.
    """
    wanted = set(device_ids) if device_ids is not None else None
    links = [link for link in list(hub.links.values())
             if _capable(link) and (wanted is None or link.device_id in wanted)]
    if not links:
        return 0
    reads = {}
    for link in links:
        link.language_reads += 1
        reads[link.device_id] = link.language_reads

    def read(conn: Connection) -> dict[int, dict[str, str]]:
        return bindings.languages_of(conn, sorted(reads))

    found = await db.read(read)
    sent = 0
    for link in links:
        if link.language_reads != reads[link.device_id] or link.closing:
            continue  # a later read, with newer data, decides for this link
        languages = found.get(link.device_id, {})
        pairs = tuple(sorted(languages.items()))[:p.MAX_LOGIN_LANGUAGES]
        if pairs == link.languages:
            continue
        if link.send(p.encode(p.LoginLanguages(languages=dict(pairs)))):
            link.languages = pairs
            sent += 1
            log.info("%s: told device %s the languages of %d bound login(s)", link.conn_id,
                     link.uid, len(pairs))
    return sent


async def push_for_user(db: Database, hub: Hub, user_id: int) -> int:
    """Send new ``login_languages`` to the agents of the devices bound to a user (after a
    change to the user's language, role or activity)."""
    if not any(_capable(link) for link in hub.links.values()):
        return 0
    device_ids = await db.read(lambda c: bindings.devices_bound_to(c, user_id))
    return await push_languages(db, hub, device_ids) if device_ids else 0
