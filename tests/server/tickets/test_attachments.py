"""Attachments: size limit, type sniffed from content, visibility, defused downloads."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, Response, RunningServer, start_server

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


def png() -> bytes:
    """Return a real 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


async def upload(client: Client, ticket_id: int, data: bytes, filename: str,
                 internal: bool | None = None, extra: dict[str, str] | None = None) -> Response:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    if internal is not None:
        form.add_field("internal", "true" if internal else "false")
    for key, value in (extra or {}).items():
        form.add_field(key, value)
    return await client.request("POST", f"/api/v1/tickets/{ticket_id}/attachments", data=form)


async def _ticket(client: Client) -> dict[str, Any]:
    resp = await client.post("/api/v1/tickets", json={"title": "Broken screen"})
    assert resp.status == 201
    return dict(resp.json)


async def test_requester_attaches_a_screenshot_and_downloads_it(
        clients: dict[str, Client]) -> None:
    """An image is stored, listed, and served inline with a sandboxing CSP."""
    req = clients["requester"]
    ticket = await _ticket(req)
    resp = await upload(req, ticket["id"], png(), "../../etc/screen shot.png")
    assert resp.status == 201, resp.body
    info = resp.json
    assert (info["content_type"], info["public"]) == ("image/png", True)
    assert "/" not in info["filename"] and info["filename"].endswith("shot.png")
    got = await req.get(info["url"])
    assert got.status == 200 and got.body == png()
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    listed = await clients["technician"].get(f"/api/v1/tickets/{ticket['id']}/attachments")
    assert [a["id"] for a in listed.json["items"]] == [info["id"]]


async def test_html_and_svg_are_served_as_text_downloads(clients: dict[str, Client]) -> None:
    """Markup never renders in the console's origin: it is plain text, as a download."""
    req = clients["requester"]
    ticket = await _ticket(req)
    for name, data in (("x.html", b"<script>alert(1)</script>"),
                       ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')):
        resp = await upload(req, ticket["id"], data, name)
        assert resp.status == 201, resp.body
        got = await req.get(resp.json["url"])
        assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert got.headers["Content-Disposition"].startswith("attachment")


async def test_internal_attachments_are_hidden_from_requesters(
        clients: dict[str, Client]) -> None:
    """A technician's internal file is neither listed nor downloadable for the requester."""
    ticket = await _ticket(clients["requester"])
    secret = await upload(clients["technician"], ticket["id"], b"root password notes",
                          "notes.txt", internal=True)
    assert secret.status == 201 and secret.json["public"] is False
    listed = await clients["requester"].get(f"/api/v1/tickets/{ticket['id']}/attachments")
    assert listed.json["items"] == []
    assert (await clients["requester"].get(secret.json["url"])).status == 404
    timeline = await clients["requester"].get(f"/api/v1/tickets/{ticket['id']}/events")
    assert all(e["type"] != "attachment" for e in timeline.json["items"])
    refused = await upload(clients["requester"], ticket["id"], b"x", "a.txt", internal=True)
    assert refused.status == 403


async def test_bad_uploads_are_refused_and_leave_nothing(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Executables, empty files, stray fields and JSON bodies are refused; nothing stays."""
    tech = clients["technician"]
    ticket = await _ticket(tech)
    before = await snapshot(server)
    cases = [
        (await upload(tech, ticket["id"], b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "a.bin"),
         415, "unsupported_media_type"),
        (await upload(tech, ticket["id"], b"", "empty.txt"), 422, "validation_error"),
        (await upload(tech, ticket["id"], b"hi", "a.txt", extra={"owner": "x"}), 422,
         "validation_error"),
        (await tech.post(f"/api/v1/tickets/{ticket['id']}/attachments", json={"file": "x"}),
         415, "unsupported_media_type"),
    ]
    for resp, status, code in cases:
        assert resp.status == status, resp.body
        assert resp.error_code == code
    assert await snapshot(server) == before
    stored = [p for p in (server.settings.data_dir / "attachments").rglob("*") if p.is_file()]
    assert stored == []


async def test_attachment_size_limit(tmp_path: Path) -> None:
    """A file over attachment_max_bytes gets 413 and is not kept."""
    server = await start_server(tmp_path / "data", attachment_max_bytes=1000)
    try:
        admin = await server.login("admin", "admin-password-1")
        ticket = await _ticket(admin)
        ok = await upload(admin, ticket["id"], b"a" * 1000, "fits.txt")
        assert ok.status == 201
        big = await upload(admin, ticket["id"], b"a" * 1001, "big.txt")
        assert big.status == 413 and big.error_code == "body_too_large"
        files = [p for p in (server.settings.data_dir / "attachments").rglob("*")
                 if p.is_file()]
        assert len(files) == 1
    finally:
        await server.close()
