"""Ticket attachments: type sniffed from content, stored by digest, served defused."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from pathlib import Path

from server.api.uploads import FormPart
from server.errors import ApiError, ValidationFailed

# What may be attached, recognised by the file's first bytes (never the client's word).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
)
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# What a download may be served as (the OpenAPI document lists them).
SERVED_TYPES = ", ".join([*dict.fromkeys(kind for _, _, kind in _MAGIC), "text/plain",
                          "message/rfc822"])  # e-mail taken in (server/mail/inbound)
CHUNK = 64 * 1024


class TooLarge(ApiError):
    """The upload is over the configured limit."""

    status = 413
    code = "body_too_large"


class UnsupportedType(ApiError):
    """The upload's content is not of an accepted type."""

    status = 415
    code = "unsupported_media_type"


def sniff(head: bytes) -> str | None:
    """Return the content type of a file from its first bytes, or None if not accepted.

    Images, PDF and ZIP by signature; anything else only if it is UTF-8 text without
    NUL bytes (logs, configs). HTML and SVG count as text and are never served inline.
    """
    for magic, offset, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic and (kind != "image/webp"
                                                         or head[:4] == b"RIFF"):
            return kind
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
            return None
    return "text/plain"


def safe_filename(name: str | None) -> str:
    """Return a display name without paths or control characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f\"]", "", base)[:200]
    return base or "attachment"


async def receive(part: FormPart, directory: Path, *,
                  limit: int) -> tuple[str, int, str, Path]:
    """Stream one uploaded part to a temporary file; return (sha256, size, type, path).

    Raises:
        TooLarge: more than ``limit`` bytes.
        UnsupportedType: the content is not an accepted type.
    """
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    tmp = directory / f".upload-{secrets.token_hex(8)}"
    digest = hashlib.sha256()
    size = 0
    head = b""
    fh = await asyncio.to_thread(open, tmp, "wb")
    try:
        try:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge("attachment over the limit of {limit} bytes", limit=limit)
                if len(head) < 512:
                    head += chunk[:512 - len(head)]
                digest.update(chunk)
                await asyncio.to_thread(fh.write, chunk)  # file I/O off the event loop
        finally:
            await asyncio.to_thread(fh.close)
        if size == 0:
            raise ValidationFailed("the attached file is empty")
        kind = sniff(head)
        if kind is None:
            raise UnsupportedType("attachments may be images, PDF, ZIP or text files")
    except BaseException:
        await asyncio.to_thread(tmp.unlink, missing_ok=True)
        raise
    return digest.hexdigest(), size, kind, tmp


def store_path(root: Path, sha256: str) -> Path:
    """Return where the content with this digest lives (content-addressed)."""
    return root / sha256[:2] / sha256


def download_headers(content_type: str, filename: str) -> dict[str, str]:
    """Return headers that keep a served file from running in the console's origin."""
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Type": content_type + ("; charset=utf-8" if content_type == "text/plain"
                                        else ""),
        "Content-Disposition": f'{disposition}; filename="{ascii_name}"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }

