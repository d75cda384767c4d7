"""The local channel between the tray and the running agent (a Unix socket).

The socket lives in the agent's state directory (0700) with mode 0600, and the agent
checks each caller's peer credentials (SO_PEERCRED): only its own user (and root) get
an answer. One JSON request per line, one JSON answer per line. The requester of a
ticket is the peer's login name as the kernel reports it, not something the tray says.
A refused request is answered ``{"ok": false, "code": ..., "error": ...}`` with the codes
of the agent socket (``malformed``, ``invalid_message``, ``too_large``, ``internal_error``)
or ``not_allowed``; a line that is not JSON, or nested too deeply to read, is
``malformed``, never a traceback.

A ``watch`` request turns the connection into a feed: after its answer, the agent writes
one ``{"event": "ticket_update", ...}`` line for each update of a ticket of that user.
The ``status`` answer names the ``language`` the person bound to the caller's login
chose, as the server told the agent (None: the desktop's locale); the tray follows it.
A ticket's answer names it too when there is one (for ``deskmate-agent ticket``).
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
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from shared import protocol as p

log = logging.getLogger("deskmate.agent.tray")

MAX_REQUEST = 8 * 1024 * 1024  # a base64 screenshot fits
MAX_SCREENSHOT = 3 * 1024 * 1024
TICKET_TIMEOUT = 30.0
STATUS_TIMEOUT = 5.0
MAX_WATCH_BUFFER = 256 * 1024  # a tray that stops reading is dropped, not buffered for
NOT_ALLOWED = "not_allowed"  # the peer's user may not use this agent


class LocalError(Exception):
    """The local agent refused a request or cannot be reached."""


class AgentNotRunning(LocalError):
    """Nothing listens on the agent's socket: the request was not delivered."""


