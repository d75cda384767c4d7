"""The Files tool on the agent: one allowed folder, and what may be done inside it.

Every path the server sends is absolute. It is refused (``bad_path``) if it holds a
``..`` component or a NUL, and (``outside_root``) if it, or the folder it is in, resolves
— symbolic links followed — outside the session's root: the account's home folder, or
``/`` for a session as root. Nothing is written before these checks pass.

An upload goes to a part file beside its target (``.NAME.<sha256 prefix>-<size>.part``,
mode 0600), appended to at the offset the server names only if that is where it ends;
once all bytes are there and their SHA-256 is the one announced, it is renamed into
place. An interrupted upload resumes from the part file's size (``upload_status``).
Functions here block; :mod:`endpoint_agent.toolbox.support` runs them on a thread.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from typing import Any

from shared import toolfiles as tf

MAX_LISTING_BYTES = 1536 * 1024  # a listing's entries stop here (the frame limit is 2 MiB)


class FileError(Exception):
    """A refused or failed file request; ``code`` is one of :data:`shared.toolfiles.CODES`."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def _os_error(exc: OSError, path: str) -> FileError:
    codes = {errno.ENOENT: "not_found", errno.EEXIST: "exists", errno.ENOTEMPTY: "not_empty",
             errno.ENOTDIR: "not_a_folder", errno.EISDIR: "is_a_folder",
             errno.EACCES: "permission_denied", errno.EPERM: "permission_denied",
             errno.ELOOP: "outside_root"}
    code = codes.get(exc.errno or 0, "io_error")
    return FileError(code, f"{os.path.basename(path) or path}: {exc.strerror or exc}")


def mode_text(mode: int) -> str:
    """Return permissions as ``ls`` shows them, without the type: ``rwxr-xr-x``."""
    return stat.filemode(mode)[1:]


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


@dataclass
class _Upload:
    offset: int
    digest: Any


