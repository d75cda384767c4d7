"""The Files tool on a real agent through the real server: transfers, resume, changes, audit."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from endpoint_agent.toolbox.support import ToolSupport
from shared import toolfiles as tf
from tests.support.remote import enrolled, ticket_with_device
from tests.support.server import Client, RunningServer
from tests.support.toolbox import (
    files_session,
    own_login,
    terminal_agent,
    tool_events,
    unattended_group,
)


async def _interrupted_put(client: Client, base: str, query: dict[str, Any], data: bytes,
                           cut: int) -> None:
    """Send a PUT whose body stops after ``cut`` bytes, once the device holds some of them:
    then the connection breaks."""
    stored = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, cut, 64 * 1024):
            yield data[i:min(cut, i + 64 * 1024)]
        await asyncio.wait_for(stored.wait(), 10)
        raise ConnectionAbortedError("cut on purpose")

    async def watch() -> None:
        status = _url(f"{base}/upload", path=query["path"], size=query["size"],
                      sha256=query["sha256"])
        for _ in range(1000):
            if (await client.get(status)).json["offset"] >= tf.CHUNK_BYTES:
                stored.set()
                return
            await asyncio.sleep(0.01)

    headers = {"X-CSRF-Token": client.csrf_token, "Content-Type": "application/octet-stream",
               "Content-Length": str(len(data))}
    watcher = asyncio.create_task(watch())
    try:
        async with client.session.put(client.base_url + _url(f"{base}/content", **query),
                                      data=body(), headers=headers):
            pass
    except (aiohttp.ClientError, ConnectionAbortedError):
        pass
    finally:
        watcher.cancel()


async def _resume_upload(client: Client, base: str, query: dict[str, Any],
                         data: bytes) -> dict[str, Any]:
    """Ask how far the upload got and send the rest (again if the device was still busy)."""
    for _ in range(20):
        status = await client.get(_url(f"{base}/upload", path=query["path"],
                                       size=query["size"], sha256=query["sha256"]))
        assert status.status == 200, status.body
        offset = status.json["offset"]
        put = await client.put(_url(f"{base}/content", **query, offset=offset),
                               data=io.BytesIO(data[offset:]),
                               headers={"Content-Type": "application/octet-stream"})
        if put.status == 200:
            return {"resumed_at": offset, **put.json}
        assert (put.status, put.error_code) == (409, "offset_mismatch"), put.body
    raise AssertionError("the upload never resumed")


def _url(where: str, **query: Any) -> str:
    from urllib.parse import urlencode

    return where + "?" + urlencode({k: str(v).lower() if isinstance(v, bool) else v
                                   for k, v in query.items()})


async def test_transfers_resume_after_an_interruption_and_are_audited(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """An upload and a download of several chunks, each broken off in the middle, resume and
    arrive whole (SHA-256 checked); folders are created, renamed and deleted; every transfer
    and change is a public step on the ticket with its name, size and SHA-256."""
    home = tmp_path / "home"
    home.mkdir()
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                           files_root=str(home)))
    try:
        sid = await files_session(technician, ticket["id"])
        base = f"/api/v1/tool-sessions/{sid}/files"
        listing = await technician.get(base)
        assert listing.status == 200, listing.body
        assert listing.json["path"] == str(home) and listing.json["entries"] == []
        assert listing.json["parent"] is None
        folder = await technician.post(f"{base}/folder", json={"path": f"{home}/in"})
        assert folder.status == 201, folder.body

        data = os.urandom(5 * tf.CHUNK_BYTES + 1234)
        sha = hashlib.sha256(data).hexdigest()
        query = {"path": f"{home}/in/big.bin", "size": len(data), "sha256": sha}
        await _interrupted_put(technician, base, query, data, cut=2 * tf.CHUNK_BYTES + 100)
        assert not (home / "in" / "big.bin").exists()
        done = await _resume_upload(technician, base, query, data)
        assert done["done"] is True and done["sha256"] == sha
        assert 0 < done["resumed_at"] < len(data)
        assert (home / "in" / "big.bin").read_bytes() == data
        assert [p.name for p in (home / "in").iterdir()] == ["big.bin"]  # no part file left

        url = server.base_url + _url(f"{base}/content", path=f"{home}/in/big.bin")
        got = b""
        async with technician.session.get(url) as resp:
            assert resp.status == 200
            assert resp.headers["X-Content-SHA256"] == sha
            got = await resp.content.readexactly(3 * tf.CHUNK_BYTES)
            resp.close()  # the downloader goes away in the middle
        async with technician.session.get(url, headers={"Range": f"bytes={len(got)}-"}) as resp:
            assert resp.status == 206, await resp.text()
            assert resp.headers["Content-Range"] == f"bytes {len(got)}-{len(data) - 1}/{len(data)}"
            got += await resp.read()
        assert hashlib.sha256(got).hexdigest() == sha

        renamed = await technician.post(f"{base}/rename", json={"path": f"{home}/in",
                                                                "to": f"{home}/out"})
        assert renamed.status == 200 and renamed.json["path"] == f"{home}/out"
        listing = await technician.get(_url(base, path=f"{home}/out"))
        entry = listing.json["entries"][0]
        assert (entry["name"], entry["kind"], entry["size"]) == ("big.bin", "file", len(data))
        assert entry["mode"] == "rw-r--r--" and listing.json["parent"] == str(home)
        full = await technician.post(f"{base}/delete", json={"path": f"{home}/out"})
        assert (full.status, full.error_code) == (409, "not_empty")
        gone = await technician.post(f"{base}/delete", json={"path": f"{home}/out",
                                                             "recursive": True})
        assert gone.status == 200 and not (home / "out").exists()

        events = [e for e in await tool_events(technician, ticket["id"])
                  if e["changes"]["step"] not in ("requested", "started")]
        steps = [e["changes"]["step"] for e in events]
        assert steps == ["mkdir", "upload", "download", "rename", "delete"], steps
        upload, download = events[1], events[2]
        assert all(e["public"] for e in events)
        assert (upload["changes"]["name"], upload["changes"]["size"],
                upload["changes"]["sha256"]) == ("big.bin", len(data), sha)
        assert sha in upload["body"] and "big.bin" in download["body"]
        assert download["changes"]["offset"] == 3 * tf.CHUNK_BYTES  # the resumed download
        assert agent.agent.tools.sessions[sid].files.refused == 1  # type: ignore[union-attr]
    finally:
        await agent.stop()


async def test_tricks_limits_and_bad_input_are_refused_and_nothing_is_written(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """`..`, a symbolic link out of the allowed folder, an upload over the size limit or with
    a wrong checksum, a watcher's change and bad queries are refused with named errors;
    nothing is written, and the agent still serves the session afterwards."""
    home, outside = tmp_path / "home", tmp_path / "secret"
    home.mkdir()
    outside.mkdir()
    (outside / "key.txt").write_text("do not read")
    (home / "escape").symlink_to(outside)
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                           files_root=str(home)))
    try:
        sid = await files_session(technician, ticket["id"])
        base = f"/api/v1/tool-sessions/{sid}/files"
        data = b"hello\n"
        sha = hashlib.sha256(data).hexdigest()
        octet = {"Content-Type": "application/octet-stream"}

        async def put(path: str, body: bytes = data, **query: Any) -> tuple[int, str]:
            query = {"path": path, "size": len(body), "sha256": sha, **query}
            resp = await technician.put(_url(f"{base}/content", **query), data=io.BytesIO(body),
                                        headers=octet)
            return resp.status, resp.error_code

        assert await put(f"{home}/../secret/x") == (400, "bad_path")
        assert await put(f"{home}/escape/x") == (403, "outside_root")
        assert await put(f"{outside}/x") == (403, "outside_root")
        assert await put("relative/x") == (400, "bad_path")
        assert await put(f"{home}/big", size=5 * 1024**4) == (413, "file_too_large")
        assert await put(f"{home}/long", body=data + b"more", size=len(data)) == (
            413, "file_too_large")
        assert await put(f"{home}/bad", sha256="0" * 64) == (409, "checksum_mismatch")
        bad_sha = await technician.put(_url(f"{base}/content", path=f"{home}/x", size=1,
                                            sha256="XYZ"), data=b"x", headers=octet)
        assert (bad_sha.status, bad_sha.error_code) == (422, "validation_error")
        for path in (f"{home}/escape", f"{home}/escape/key.txt", "/etc"):
            listed = await technician.get(_url(base, path=path))
            assert (listed.status, listed.error_code) == (403, "outside_root"), path
        read = await technician.get(_url(f"{base}/content", path=f"{home}/escape/key.txt"))
        assert (read.status, read.error_code) == (403, "outside_root")
        moved = await technician.post(f"{base}/rename", json={"path": f"{home}/escape/key.txt",
                                                               "to": f"{home}/key.txt"})
        assert (moved.status, moved.error_code) == (403, "outside_root")
        up = await technician.post(f"{base}/folder", json={"path": f"{home}/.."})
        assert (up.status, up.error_code) == (400, "bad_path")
        missing = await technician.post(f"{base}/delete", json={"path": f"{home}/nope"})
        assert (missing.status, missing.error_code) == (404, "not_found")
        # The admin has rights on the ticket: it may list, not change.
        watched = await admin.get(base)
        assert watched.status == 200
        change = await admin.post(f"{base}/folder", json={"path": f"{home}/w"})
        assert (change.status, change.error_code) == (403, "not_controller")
        # Nothing was written anywhere; the link itself is still there.
        assert sorted(p.name for p in home.iterdir()) == ["escape"]
        assert sorted(p.name for p in outside.iterdir()) == ["key.txt"]
        ok = await technician.put(_url(f"{base}/content", path=f"{home}/ok.txt",
                                       size=len(data), sha256=sha), data=data, headers=octet)
        assert ok.status == 200 and ok.json["done"], ok.body
        again = await put(f"{home}/ok.txt")
        assert again == (409, "exists")
        assert (home / "ok.txt").read_bytes() == data
        steps = [e["changes"]["step"] for e in await tool_events(technician, ticket["id"])]
        assert steps == ["requested", "started", "upload"]
    finally:
        await agent.stop()


async def test_rights_and_old_agents(server: RunningServer, admin: Client, technician: Client,
                                     tmp_path: Path) -> None:
    """A technician without rights on the ticket cannot open or use a files session, and an
    agent that does not announce the capability is never asked."""
    home = tmp_path / "home"
    home.mkdir()
    device = await enrolled(server, admin, tmp_path / "a")
    await unattended_group(admin, device)
    ticket = await ticket_with_device(admin, device.id)  # assigned to nobody
    agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                           files_root=str(home), files=False))
    try:
        url = f"/api/v1/tickets/{ticket['id']}/tool-sessions"
        old = await admin.post(url, json={"kind": "files", "reason": "copy a log"})
        assert (old.status, old.error_code) == (409, "tool_unavailable")
    finally:
        await agent.stop()
    agent = await terminal_agent(device, tools=ToolSupport(None, login=own_login(),
                                                           files_root=str(home)))
    try:
        no_rights = await technician.post(url, json={"kind": "files", "reason": "look"})
        assert no_rights.status == 403, no_rights.body
        sid = await files_session(admin, ticket["id"])
        base = f"/api/v1/tool-sessions/{sid}/files"
        for resp in (await technician.get(base),
                     await technician.post(f"{base}/folder", json={"path": f"{home}/x"}),
                     await technician.get(_url(f"{base}/content", path=f"{home}/x"))):
            assert (resp.status, resp.error_code) == (404, "not_found")
        assert list(home.iterdir()) == []
        await admin.post(f"/api/v1/tool-sessions/{sid}/end")
        over = await admin.get(base)
        assert (over.status, over.error_code) == (409, "session_not_active")
    finally:
        await agent.stop()
    await asyncio.sleep(0)