class BadRequest(ValueError):
    """A request line the agent cannot read; ``code`` names why (agent socket codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def loads(line: bytes) -> Any:
    """Return the JSON value of one line.

    Raises:
        BadRequest: ``malformed``: not UTF-8 JSON, or nested too deeply to read (the
            decoder recurses per level, so 100,000 "[" would raise RecursionError).
    """
    try:
        return json.loads(line)
    except RecursionError as exc:
        raise BadRequest(p.MALFORMED, "malformed JSON: nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadRequest(p.MALFORMED, f"malformed JSON: {exc}") from exc


def refusal(code: str, message: str) -> dict[str, Any]:
    """Return the answer to a refused request."""
    return {"ok": False, "code": code, "error": message}


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
                 allowed_uids: set[int] | None = None,
                 send_rating: Callable[[p.Rating], Awaitable[dict[str, Any]]] | None = None,
                 ticket_statuses: Callable[[str, list[int]],
                                           Awaitable[list[dict[str, Any]]]] | None = None,
                 language_of: Callable[[str], str | None] | None = None,
                 ) -> None:
        self.path = path
        self.status = status
        self.send_ticket = send_ticket
        self.send_rating = send_rating
        self.ticket_statuses = ticket_statuses
        # The language the person bound to a login chose (PersonLanguages.of), for the tray.
        self.language_of = language_of
        # Trays following updates: writer -> login of its user.
        self.watchers: dict[asyncio.StreamWriter, str] = {}
        # The newest status each update told, for My tickets while offline.
        self.known: dict[int, str] = {}
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
            for writer in list(self.watchers):
                writer.close()
            self.watchers.clear()
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
                await self._answer(writer, refusal(NOT_ALLOWED, "not allowed"))
                return
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):  # over MAX_REQUEST
                    await self._answer(writer, refusal(
                        p.TOO_LARGE, f"request too large (over {MAX_REQUEST} bytes)"))
                    return
                if not line:
                    return
                try:
                    request = loads(line)
                    if not isinstance(request, dict):
                        raise BadRequest(p.INVALID_MESSAGE, "not an object")
                    if request.get("op") == "watch":
                        await self._watch(reader, writer, uid)
                        return
                    answer = await self._handle(request, uid)
                except BadRequest as exc:
                    answer = refusal(exc.code, f"bad request: {exc}")
                except (ValueError, KeyError, TypeError, msgspec.ValidationError) as exc:
                    answer = refusal(p.INVALID_MESSAGE, f"bad request: {exc}")
                except ConnectionError:  # the tray went away (a watch it closed): not a fault
                    raise
                except Exception:  # the tray must get an answer, not a silent hang-up
                    log.exception("tray request failed")
                    answer = refusal(p.INTERNAL, "internal error in the agent; see its log")
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
            language = None
            if self.language_of is not None:
                language = self.language_of(await asyncio.to_thread(login_of, uid))
            return {"ok": True, **self.status(), "language": language}
        if op == "my_tickets":
            return {"ok": True, **await self._my_tickets(uid)}
        if op == "ticket":
            return await self._ticket(request, uid)
        if op == "rate":
            return await self._rate(request, uid)
        raise ValueError(f"unknown op {op!r}")

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     uid: int) -> None:
        """Hold the connection open and push this user's ticket updates down it."""
        login = await asyncio.to_thread(login_of, uid)
        self.watchers[writer] = login
        try:
            await self._answer(writer, {"ok": True, "watching": True})
            while await reader.read(4096):  # the tray says nothing more; EOF ends it
                pass
        finally:
            self.watchers.pop(writer, None)

    def push(self, update: p.TicketUpdate) -> int:
        """Pass a ticket update to the trays of its requester; return how many got it."""
        self.known[update.ticket_id] = update.status
        line = json.dumps({"event": "ticket_update", **msgspec.to_builtins(update)}).encode()
        delivered = 0
        for writer, login in list(self.watchers.items()):
            if login != update.requester_login:  # logins are exact, as the server keeps them
                continue
            transport = writer.transport
            if transport.is_closing() or transport.get_write_buffer_size() > MAX_WATCH_BUFFER:
                log.warning("a tray stopped reading its updates; dropping it")
                self.watchers.pop(writer, None)
                writer.close()
                continue
            writer.write(line + b"\n")
            delivered += 1
        return delivered

    async def _rate(self, request: dict[str, Any], uid: int) -> dict[str, Any]:
        ticket_id, score = request["ticket_id"], request["score"]
        if type(ticket_id) is not int or ticket_id < 1:
            raise ValueError("ticket_id must be a positive integer")
        if type(score) is not int or not 1 <= score <= 5:
            raise ValueError("score must be an integer from 1 to 5")
        if self.send_rating is None:
            raise ValueError("this agent cannot send ratings")
        comment = request.get("comment", "")
        if not isinstance(comment, str) or len(comment) > 1000:
            raise ValueError("comment must be text of up to 1000 characters")
        message = p.Rating(id=uuid.uuid4().hex, ticket_id=ticket_id, score=score,
                           requester_login=await asyncio.to_thread(login_of, uid),
                           comment=comment)
        result = await self.send_rating(message)
        if "error" in result:
            return {"ok": False, **result}
        return {"ok": True, **result}

    async def _my_tickets(self, uid: int) -> dict[str, Any]:
        """The tickets this user raised here, with live statuses when the server answers."""
        entries = await asyncio.to_thread(self._history, uid)
        ids = [int(e["ticket_id"]) for e in entries if isinstance(e.get("ticket_id"), int)]
        live: dict[int, dict[str, Any]] | None = None
        if ids and self.ticket_statuses is not None:
            login = await asyncio.to_thread(login_of, uid)
            try:
                found = await asyncio.wait_for(
                    self.ticket_statuses(login, ids[-p.MAX_STATUS_TICKETS:]), STATUS_TIMEOUT)
                live = {t["ticket_id"]: t for t in found}
            except (ConnectionError, TimeoutError, p.ProtocolError) as exc:
                log.info("no live ticket statuses (%s); showing the last known", exc)
        for e in entries:
            tid = e.get("ticket_id")
            if live is not None and tid in live:
                e["status"], e["rated"] = live[tid]["status"], live[tid]["rated"]
                self.known[tid] = live[tid]["status"]
            elif tid in self.known:
                e["status"] = self.known[tid]
        return {"tickets": entries, "live": live is not None}

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
            "requester_login": await asyncio.to_thread(login_of, uid),
            "help_now": bool(request.get("help_now")),
            "files": [msgspec.to_builtins(f) for f in files]}, p.TicketRequest)
        result = await self.send_ticket(message)
        if "error" in result:  # the server refused it: nothing was filed, nothing to keep
            return {"ok": False, **result}
        entry = {"id": message.id, "title": message.title, "at": time.time(),
                 "help_now": message.help_now, "uid": uid, **result}
        await asyncio.to_thread(self._remember, entry)
        language = self.language_of(message.requester_login) if self.language_of else None
        return {"ok": True, **result, **({"language": language} if language else {})}

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
        AgentNotRunning: nothing listens on ``path`` (the request was not delivered).
        LocalError: the agent refused, answered an error, or did not answer.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(str(path))
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                raise AgentNotRunning(f"the Deskmate agent is not running "
                                      f"({exc.strerror or exc})") from exc
            try:
                sock.sendall(json.dumps(message).encode() + b"\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the agent answered and hung up first (a refusal): read its answer
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise LocalError(f"the Deskmate agent cannot be reached ({exc.strerror or exc})") \
            from exc
    try:
        answer = loads(data)
    except BadRequest as exc:
        raise LocalError("the agent gave no answer") from exc
    if not isinstance(answer, dict):
        raise LocalError("the agent gave no answer")
    if not answer.get("ok"):
        raise LocalError(str(answer.get("error", "refused")))
    return dict(answer)


def watch(path: Path, *, stop: threading.Event,
          started: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the ticket updates the agent pushes, until ``stop`` is set (blocking).

    Raises:
        LocalError: the agent is not running or refused.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)  # wake up now and then to look at ``stop``
            sock.connect(str(path))
            sock.sendall(b'{"op": "watch"}\n')
            buffer = b""
            answered = False
            while not stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    raise LocalError("the agent closed the connection")
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    message = loads(line)
                    if not isinstance(message, dict):
                        raise LocalError("the agent sent something that is not an object")
                    if not answered:
                        if not message.get("ok"):
                            raise LocalError(str(message.get("error", "refused")))
                        answered = True
                        if started is not None:
                            started()
                    elif message.get("event") == "ticket_update":
                        yield message
    except OSError as exc:
        raise LocalError(f"the Deskmate agent is not running ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise LocalError("the agent sent something that is not JSON") from exc
