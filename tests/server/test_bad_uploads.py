"""Malformed multipart uploads get a 4xx in the error shape and store nothing."""

from __future__ import annotations

import re

import pytest

from server.keys import ENDPOINTS
from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

B = "xyzzy-boundary"
CTYPE = f"multipart/form-data; boundary={B}"
FILE_HEAD = (f'--{B}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
             "Content-Type: text/plain\r\n\r\n")


def _internal(headers: str, value: bytes) -> bytes:
    """Return a body with a good file part and an 'internal' part with these headers."""
    return (FILE_HEAD.encode() + b"hello\r\n" + f"--{B}\r\n".encode()
            + f'Content-Disposition: form-data; name="internal"\r\n{headers}\r\n'.encode()
            + value + f"\r\n--{B}--\r\n".encode())


BAD_UPLOADS: list[tuple[str, str, bytes]] = [
    ("no boundary", "multipart/form-data", FILE_HEAD.encode() + b"hi\r\n--" + B.encode()
     + b"--\r\n"),
    ("empty boundary", "multipart/form-data; boundary=", b"--\r\n\r\nhi\r\n----\r\n"),
    ("boundary too long", "multipart/form-data; boundary=" + "b" * 200,
     b"--" + b"b" * 200 + b"\r\n\r\nhi\r\n"),
    ("control characters in the part name", CTYPE,
     f'--{B}\r\nContent-Disposition: form-data; name="fi\x01le"\r\n\r\nhi\r\n--{B}--\r\n'
     .encode()),
    ("control characters in a part header", CTYPE,
     f'--{B}\r\nContent-Disposition: form-data; name="file"\x00\x07\r\n\r\nhi\r\n--{B}--\r\n'
     .encode()),
    ("part header line without a colon", CTYPE,
     f"--{B}\r\nContent-Disposition form-data\r\n\r\nhi\r\n--{B}--\r\n".encode()),
    ("truncated in the content", CTYPE, FILE_HEAD.encode() + b"hel"),
    ("truncated in the headers", CTYPE, f"--{B}\r\nContent-Disp".encode()),
    ("truncated after the boundary", CTYPE, f"--{B}".encode()),
    ("no opening boundary", CTYPE, b"garbage\r\n--" + B.encode() + b"--\r\n"),
    ("empty body", CTYPE, b""),
    ("malformed disposition", CTYPE,
     f"--{B}\r\nContent-Disposition: form-data; name\r\n\r\nhi\r\n--{B}--\r\n".encode()),
    ("non-UTF-8 header bytes", CTYPE,
     f"--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".encode()
     + b"\xff\xfe.txt\"\r\n\r\nhi\r\n--" + B.encode() + b"--\r\n"),
    ("nested multipart without a boundary", CTYPE,
     f'--{B}\r\nContent-Disposition: form-data; name="file"\r\n'
     f"Content-Type: multipart/mixed\r\n\r\nhi\r\n--{B}--\r\n".encode()),
    ("unknown charset in a field", CTYPE,
     _internal("Content-Type: text/plain; charset=no-such-charset\r\n", b"true")),
    ("field not in its charset", CTYPE, _internal("", b"\xff\xfe\xfd")),
    ("bad base64 field", CTYPE,
     _internal("Content-Transfer-Encoding: base64\r\n", b"!!not base64!!")),
    ("unknown transfer encoding", CTYPE,
     _internal("Content-Transfer-Encoding: rot13\r\n", b"true")),
    ("bad gzip field", CTYPE, _internal("Content-Encoding: gzip\r\n", b"not gzip")),
    ("unknown content encoding", CTYPE, _internal("Content-Encoding: zstd-x\r\n", b"true")),
    ("huge field", CTYPE, _internal("", b"t" * 200_000)),
]


def _upload_paths(server: RunningServer, ticket_id: int) -> list[str]:
    return [re.sub(r"\{\w+\}", str(ticket_id), e.openapi_path)
            for e in server.app[ENDPOINTS] if e.upload]


@pytest.mark.parametrize(("label", "ctype", "raw"), BAD_UPLOADS,
                         ids=[b[0] for b in BAD_UPLOADS])
async def test_malformed_multipart_is_refused(
        server: RunningServer, admin: Client, label: str, ctype: str, raw: bytes) -> None:
    """Every upload endpoint answers a malformed multipart body with a 4xx; nothing is kept."""
    ticket = await admin.post("/api/v1/tickets", json={"title": "Broken screen"})
    assert ticket.status == 201
    before = await snapshot(server)
    paths = _upload_paths(server, ticket.json["id"])
    assert paths
    for path in paths:
        resp = await admin.request("POST", path, data=raw, headers={"Content-Type": ctype})
        assert 400 <= resp.status < 500, (label, path, resp.status, resp.body)
        assert resp.error_code in ("invalid_multipart", "validation_error",
                                   "body_too_large"), (label, resp.body)
    assert await snapshot(server) == before
    leftovers = list((server.settings.data_dir / "attachments").rglob("*"))
    assert not [p for p in leftovers if p.is_file()], leftovers