@dataclass
class Jail:
    """The folder a files session may use, and the account that owns what it creates."""

    root: str
    owner: tuple[int, int] | None = None  # (uid, gid) to give new files; None: the agent's
    uploads: dict[str, _Upload] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = os.path.realpath(self.root)

    def inside(self, real: str) -> bool:
        """Tell whether a resolved path is the root or below it."""
        return self.root == "/" or real == self.root or real.startswith(self.root + "/")

    def resolve(self, path: str, *, follow: bool = True) -> str:
        """Return the real path for ``path``; with ``follow=False`` a last link stays a link.

        Raises:
            FileError: ``bad_path`` or ``outside_root``.
        """
        if path == "~":  # the session's root
            return self.root
        if not path.startswith("/") or "\0" in path:
            raise FileError("bad_path", "a path must be absolute, without NUL characters")
        if ".." in path.split("/"):
            raise FileError("bad_path", "'..' is not allowed in a path")
        norm = os.path.normpath(path)
        if norm == "//":
            norm = "/"
        real = os.path.realpath(norm)
        if follow or real == self.root:
            if not self.inside(real):
                raise FileError("outside_root", f"{path} is outside the allowed folder "
                                f"{self.root}" + (" (through a symbolic link)"
                                                  if self.inside(norm) else ""))
            return real
        parent, name = os.path.split(norm)
        real_parent = os.path.realpath(parent)
        full = os.path.join(real_parent, name)
        if not name or not self.inside(real_parent) or full == self.root \
                or not self.inside(full):
            raise FileError("outside_root", f"{path} is outside the allowed folder {self.root}")
        return full

    def _own(self, path: str) -> None:
        if self.owner is not None and os.geteuid() == 0:
            os.lchown(path, *self.owner)

    def listing(self, path: str) -> tf.FileReply:
        """Return the folder's entries (folders first, then by name); ``req`` is set later."""
        real = self.resolve(path)
        entries: list[tf.FileEntry] = []
        truncated, used = False, 0
        try:
            with os.scandir(real) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise _os_error(exc, path) from exc
        for entry in items:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            target = ""
            if stat.S_ISLNK(st.st_mode):
                try:
                    target = os.readlink(entry.path)[:4096]
                except OSError:
                    target = "?"
            used += len(entry.name) + len(target) + 80
            if len(entries) >= tf.MAX_ENTRIES or used > MAX_LISTING_BYTES:
                truncated = True
                break
            entries.append(tf.FileEntry(name=entry.name[:1024], kind=_kind(st.st_mode),  # type: ignore[arg-type]
                                        size=st.st_size, mtime=st.st_mtime,
                                        mode=mode_text(st.st_mode), target=target))
        entries.sort(key=lambda e: (e.kind != "folder", e.name.lower(), e.name))
        return tf.FileReply(tool=1, req=1, ok=True, path=real, root=self.root,
                            entries=entries, truncated=truncated)

    def stat(self, path: str, *, want_hash: bool) -> tf.FileReply:
        """Return a path's kind, size and mtime (and a file's SHA-256 if asked)."""
        real = self.resolve(path)
        try:
            st = os.stat(real)
        except OSError as exc:
            raise _os_error(exc, path) from exc
        kind = _kind(st.st_mode)
        digest = ""
        if want_hash and kind == "file":
            digest = file_sha256(real)
        return tf.FileReply(tool=1, req=1, ok=True, path=real, root=self.root,
                            kind=kind, size=st.st_size, mtime=st.st_mtime,  # type: ignore[arg-type]
                            sha256=digest)

    def mkdir(self, path: str) -> str:
        """Create a folder; return its path."""
        target = self.resolve(path, follow=False)
        try:
            os.mkdir(target, 0o755)
        except OSError as exc:
            raise _os_error(exc, path) from exc
        self._own(target)
        return target

    def rename(self, path: str, to: str) -> tuple[str, str]:
        """Rename or move ``path`` to ``to`` (which must not exist); return both paths."""
        source = self.resolve(path, follow=False)
        target = self.resolve(to, follow=False)
        if not os.path.lexists(source):
            raise FileError("not_found", f"{path} does not exist")
        if os.path.lexists(target):
            raise FileError("exists", f"{to} exists already")
        try:
            os.rename(source, target)
        except OSError as exc:
            raise _os_error(exc, to) from exc
        return source, target

    def delete(self, path: str, *, recursive: bool) -> str:
        """Delete a file, a link (not what it points to) or a folder (and what it holds)."""
        target = self.resolve(path, follow=False)
        try:
            st = os.lstat(target)
            if stat.S_ISDIR(st.st_mode):
                if recursive:
                    shutil.rmtree(target)  # never follows links (fd-based on Linux)
                else:
                    os.rmdir(target)
            else:
                os.unlink(target)
        except OSError as exc:
            raise _os_error(exc, path) from exc
        return target

    # Uploads -------------------------------------------------------------------------

    def _part(self, target: str, size: int, sha256: str) -> str:
        folder, name = os.path.split(target)
        return os.path.join(folder, f".{name[:200]}.{sha256[:16]}-{size}.part")

    def upload_status(self, path: str, size: int, sha256: str) -> int:
        """Return how many bytes of this upload the part file holds (0: none)."""
        target = self.resolve(path, follow=False)
        try:
            st = os.lstat(self._part(target, size, sha256))
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise _os_error(exc, path) from exc
        return st.st_size if stat.S_ISREG(st.st_mode) else 0

    def write(self, msg: tf.FileWrite) -> tf.FileReply:
        """Append a chunk to an upload's part file; put the file in place when complete."""
        target = self.resolve(msg.path, follow=False)
        end = msg.offset + len(msg.data)
        if end > msg.size:
            raise FileError("too_large", f"the chunk ends at byte {end}, past the announced "
                            f"size {msg.size}")
        if os.path.isdir(target):
            raise FileError("is_a_folder", f"{msg.path} is a folder")
        if not msg.overwrite and os.path.lexists(target):
            raise FileError("exists", f"{msg.path} exists already")
        part = self._part(target, msg.size, msg.sha256)
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(part, flags, 0o600)
        except OSError as exc:
            raise _os_error(exc, msg.path) from exc
        try:
            have = os.fstat(fd).st_size
            if have != msg.offset:
                raise FileError("offset_mismatch", f"the device holds {have} bytes of this "
                                f"upload, not {msg.offset}", offset=have)
            upload = self.uploads.get(part)
            if upload is None or upload.offset != have:
                upload = _Upload(offset=0, digest=hashlib.sha256())
                if have:
                    upload.digest = _hash_fd(fd, have)
                    upload.offset = have
                self.uploads[part] = upload
                self._own(part)
            os.lseek(fd, have, os.SEEK_SET)
            view = memoryview(msg.data)
            while view:
                view = view[os.write(fd, view):]
            upload.digest.update(msg.data)
            upload.offset = end
        except OSError as exc:
            raise _os_error(exc, msg.path) from exc
        finally:
            os.close(fd)
        if end < msg.size:
            return tf.FileReply(tool=msg.tool, req=msg.req, ok=True, offset=end)
        self.uploads.pop(part, None)
        digest = upload.digest.hexdigest()
        if digest != msg.sha256:
            os.unlink(part)
            raise FileError("checksum_mismatch", f"the bytes received have SHA-256 {digest}, "
                            f"not {msg.sha256}; the upload was discarded")
        if not msg.overwrite and os.path.lexists(target):
            os.unlink(part)
            raise FileError("exists", f"{msg.path} exists already")
        try:
            os.chmod(part, 0o644)
            os.replace(part, target)
        except OSError as exc:
            raise _os_error(exc, msg.path) from exc
        return tf.FileReply(tool=msg.tool, req=msg.req, ok=True, offset=end, done=True,
                            sha256=digest, path=target, size=msg.size)

    def open_read(self, path: str) -> tuple[int, int]:
        """Open a file for a download; return (fd, size).

        Raises:
            FileError: not allowed, not found, or not a regular file.
        """
        real = self.resolve(path)
        try:
            fd = os.open(real, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            raise _os_error(exc, path) from exc
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise FileError("is_a_folder" if stat.S_ISDIR(st.st_mode) else "bad_path",
                            f"{path} is not a regular file")
        return fd, st.st_size


def _hash_fd(fd: int, length: int) -> Any:
    digest = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    left = length
    while left > 0:
        block = os.read(fd, min(left, 1024 * 1024))
        if not block:
            break
        digest.update(block)
        left -= len(block)
    return digest


def file_sha256(path: str) -> str:
    """Return the SHA-256 (hex) of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
