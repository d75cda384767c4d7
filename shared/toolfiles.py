"""The Files tool on the agent link: browse, download, upload, create, rename, delete.

Sans-I/O, like :mod:`shared.toolbox`, whose base class these messages share; a files
tool session is opened like a terminal (``tool_request`` with ``kind: "files"``), and
these messages then run on it, each carrying the request id ``req`` the server chose.
File bytes travel base64-encoded in ``data`` (msgspec's encoding of ``bytes``), in
chunks of at most :data:`CHUNK_BYTES`; reads are paced by acknowledgements, writes by
replies (docs/protocol.md, section 3.3). An agent that serves files lists
:data:`FILES_CAPABILITY` in its hello; the server sends none of these to one that does not.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from shared.toolbox import ToolId, ToolMessage

FILES_CAPABILITY = "files"

CHUNK_BYTES = 512 * 1024  # file bytes in one file_data or file_write message
WINDOW = 8  # chunks an agent sends past the last acknowledged offset
MAX_ENTRIES = 5000  # entries of one listing; beyond, it is cut (truncated: true)
# The frame of one chunk (base64 is 4/3 of the bytes) and of one listing.
MAX_CHUNK_FRAME = 800 * 1024
MAX_LISTING_FRAME = 2 * 1024 * 1024
MAX_SIZE = 2**50  # no file is larger; the server's setting is far lower

ReqId = Annotated[int, Meta(ge=1, le=2**53)]
FilePath = Annotated[str, Meta(min_length=1, max_length=4096)]
Offset = Annotated[int, Meta(ge=0, le=MAX_SIZE)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$(?!\n)")]
Chunk = Annotated[bytes, Meta(max_length=CHUNK_BYTES)]

FileOpName = Literal["list", "stat", "mkdir", "rename", "delete", "upload_status"]
EntryKind = Literal["file", "folder", "link", "other"]

# Why a file request failed (file_reply.code); docs/protocol.md lists them.
CODES = ("bad_path", "outside_root", "not_found", "exists", "not_empty", "not_a_folder",
         "is_a_folder", "permission_denied", "too_large", "checksum_mismatch",
         "offset_mismatch", "io_error", "busy")


class FileEntry(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """One entry of a folder: a symbolic link says where it points."""

    name: Annotated[str, Meta(max_length=1024)]
    kind: EntryKind
    size: Offset
    mtime: float  # seconds since the epoch
    mode: Annotated[str, Meta(max_length=10)]  # "rwxr-xr-x"
    target: Annotated[str, Meta(max_length=4096)] = ""


class FileOp(ToolMessage, tag="file_op", omit_defaults=True):
    """List, inspect, create, rename or delete; ``upload_status`` tells how far an upload got.

    ``to`` is a rename's new path; ``hash`` asks ``stat`` for the file's SHA-256;
    ``size`` and ``sha256`` name the upload whose kept part ``upload_status`` measures.
    """

    tool: ToolId
    req: ReqId
    op: FileOpName
    path: FilePath
    to: Annotated[str, Meta(max_length=4096)] = ""
    hash: bool = False
    recursive: bool = False  # delete a folder with what it holds
    size: Offset = 0
    sha256: Annotated[str, Meta(max_length=64)] = ""


class FileRead(ToolMessage, tag="file_read"):
    """Send a file's bytes from ``offset`` as ``file_data``, paced by ``file_ack``."""

    tool: ToolId
    req: ReqId
    path: FilePath
    offset: Offset


class FileAck(ToolMessage, tag="file_ack"):
    """The server passed on the bytes of a read up to ``offset``."""

    tool: ToolId
    req: ReqId
    offset: Offset


class FileCancel(ToolMessage, tag="file_cancel"):
    """Stop a read (the downloader went away)."""

    tool: ToolId
    req: ReqId


class FileWrite(ToolMessage, tag="file_write", omit_defaults=True):
    """Bytes of an upload at ``offset`` of a file of ``size`` bytes whose SHA-256 is ``sha256``.

    The agent keeps them in a part file beside the target and puts the file in place only
    when all ``size`` bytes are there and their SHA-256 matches.
    """

    tool: ToolId
    req: ReqId
    path: FilePath
    offset: Offset
    size: Offset
    sha256: Sha256
    data: Chunk
    overwrite: bool = False


class FileReply(ToolMessage, tag="file_reply", omit_defaults=True):
    """The answer to a file_op or a file_write (or a failed file_read).

    ``ok: false`` carries a ``code`` of :data:`CODES` and a ``message`` for people.
    A listing carries ``path`` (resolved), ``root`` and ``entries``; ``stat`` one entry's
    fields; a write its new ``offset`` and, once the file is in place, ``done``.
    """

    tool: ToolId
    req: ReqId
    ok: bool
    code: Annotated[str, Meta(max_length=32)] = ""
    message: Annotated[str, Meta(max_length=500)] = ""
    path: Annotated[str, Meta(max_length=4096)] = ""
    root: Annotated[str, Meta(max_length=4096)] = ""
    entries: Annotated[list[FileEntry], Meta(max_length=MAX_ENTRIES)] = []
    truncated: bool = False
    kind: EntryKind | None = None
    size: Offset = 0
    mtime: float = 0.0
    offset: Offset = 0
    sha256: Annotated[str, Meta(max_length=64)] = ""
    done: bool = False


class FileData(ToolMessage, tag="file_data", omit_defaults=True):
    """Bytes of a read at ``offset``; ``eof`` on the last (possibly empty) one."""

    tool: ToolId
    req: ReqId
    offset: Offset
    data: Chunk
    eof: bool = False


SERVER_FILE_MESSAGES = (FileOp, FileRead, FileAck, FileCancel, FileWrite)
AGENT_FILE_MESSAGES = (FileReply, FileData)
# Frames of these types may pass the 64 KiB control limit, up to these sizes.
TYPE_LIMITS = {"file_write": MAX_CHUNK_FRAME, "file_data": MAX_CHUNK_FRAME,
               "file_reply": MAX_LISTING_FRAME}
