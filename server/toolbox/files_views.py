"""HTTP handlers of the Files tool: browse, download, upload, new folder, rename, delete.

All of them work on an open files session (a tool session of kind ``files``) the caller
has rights on (else 404, as for any tool session). Anyone with rights on the ticket may
list folders; only the technician who opened the session copies or changes files. Each
transfer and change is a public event on the ticket's timeline (name, size, SHA-256).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.api.routing import STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import ApiError, Conflict, Forbidden, ValidationFailed
from server.i18n.messages import N_
from server.keys import DATABASE, SETTINGS, TOOLS
from server.toolbox import store
from server.toolbox.file_schemas import (
    Delete,
    FileChanged,
    FileEntry,
    FileListing,
    ListQuery,
    NewFolder,
    PathQuery,
    Rename,
    StatusQuery,
    UploadQuery,
    UploadState,
)
from server.toolbox.files import TooLarge
from server.toolbox.relay import LiveTool
from server.toolbox.views import SID, _session_for
from shared import toolfiles as tf

log = logging.getLogger("deskmate.toolbox")

router = Router("toolbox")
BINARY = "application/octet-stream"
_RANGE = re.compile(r"bytes=(\d{1,16})-$")


class RangeNotSatisfiable(ApiError):
    """A Range header past the file's end."""

    status = 416
    code = "range_not_satisfiable"


async def _files_session(req: ApiRequest, *, change: bool) -> LiveTool:
    session_id = int(req.params["session_id"])
    row, live = await _session_for(req, session_id)
    if row.kind != "files":
        raise Conflict("tool session {session_id} is not a files session", code="not_files",
                       session_id=session_id)
    if live is None or live.state != "active":
        raise Conflict("the files session is not open", code="session_not_active")
    if change and req.user.user_id != live.technician_id:
        raise Forbidden("only the technician who opened the files session copies or changes "
                        "files; others with rights on the ticket may list folders",
                        code="not_controller")
    return live


async def _event(req: ApiRequest, live: LiveTool, step: str, body: str,
                 **changes: Any) -> None:
    me, now = req.user, utcnow()
    await req.app[DATABASE].write(lambda c: store.record_step(
        c, live.id, actor_id=me.user_id, step=step, body=body, now=now, **changes))
    await req.app[TOOLS].publish(live.ticket_id)


# A device's refusals that are about the new name (rename's ``to``, mkdir's ``path``).
_NAME_CODES = ("exists", "bad_path", "outside_root")


async def _ask_naming(req: ApiRequest, live: LiveTool, op: str, path: str, *, field: str,
                      **fields: Any) -> tf.FileReply:
    """Ask the device for ``op``; a refusal of the new name names the body's ``field``."""
    try:
        return await req.app[TOOLS].files.ask(live, op, path, **fields)
    except ApiError as exc:
        if exc.code in _NAME_CODES and exc.field is None:
            exc.field = field
        raise


def _limit(req: ApiRequest, size: int) -> None:
    limit = req.app[SETTINGS].toolbox_file_max_bytes
    if size > limit:
        raise TooLarge(N_("the file has {size} bytes; the limit is {limit} bytes", size=size,
                          limit=limit))


@router.route("GET", f"/api/v1/tool-sessions/{SID}/files", roles=STAFF,
              summary="List a folder on the device of a files session", query=ListQuery,
              response=FileListing)
async def list_files(req: ApiRequest) -> FileListing:
    live = await _files_session(req, change=False)
    query: ListQuery = req.query
    reply = await req.app[TOOLS].files.ask(live, "list", query.path or "~")
    parent = os.path.dirname(reply.path) if reply.path != reply.root else None
    return FileListing(path=reply.path, root=reply.root, parent=parent,
                       truncated=reply.truncated,
                       entries=[FileEntry(name=e.name, kind=e.kind, size=e.size,
                                          mtime=e.mtime, mode=e.mode,
                                          target=e.target or None) for e in reply.entries])


@router.route("GET", f"/api/v1/tool-sessions/{SID}/files/content", roles=STAFF,
              summary="Download a file from the device (Range: bytes=N- resumes)",
              query=PathQuery, produces=BINARY)
async def download_file(req: ApiRequest) -> web.StreamResponse:
    live = await _files_session(req, change=True)
    query: PathQuery = req.query
    relay = req.app[TOOLS].files
    info = await relay.ask(live, "stat", query.path, hash=True)
    if info.kind != "file":
        raise Conflict("{path} is not a file", code="not_a_file", path=query.path)
    _limit(req, info.size)
    start = 0
    asked = req.request.headers.get("Range", "")
    if match := _RANGE.fullmatch(asked.strip()):
        start = int(match.group(1))
        if start > info.size or (start == info.size and info.size):
            raise RangeNotSatisfiable(N_("the file has {size} bytes", size=info.size),
                                      headers={"Content-Range": f"bytes */{info.size}"})
    name = os.path.basename(info.path)
    response = web.StreamResponse(status=206 if start else 200, headers={
        "Content-Type": BINARY, "Accept-Ranges": "bytes", "X-Content-SHA256": info.sha256,
        "Content-Disposition": _disposition(name), "Cache-Control": "no-store",
        "Repr-Digest": f"sha-256=:{_b64(info.sha256)}:"})
    if start:
        response.headers["Content-Range"] = f"bytes {start}-{info.size - 1}/{info.size}"
    response.content_length = info.size - start
    await response.prepare(req.request)
    digest = hashlib.sha256() if start == 0 else None
    held: bytes | None = None
    sent = start
    try:
        async for chunk in relay.read(live, info.path, start):
            if held is not None:  # the last chunk waits for the checksum
                await response.write(held)
                sent += len(held)
            if digest is not None:
                digest.update(chunk.data)
            held = chunk.data
        held = held or b""
        if sent + len(held) != info.size or (digest is not None
                                             and digest.hexdigest() != info.sha256):
            log.warning("tool session %d: %s changed while it was downloaded; cut short",
                        live.id, info.path)
            _abort(req)
            return response
        await response.write(held)
        await response.write_eof()
    except (ConnectionError, ApiError) as exc:  # the downloader left, or the device failed
        log.info("tool session %d: download of %s stopped at byte %d: %s", live.id,
                 info.path, sent, exc)
        _abort(req)
        return response
    resumed = f", resumed at byte {start:,}" if start else ""
    await _event(req, live, "download",
                 f"Downloaded {name} ({info.size:,} bytes, SHA-256 {info.sha256}{resumed}) "
                 f"from {info.path}.",
                 path=info.path, name=name, size=info.size, sha256=info.sha256, offset=start)
    return response


