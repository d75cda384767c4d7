"""A device session on a ticket: what screen sessions and toolbox tools share.

Both open something on a device linked to a ticket, for a technician with rights on the
ticket, under the device group's consent policy, and announce each step to the ticket's
live feed. The rules live here once; server/remote/views.py and server/toolbox/views.py
add what is their own (capabilities, limits, records).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from server.auth.identity import Identity
from server.errors import Conflict, Forbidden, ValidationFailed
from server.i18n.messages import Message
from server.keys import DATABASE, HUB
from server.remote import policy, store
from server.tickets import reading as ticket_reading

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.db.database import Database
    from server.live import Broker


@dataclass(frozen=True)
class Target:
    """The ticket, the chosen device and its link, and whether its user must be asked."""

    ticket: Any
    device: Any
    link: AgentLink
    consent: bool


async def may_use(app: web.Application, identity: Identity, ticket_row: Any) -> bool:
    """Tell whether someone may open or watch device sessions on a ticket."""
    member_of = await app[DATABASE].read(lambda c: store.group_ids_of(c, identity.user_id))
    return policy.may_remote(role=identity.role, user_id=identity.user_id,
                             assignee_id=ticket_row.assignee_id,
                             ticket_group_id=ticket_row.group_id, member_of=member_of)


async def target(app: web.Application, identity: Identity, ticket_id: int,
                 device_id: int | None, *, no_rights: Message) -> Target:
    """Check rights and the ticket, choose the linked online device, read its consent.

    Raises:
        Forbidden: no rights on the ticket (``no_rights`` is the message).
        Conflict: the ticket is not open, or no (chosen) device is online.
        ValidationFailed: the device is not linked, or several are online and none chosen.
    """
    db = app[DATABASE]
    ticket = await db.read(lambda c: ticket_reading.get_row(c, ticket_id))
    if not await may_use(app, identity, ticket):
        raise Forbidden(no_rights)
    if ticket.status not in policy.OPEN_STATUSES:
        raise Conflict("the ticket is {status}; reopen it first",
                       code="ticket_not_open", status=ticket.status)
    linked = await db.read(lambda c: store.linked_devices(c, ticket_id))
    hub = app[HUB]
    if device_id is not None:
        chosen = [d for d in linked if d.id == device_id]
        if not chosen:
            raise ValidationFailed("device {device_id} is not linked to this ticket",
                                   device_id=device_id)
    else:
        if not linked:
            raise Conflict("no device is linked to this ticket", code="no_device")
        chosen = [d for d in linked if d.revoked_at is None and hub.is_online(d.id)]
        if len(chosen) > 1:
            raise ValidationFailed("several linked devices are online; choose one with "
                                   "device_id")
        if not chosen:
            raise Conflict("no device linked to this ticket is online", code="device_offline")
    device = chosen[0]
    link = hub.links.get(device.id)
    if device.revoked_at is not None or link is None or not link.welcomed:
        raise Conflict("device {hostname!r} is not online", code="device_offline",
                       hostname=device.hostname)
    unattended = await db.read(store.unattended_groups)
    consent = policy.needs_consent(device_group_id=device.group_id,
                                   unattended_groups=unattended)
    return Target(ticket=ticket, device=device, link=link, consent=consent)


def same_origin(request: web.Request) -> bool:
    """Tell whether a browser's Origin header names this server (WebSocket CSRF guard)."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return False
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def publish(db: Database, broker: Broker, ticket_id: int, change: str) -> None:
    """Announce a session's step on the ticket's live feed (the requester sees it too)."""
    row = await db.read(lambda c: store.ticket_ref(c, ticket_id))
    broker.publish_ticket(ticket_id=ticket_id, number=row.number,
                          requester_id=row.requester_id, change=change, public=True)
