"""Reading multipart/form-data request bodies (RFC 7578) with every malformation a 4xx.

aiohttp's multipart reader raises ValueError, RuntimeError, LookupError or its own
HTTP parser errors on malformed input, and only warns about a malformed
Content-Disposition. :class:`FormReader` is the one place upload endpoints read a form:
it checks the boundary, parses each part's disposition strictly itself, bounds the number
of parts, and turns every parser error into 400 ``invalid_multipart``.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError

from server.errors import BadRequest, ValidationFailed

MAX_PARTS = 16

# RFC 2046 section 5.1.1: 1-70 characters from bchars, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# RFC 9110 token and quoted-string; a parameter of a Content-Disposition.
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM = re.compile(rf"\s*;\s*({_TCHARS})\s*=\s*({_TCHARS}|{_QUOTED})\s*")
_DISPOSITION = re.compile(rf"\s*form-data\s*((?:;\s*{_TCHARS}\s*=\s*(?:{_TCHARS}|{_QUOTED})\s*)*)",
                          re.IGNORECASE)
# Control characters (tab aside) and lone surrogates (bytes that were not UTF-8).
_BAD_TEXT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
# What aiohttp's parser raises on malformed input (warnings: when they are errors).
_PARSE_ERRORS = (ValueError, RuntimeError, LookupError, HttpProcessingError, EOFError,
                 asyncio.IncompleteReadError, Warning)


def _malformed(detail: str) -> BadRequest:
    return BadRequest("malformed multipart body: {detail}", code="invalid_multipart", detail=detail)


def parse_disposition(header: str | None) -> tuple[str, str | None]:
    """Return (name, filename) of a part's ``Content-Disposition: form-data`` header.

    Raises:
        BadRequest: the header is missing, not form-data, or malformed.
    """
    if header is None:
        raise _malformed("a part has no Content-Disposition")
    if _BAD_TEXT.search(header):
        raise _malformed("control characters or undecodable bytes in a part header")
    match = _DISPOSITION.fullmatch(header)
    if match is None:
        raise _malformed(f"Content-Disposition {header[:100]!r} is not form-data with "
                         "parameters")
    params: dict[str, str] = {}
    for key, value in _PARAM.findall(match.group(1)):
        key = key.lower()
        if key in params:
            raise _malformed(f"parameter {key!r} given twice in Content-Disposition")
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
    if "name" not in params:
        raise _malformed("a part's Content-Disposition has no name")
    filename = params.get("filename")
    if "filename*" in params:  # RFC 8187 ext-value: charset'language'percent-encoded
        charset, _, rest = params["filename*"].partition("'")
        _, _, encoded = rest.partition("'")
        if charset.lower() not in ("utf-8", "iso-8859-1"):
            raise _malformed(f"filename* charset {charset[:40]!r} is not UTF-8")
        try:
            filename = urllib.parse.unquote(encoded, charset, errors="strict")
        except UnicodeDecodeError as exc:
            raise _malformed("filename* is not in its charset") from exc
    if filename is not None and _BAD_TEXT.search(filename):
        raise _malformed("control characters in a file name")
    return params["name"], filename


@dataclass
class FormPart:
    """One field of a form: its name, file name and a reader for its raw bytes."""

    name: str
    filename: str | None
    _part: BodyPartReader

    async def read_chunk(self, size: int) -> bytes:
        """Return up to ``size`` (at least 128) raw bytes of the content (b"" at its end)."""
        size = max(size, 128)  # aiohttp needs room for the boundary
        try:
            return await self._part.read_chunk(size)
        except _PARSE_ERRORS as exc:
            raise _malformed(str(exc)[:200] or type(exc).__name__) from exc

    async def text(self, *, limit: int) -> str:
        """Return the content as UTF-8 text of at most ``limit`` bytes.

        Raises:
            ValidationFailed: longer, or not UTF-8 text.
        """
        charset = parse_mimetype(self._part.headers.get("Content-Type", "")).parameters.get(
            "charset", "utf-8").lower()
        if charset not in ("utf-8", "us-ascii"):
            raise ValidationFailed("form field {name!r} must be UTF-8 text", name=self.name)
        data = b""
        while chunk := await self.read_chunk(8192):
            data += chunk
            if len(data) > limit:
                raise ValidationFailed("form field {name!r} is over {limit} bytes", name=self.name,
                                       limit=limit)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("form field {name!r} is not UTF-8 text", name=self.name) from exc


class FormReader:
    """Yields the fields of a multipart/form-data body (``async for part in reader``)."""

    def __init__(self, reader: MultipartReader) -> None:
        self._reader = reader
        self._count = 0

    @classmethod
    async def open(cls, request: web.Request) -> FormReader:
        """Return a reader for the request's form.

        Raises:
            web.HTTPUnsupportedMediaType: the body is not multipart/form-data.
            BadRequest: the boundary is missing or malformed.
        """
        if request.content_type != "multipart/form-data":
            raise web.HTTPUnsupportedMediaType(text="upload as multipart/form-data")
        # The same parse as aiohttp's reader, so both see the same boundary.
        params = parse_mimetype(request.headers.get("Content-Type", "")).parameters
        if len(params.getall("boundary", [])) != 1 or not _BOUNDARY.fullmatch(
                params["boundary"]):
            raise _malformed("the Content-Type has no valid boundary (RFC 2046: 1 to 70 "
                             "characters)")
        try:
            return cls(await request.multipart())
        except _PARSE_ERRORS as exc:
            raise _malformed(str(exc)[:200]) from exc

    def __aiter__(self) -> FormReader:
        return self

    async def __anext__(self) -> FormPart:
        try:
            part = await self._reader.next()
        except _PARSE_ERRORS as exc:
            raise _malformed(str(exc)[:200] or type(exc).__name__) from exc
        if part is None:
            raise StopAsyncIteration
        self._count += 1
        if self._count > MAX_PARTS:
            raise ValidationFailed("a form may have at most {limit} fields", limit=MAX_PARTS)
        if not isinstance(part, BodyPartReader):
            raise ValidationFailed("nested multipart bodies are not accepted")
        for value in part.headers.values():
            if _BAD_TEXT.search(value):
                raise _malformed("control characters or undecodable bytes in a part header")
        # RFC 7578 section 4.7: no transfer encodings; content is read as sent.
        transfer = part.headers.get("Content-Transfer-Encoding", "binary").strip().lower()
        coding = part.headers.get("Content-Encoding", "identity").strip().lower()
        if transfer not in ("7bit", "8bit", "binary") or coding != "identity":
            raise _malformed("form fields may not be transfer- or content-encoded")
        name, filename = parse_disposition(part.headers.get("Content-Disposition"))
        return FormPart(name=name, filename=filename, _part=part)