def _abort(req: ApiRequest) -> None:
    transport = req.request.transport
    if transport is not None:
        transport.abort()


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


def _disposition(name: str) -> str:
    from urllib.parse import quote

    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", name) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.route("GET", f"/api/v1/tool-sessions/{SID}/files/upload", roles=STAFF,
              summary="Tell how far an upload to the device got (to resume it)",
              query=StatusQuery, response=UploadState)
async def upload_status(req: ApiRequest) -> UploadState:
    live = await _files_session(req, change=True)
    query: StatusQuery = req.query
    reply = await req.app[TOOLS].files.ask(live, "upload_status", query.path,
                                           size=query.size, sha256=query.sha256)
    return UploadState(path=query.path, size=query.size, offset=reply.offset, done=False,
                       sha256=query.sha256)


@router.route("PUT", f"/api/v1/tool-sessions/{SID}/files/content", roles=STAFF,
              summary="Upload (part of) a file to the device; resumable, SHA-256 checked",
              query=UploadQuery, response=UploadState, raw_body=True)
async def upload_file(req: ApiRequest) -> UploadState:
    live = await _files_session(req, change=True)
    query: UploadQuery = req.query
    _limit(req, query.size)
    if query.offset > query.size:
        raise ValidationFailed("offset: past the announced size", field="offset")
    length = req.request.content_length
    if length is not None and query.offset + length > query.size:
        raise TooLarge(N_("more bytes than the announced size {size}", size=query.size))
    reply = await req.app[TOOLS].files.write(
        live, _chunks(req.request, empty=query.offset == query.size), path=query.path,
        offset=query.offset, size=query.size, sha256=query.sha256,
        overwrite=query.overwrite)
    if reply.done:
        name = os.path.basename(reply.path)
        await _event(req, live, "upload",
                     f"Uploaded {name} ({query.size:,} bytes, SHA-256 {reply.sha256}) to "
                     f"{reply.path}.", path=reply.path, name=name, size=query.size,
                     sha256=reply.sha256)
    return UploadState(path=reply.path or query.path, size=query.size, offset=reply.offset,
                       done=reply.done, sha256=query.sha256)


async def _chunks(request: web.Request, *, empty: bool) -> AsyncIterator[bytes]:
    """Yield the body in chunks of :data:`CHUNK_BYTES` (one empty one for an empty file)."""
    buffer = bytearray()
    try:
        async for piece in request.content.iter_chunked(tf.CHUNK_BYTES):
            buffer += piece
            while len(buffer) >= tf.CHUNK_BYTES:
                yield bytes(buffer[:tf.CHUNK_BYTES])
                del buffer[:tf.CHUNK_BYTES]
    except ConnectionError:  # the uploader went away: what the device has, it keeps
        log.info("an upload was broken off; it resumes from the device's offset")
        return
    if buffer or empty:
        yield bytes(buffer)


@router.route("POST", f"/api/v1/tool-sessions/{SID}/files/folder", roles=STAFF,
              summary="Create a folder on the device", body=NewFolder, response=FileChanged,
              status=201)
async def create_folder(req: ApiRequest) -> FileChanged:
    live = await _files_session(req, change=True)
    body: NewFolder = req.body
    reply = await _ask_naming(req, live, "mkdir", body.path, field="path")
    await _event(req, live, "mkdir", f"Created the folder {reply.path}.", path=reply.path)
    return FileChanged(path=reply.path)


@router.route("POST", f"/api/v1/tool-sessions/{SID}/files/rename", roles=STAFF,
              summary="Rename or move a file or folder on the device", body=Rename,
              response=FileChanged)
async def rename_file(req: ApiRequest) -> FileChanged:
    live = await _files_session(req, change=True)
    body: Rename = req.body
    reply = await _ask_naming(req, live, "rename", body.path, field="to", to=body.to)
    await _event(req, live, "rename", f"Renamed {body.path} to {reply.path}.",
                 path=body.path, to=reply.path)
    return FileChanged(path=reply.path)


@router.route("POST", f"/api/v1/tool-sessions/{SID}/files/delete", roles=STAFF,
              summary="Delete a file, link or folder on the device", body=Delete,
              response=FileChanged)
async def delete_file(req: ApiRequest) -> FileChanged:
    live = await _files_session(req, change=True)
    body: Delete = req.body
    reply = await req.app[TOOLS].files.ask(live, "delete", body.path,
                                           recursive=body.recursive)
    await _event(req, live, "delete", f"Deleted {reply.path}.", path=reply.path,
                 recursive=body.recursive)
    return FileChanged(path=reply.path)
