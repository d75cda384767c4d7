"""Clipboard text between the controlling technician and the endpoint, in control mode.

Each text is checked (:func:`shared.clipboard.text_size`: size, UTF-8, no NUL), the
transfer's direction and size — never its content — go on the ticket's timeline first,
and only then is the text passed on: from the technician's viewer to the agent
(``session_clipboard``), or from the agent to the controlling technician's viewers
(``clipboard``). Watchers get neither. docs/protocol.md section 3.1.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from server.db.schema import utcnow
from server.remote import store
from server.remote.relay import LiveSession, Viewer
from shared import clipboard, screen
from shared import protocol as p

if TYPE_CHECKING:
    from server.agents.hub import AgentLink
    from server.db.database import Database
    from server.remote.manager import Sessions

log = logging.getLogger("deskmate.remote")

MAX_TRANSFERS = 200  # per session, both directions: each one is a timeline event
UNAVAILABLE = "clipboard_unavailable"  # the agent does not offer the clipboard
LIMIT = "clipboard_limit"  # MAX_TRANSFERS reached in this session


def _size(text: str) -> int:
    try:
        return clipboard.text_size(text)
    except clipboard.ClipboardError as exc:  # decoding checked it already; be sure
        raise screen.ViewerError(exc.code, exc.message) from exc


async def from_viewer(db: Database, live: LiveSession, viewer: Viewer, text: str) -> None:
    """Send the controlling technician's text to the endpoint's clipboard.

    Raises:
        ViewerError: not the controller, not in control mode, no clipboard on the agent,
            too many transfers, or an invalid text.
    """
    if not viewer.controller:
        raise screen.ViewerError(screen.NOT_CONTROLLER, "only the technician who opened "
                                 "the session sends clipboard text")
    if live.mode != "control" or live.state != "active":
        raise screen.ViewerError(screen.VIEW_ONLY, "clipboard text travels only in "
                                 "control mode")
    if not live.clipboard:
        raise screen.ViewerError(UNAVAILABLE, "the agent on this device does not take "
                                 "clipboard text")
    size = _size(text)
    if live.clipboard_transfers >= MAX_TRANSFERS:
        raise screen.ViewerError(LIMIT, f"a session passes at most {MAX_TRANSFERS} "
                                 "clipboard texts")
    live.clipboard_transfers += 1
    now = utcnow()
    await db.write(lambda c: store.record_step(
        c, live.id, actor_id=viewer.user_id, step="clipboard", now=now,
        body=f"Clipboard text sent to the device ({size} bytes).",
        direction="to_device", bytes=size))
    if live.mode != "control" or live.state != "active":  # changed while recording
        raise screen.ViewerError(screen.VIEW_ONLY, "the session left control mode")
    live.clipboard_to_device += 1
    live.clipboard_bytes += size
    live.link.send(p.encode(p.SessionClipboard(session=live.id, text=text)))
    viewer.send_text({"type": "clipboard_sent", "session": live.id, "bytes": size})


async def from_agent(sessions: Sessions, link: AgentLink, msg: p.SessionClipboard) -> None:
    """Pass text the user copied on the endpoint to the controlling technician's viewers.

    Raises:
        ProtocolError: no such active session on this link, not in control mode, or too
            many transfers.
    """
    live = sessions.by_id.get(msg.session)
    if live is None or live.link is not link or live.state != "active":
        raise p.ProtocolError(p.NO_SESSION, f"no active session {msg.session}")
    if live.mode != "control":
        raise p.ProtocolError(screen.VIEW_ONLY, "clipboard text travels only in control mode")
    if not any(v.controller for v in live.viewers):
        log.info("remote session %d: clipboard text from the device, nobody controlling "
                 "is watching; dropped", live.id)
        return
    if live.clipboard_transfers >= MAX_TRANSFERS:
        raise p.ProtocolError(LIMIT, f"a session passes at most {MAX_TRANSFERS} "
                              "clipboard texts")
    size = len(msg.text.encode("utf-8"))  # decode_agent_message checked the text
    live.clipboard_transfers += 1
    now = utcnow()
    await sessions.db.write(lambda c: store.record_step(
        c, live.id, actor_id=None, step="clipboard", now=now,
        body=f"Text copied on the device was sent to {live.technician_name} "
             f"({size} bytes).",
        direction="from_device", bytes=size))
    if live.mode != "control" or live.state != "active":  # changed while recording
        return
    live.clipboard_from_device += 1
    live.clipboard_bytes += size
    payload = {"type": "clipboard", "session": live.id, "text": msg.text, "bytes": size}
    for viewer in list(live.viewers):
        if viewer.controller:
            viewer.send_text(payload)
