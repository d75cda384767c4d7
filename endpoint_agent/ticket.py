"""``deskmate-agent ticket``: raise a ticket through the running agent, or queue it.

The command never opens a connection of its own: the running agent holds the device's
one connection (a second one is refused by the server), so the ticket goes to the agent
over its local socket, exactly as the tray's does — and, like the tray's, it is filed
for the login the kernel reports for the caller, not for a name given on the command
line. When no agent runs, the ticket waits in the agent's outbox until it starts.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from endpoint_agent.errors import AgentError
from endpoint_agent.i18n import LANGUAGE_ENV, texts
from endpoint_agent.outbox import Outbox
from endpoint_agent.state import AgentState
from endpoint_agent.tray import local
from shared import protocol as p

log = logging.getLogger("deskmate.agent.ticket")

SNAPSHOT_NAME = "system-snapshot.json"  # the tray's name for the same attachment


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
    files = [p.FileData(filename=SNAPSHOT_NAME, data=base64.b64encode(
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


def raise_ticket(state: AgentState, title: str, *, description: str, help_now: bool,
                 screenshot: bytes | None,
                 inventory: Callable[[], dict[str, Any]]) -> str:
    """File the ticket through the running agent, or queue it; return what to tell the user.

    Raises:
        AgentError: the agent refused the ticket (or the server refused it through it).
    """
    request: dict[str, Any] = {"op": "ticket", "title": title, "description": description,
                               "help_now": help_now, "snapshot": True}
    if screenshot is not None:
        request["screenshot"] = base64.b64encode(screenshot).decode()
    try:
        answer = local.request(state.tray_socket, request)
    except local.AgentNotRunning as exc:
        log.info("%s; queueing the ticket", exc)
        return queue(state, build(title, description=description,
                                  requester=local.login_of(os.geteuid()),
                                  inventory=inventory(), screenshot=screenshot,
                                  help_now=help_now))
    except local.LocalError as exc:
        raise AgentError(f"the ticket was not filed: {exc}") from exc
    # The person's language when the agent names one (the server told it), else the locale.
    chosen = answer.get("language")
    tr = texts({**os.environ, LANGUAGE_ENV: chosen}) if isinstance(chosen, str) else texts()
    if answer.get("queued"):
        return tr("cli.ticket.queued_offline")
    return tr("cli.ticket.created", number=answer["number"])


def queue(state: AgentState, message: p.TicketRequest) -> str:
    """Put the ticket in the agent's outbox for when it runs; return what to tell the user."""
    outbox = Outbox(state.outbox_file)
    try:
        outbox.put_with_id(message.id, "ticket", msgspec.to_builtins(message))
    finally:
        outbox.close()
    return texts()("cli.ticket.queued_no_agent")
