"""The local channel between the tray and the running agent (a Unix socket).

The socket lives in the agent's state directory (0700) with mode 0600, and the agent
checks each caller's peer credentials (SO_PEERCRED): only its own user (and root) get
an answer. One JSON request per line, one JSON answer per line. The requester of a
ticket is the peer's login name as the kernel reports it, not something the tray says.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import pwd
import socket
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec

from shared import protocol as p

log = logging.getLogger("deskmate.agent.tray")

MAX_REQUEST = 8 * 1024 * 1024  # a base64 screenshot fits
MAX_SCREENSHOT = 3 * 1024 * 1024
TICKET_TIMEOUT = 30.0


class LocalError(Exception):
    """The local agent refused a request or cannot be reached."""


def peer_uid(sock: socket.socket) -> int:
    """Return the user id of the process at the other end of a Unix socket (Linux)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def login_of(uid: int) -> str:
    """Return the login name of a user id."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


class LocalServer:
    """Answers the tray on behalf of the agent."""

    def __init__(self, path: Path, *, status: Callable[[], dict[str, Any]],
                 send_ticket: Callable[[p.TicketRequest], Any],
                 inventory: Callable[[], dict[str, Any]], history_file: Path,
                 allowed_uids: set[int] | None = None) -> None:
        self.path = path
        self.status = status
        self.send_ticket = send_ticket
        self.inventory = inventory
        self.history_file = history_file
        self.allowed = allowed_uids if allowed_uids is not None else {os.geteuid(), 0}
        self._server: asyncio.AbstractServer | None = None

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Listen on the socket (created 0600) until the block ends."""
        await asyncio.to_thread(self.path.unlink, missing_ok=True)
        # The umask makes the socket 0600 from its creation on (no window where others
        # could connect); chmod below only states it again.
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._client, path=str(self.path),
                                                           limit=MAX_REQUEST)
        finally:
            os.umask(old)
        await asyncio.to_thread(os.chmod, self.path, 0o600)
        try:
            yield
        finally:
            self._server.close()
            await self._server.wait_closed()
            await asyncio.to_thread(self.path.unlink, missing_ok=True)

    async def _client(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            uid = peer_uid(sock)
            if uid not in self.allowed:
                log.warning("tray request from uid %d refused", uid)
                await self._answer(writer, {"ok": False, "error": "not allowed"})
                return
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._answer(writer, {"ok": False, "error": "request too large"})
                    return
                if not line:
                    return
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("not an object")
                    answer = await self._handle(request, uid)
                except (ValueError, KeyError, TypeError, msgspec.ValidationError) as exc:
                    answer = {"ok": False, "error": f"bad request: {exc}"}
                await self._answer(writer, answer)
        except (ConnectionError, OSError) as exc:
            log.info("tray connection ended: %s", exc)
        finally:
            writer.close()

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, answer: dict[str, Any]) -> None:
        writer.write(json.dumps(answer).encode() + b"\n")
        await writer.drain()

    async def _handle(self, request: dict[str, Any], uid: int) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return {"ok": True, **self.status()}
        if op == "my_tickets":
            return {"ok": True, "tickets": await asyncio.to_thread(self._history, uid)}
        if op == "ticket":
            return await self._ticket(request, uid)
        raise ValueError(f"unknown op {op!r}")

    async def _ticket(self, request: dict[str, Any], uid: int) -> dict[str, Any]:
        title = str(request["title"]).strip()
        if not title:
            raise ValueError("a ticket needs a title")
        files = []
        if request.get("snapshot"):
            inventory = await asyncio.to_thread(self.inventory)
            files.append(p.FileData(filename="system-snapshot.json", data=base64.b64encode(
                json.dumps(inventory, indent=1, sort_keys=True, default=str).encode()).decode()))
        shot = request.get("screenshot")
        if shot:
            if not isinstance(shot, str) or len(shot) > MAX_SCREENSHOT * 4 // 3 + 4:
                raise ValueError("screenshot too large")
            files.append(p.FileData(filename="screenshot.png", data=shot))
        message = msgspec.convert({
            "type": "ticket", "id": uuid.uuid4().hex, "title": title[:200],
            "description": str(request.get("description", ""))[:20_000],
            "requester_login": login_of(uid), "help_now": bool(request.get("help_now")),
            "files": [msgspec.to_builtins(f) for f in files]}, p.TicketRequest)
        result = await self.send_ticket(message)
        entry = {"id": message.id, "title": message.title, "at": time.time(),
                 "help_now": message.help_now, "uid": uid, **result}
        await asyncio.to_thread(self._remember, entry)
        return {"ok": True, **result}

    def _history(self, uid: int) -> list[dict[str, Any]]:
        try:
            entries = json.loads(self.history_file.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [e for e in entries if e.get("uid") == uid][-50:]

    def _remember(self, entry: dict[str, Any]) -> None:
        try:
            entries = json.loads(self.history_file.read_text())
        except (FileNotFoundError, ValueError):
            entries = []
        entries = [*entries, entry][-500:]
        from endpoint_agent.state import write_private

        write_private(self.history_file, json.dumps(entries).encode())


def request(path: Path, message: dict[str, Any], *, timeout: float = 40.0) -> dict[str, Any]:
    """Send one request to the local agent and return its answer (blocking).

    Raises:
        LocalError: the agent is not running, refused, or answered an error.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise LocalError(f"the Deskmate agent is not running ({exc.strerror or exc})") from exc
    try:
        answer = json.loads(data)
    except ValueError as exc:
        raise LocalError("the agent gave no answer") from exc
    if not answer.get("ok"):
        raise LocalError(str(answer.get("error", "refused")))
    return dict(answer)
