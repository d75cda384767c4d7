"""HTTP handlers for session recordings: play (download) and delete.

Who may fetch a recording is who may join the session: staff with rights on its ticket
(others get 404, as for an unknown session); requesters never. Fetching and deleting
are written to the audit log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from server.api.routing import ADMIN, STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import Conflict, NotFound
from server.keys import DATABASE, REMOTE, SETTINGS
from server.remote import recordings, store
from server.remote.views import SID, _session_for
from server.tickets.attachments import download_headers

log = logging.getLogger("deskmate.remote")
router = Router("remote")
CONTENT_TYPE = "application/vnd.deskmate.recording"


@router.route("GET", f"/api/v1/remote-sessions/{SID}/recording", roles=STAFF,
              summary="Fetch a session's recording (docs/protocol.md, Recording file)",
              produces=CONTENT_TYPE)
async def get_recording(req: ApiRequest) -> web.StreamResponse:
    session_id = int(req.params["session_id"])
    await _session_for(req, session_id)  # 404 without rights on the ticket
    me = req.user
    db = req.app[DATABASE]
    row = await db.read(lambda c: recordings.get(c, session_id))
    if row is None or row.state in ("deleted", "failed"):
        raise NotFound("remote session {session_id} has no recording", session_id=session_id)
    if row.state == "recording":
        raise Conflict("the session is still being recorded; play it once it has ended",
                       code="recording_in_progress")
    path = req.app[SETTINGS].data_dir / recordings.DIRECTORY / row.file
    if not await asyncio.to_thread(path.is_file):
        log.warning("recording of session %d: file %s is missing", session_id, path)
        raise NotFound("the recording of remote session {session_id} is missing its file",
                       session_id=session_id)
    now = utcnow()

    def audit_view(conn: Any) -> None:
        from server.users import store as audit

        audit.record(conn, actor_id=me.user_id, action="remote_recording.view",
                     target_type="remote_session", target_id=session_id, now=now)

    await db.write(audit_view)
    headers = download_headers(CONTENT_TYPE, f"session-{session_id}.dmrec")
    return web.FileResponse(path, headers=headers)


@router.route("DELETE", f"/api/v1/remote-sessions/{SID}/recording", roles=ADMIN,
              summary="Delete a session's recording (the session record stays)", status=204)
async def delete_recording(req: ApiRequest) -> None:
    session_id = int(req.params["session_id"])
    row, _live = await _session_for(req, session_id)
    me = req.user
    db = req.app[DATABASE]
    found = await db.read(lambda c: recordings.for_deletion(c, session_id))
    root = req.app[SETTINGS].data_dir / recordings.DIRECTORY
    await asyncio.to_thread(recordings.delete_file, root, found.file)
    name = await db.read(lambda c: store.display_name(c, me.user_id))
    now = utcnow()
    await db.write(lambda c: recordings.mark_deleted(c, session_id, actor_id=me.user_id,
                                                     reason="admin", now=now,
                                                     actor_name=name))
    await req.app[REMOTE].publish(row.ticket_id)

