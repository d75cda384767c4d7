"""``deskmate-agent ticket``: raise a ticket from this device, or queue it while offline."""

from __future__ import annotations

import asyncio
import base64
import getpass
import json
import logging
import os
import uuid
from typing import Any

import msgspec
import psutil
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from endpoint_agent.connection import handshake, open_connection
from endpoint_agent.errors import AgentError
from endpoint_agent.outbox import Outbox
from endpoint_agent.pinning import pinned_context
from endpoint_agent.state import AgentState
from shared import protocol as p

log = logging.getLogger("deskmate.agent.ticket")


def logged_in_user() -> str:
    """Return who the ticket is for: the invoking user, or who sits at the machine."""
    for name in (os.environ.get("SUDO_USER"), getpass.getuser()):
        if name and name != "root":
            return name
    users = psutil.users()
    return users[0].name if users else getpass.getuser()


def screenshot_png(display: str | None = None) -> bytes:
    """Capture all monitors of the X display as one PNG."""
    import mss
    import mss.tools

    with mss.MSS(display=display) if display else mss.MSS() as grabber:
        shot = grabber.grab(grabber.monitors[0])
        png = mss.tools.to_png(shot.rgb, shot.size)
    if png is None:
        raise AgentError("could not encode the screenshot")
    return png


def build(title: str, *, description: str, requester: str, inventory: dict[str, Any],
          screenshot: bytes | None, help_now: bool = False) -> p.TicketRequest:
    """Return the ticket message with an inventory snapshot (and screenshot) attached."""
    files = [p.FileData(filename="inventory.json", data=base64.b64encode(
        json.dumps(inventory, indent=1, sort_keys=True, default=str).encode()).decode())]
    if screenshot is not None:
        files.append(p.FileData(filename="screenshot.png",
                                data=base64.b64encode(screenshot).decode()))
    message = p.TicketRequest(id=uuid.uuid4().hex, title=title, description=description,
                              requester_login=requester, help_now=help_now, files=files)
    if len(p.encode(message)) > p.MAX_MESSAGE_BYTES:
        raise AgentError("the ticket with its attachments is over 4 MiB; leave out the "
                         "screenshot")
    return message


async def send(state: AgentState, message: p.TicketRequest) -> p.TicketCreated:
    """Connect once and send the ticket; return what the server created."""
    enrollment, ca_pem = await asyncio.to_thread(state.load)
    key = await asyncio.to_thread(state.load_key)
    ctx = await asyncio.to_thread(pinned_context, ca_pem)
    async with open_connection(enrollment, ctx) as ws:
        await handshake(ws, enrollment.device_id, key)
        await ws.send(p.encode(message))
        async with asyncio.timeout(30):
            while True:
                answer = p.decode_server_message(await ws.recv())
                if isinstance(answer, p.TicketCreated) and answer.id == message.id:
                    return answer
                if isinstance(answer, p.Error) and answer.id in (message.id, None):
                    raise AgentError(f"the server refused the ticket: {answer.message}")


def raise_ticket(state: AgentState, message: p.TicketRequest) -> str:
    """Send the ticket now, or queue it for the running agent; return what to tell the user."""
    try:
        created = asyncio.run(send(state, message))
    except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, p.ProtocolError) as exc:
        log.info("server not reachable (%s); queueing the ticket", exc)
        outbox = Outbox(state.outbox_file)
        try:
            outbox.put_with_id(message.id, "ticket", msgspec.to_builtins(message))
        finally:
            outbox.close()
        return ("the server cannot be reached; the ticket is queued and will be sent when "
                "the agent reconnects")
    return f"created {created.number}"
