"""Request and response types of the Files tool's API (msgspec)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from server.users.schemas import Strict

DevicePath = Annotated[str, Meta(min_length=1, max_length=4096)]
# In a query string: short enough that the URL, percent-encoded, fits aiohttp's 8 KiB line.
QueryPath = Annotated[str, Meta(min_length=1, max_length=600)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$(?!\n)")]
Size = Annotated[int, Meta(ge=0, le=2**50)]


class FileEntry(Struct, kw_only=True):
    """One entry of a folder on the device."""

    name: str
    kind: Literal["file", "folder", "link", "other"]
    size: int
    mtime: float  # seconds since the epoch
    mode: str  # permissions as ls shows them: rwxr-xr-x
    target: str | None  # where a symbolic link points


class FileListing(Struct, kw_only=True):
    """A folder on the device: its entries, the allowed root, and its parent (if inside)."""

    path: str
    root: str
    parent: str | None
    entries: list[FileEntry]
    truncated: bool


class ListQuery(Strict):
    """The folder to list; the session's root if omitted."""

    path: QueryPath | None = None


class PathQuery(Strict):
    """A file on the device."""

    path: QueryPath


class UploadQuery(Strict):
    """An upload: where, how large, its SHA-256 (hex); ``offset`` where this body starts."""

    path: QueryPath
    size: Size
    sha256: Sha256
    offset: Size = 0
    overwrite: bool = False


class StatusQuery(Strict):
    """The upload whose progress to read."""

    path: QueryPath
    size: Size
    sha256: Sha256


class UploadState(Struct, kw_only=True):
    """How far an upload got: the device holds ``offset`` bytes; ``done`` once in place."""

    path: str
    size: int
    offset: int
    done: bool
    sha256: str


class NewFolder(Strict):
    """Create a folder on the device."""

    path: DevicePath


class Rename(Strict):
    """Rename or move ``path`` to ``to`` (which must not exist)."""

    path: DevicePath
    to: DevicePath


class Delete(Strict):
    """Delete a file, a link or an empty folder (a full one with ``recursive``)."""

    path: DevicePath
    recursive: bool = False


class FileChanged(Struct, kw_only=True):
    """The path a change produced on the device."""

    path: str
