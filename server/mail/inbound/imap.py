"""Read an IMAP mailbox (RFC 9051/3501): fetch, take in, and only then remove each message.

The IMAP conversation runs in a thread (``imaplib``, standard library); each step is one
``asyncio.to_thread`` call, never on the event loop. A message is flagged ``\\Deleted``
and expunged (or moved to the mailbox's done folder) only after
:meth:`Intake.take <server.mail.inbound.intake.Intake.take>` returned, that is after its
ticket or comment was committed: a crash before that fetches it again, and its Message-ID
makes the second take a no-op. Between rounds the reader waits in IDLE (RFC 2177) when
the server offers it, else it polls every ``mail_imap_poll_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import select
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from server.mail.inbound.ingest import Route
from server.mail.inbound.intake import Intake
from server.mail.inbound.oauth import OAuthConfig, access_token, xoauth2

log = logging.getLogger("deskmate.mail.in")
TIMEOUT = 60.0
BATCH = 50  # messages per round; the next round starts at once when there were more
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 600.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapConfig:
    """Where a mailbox is and how to log in; the password is never logged."""

    mailbox_id: int
    name: str
    host: str
    port: int
    security: str  # tls | starttls | none
    username: str
    password: str
    folder: str
    done_folder: str
    route: Route
    ca_file: str = ""
    oauth: OAuthConfig | None = None  # None: log in with the password

    def __repr__(self) -> str:
        return f"ImapConfig(name={self.name!r}, host={self.host!r}, port={self.port})"


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One logged-in IMAP connection (blocking calls: run each in a thread)."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        context = ssl.create_default_context(cafile=config.ca_file or None)
        if config.security == "tls":
            self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(config.host, config.port,
                                                         ssl_context=context, timeout=TIMEOUT)
        else:
            self.imap = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT)
        try:
            if config.security == "starttls":
                self.imap.starttls(ssl_context=context)
            self._open(config)
        except BaseException:
            with contextlib.suppress(Exception):
                self.imap.shutdown()
            raise

    def _open(self, config: ImapConfig) -> None:
        if config.oauth is not None:
            token = access_token(config.oauth, ca_file=config.ca_file)
            self.imap.authenticate("XOAUTH2", lambda _challenge: xoauth2(config.username, token))
        else:
            self.imap.login(config.username, config.password)
        # Servers announce more after login (RFC 9051 section 6.2.3): ask again.
        typ, data = self.imap.capability()
        caps = set(data[0].decode("ascii", "replace").upper().split()) if typ == "OK" \
            and data and isinstance(data[0], bytes) else set(self.imap.capabilities)
        typ, data = self.imap.select(_quote(config.folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {config.folder!r}: {data!r}")
        self.idle = "IDLE" in caps
        self.move = "MOVE" in caps
        self.uidplus = "UIDPLUS" in caps

    def pending(self) -> list[int]:
        """Return the UIDs of the messages not yet removed, oldest first."""
        typ, data = self.imap.uid("SEARCH", "UNDELETED")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"SEARCH failed: {data!r}")
        return sorted(int(u) for u in (data[0] or b"").split())

    def fetch(self, uid: int) -> bytes | None:
        """Return one message's bytes without setting \\Seen (None: it is gone)."""
        typ, data = self.imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uid} failed: {data!r}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return bytes(item[1])
        return None

    def remove(self, uids: list[int]) -> None:
        """Remove messages from the folder: moved to the done folder, or deleted."""
        if not uids:
            return
        done = self.config.done_folder
        which = ",".join(str(u) for u in uids)
        if done and self.move:
            typ, data = self.imap.uid("MOVE", which, _quote(done))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"MOVE {which} failed: {data!r}")
            return
        if done:
            typ, data = self.imap.uid("COPY", which, _quote(done))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"COPY {which} failed: {data!r}")
        self.imap.uid("STORE", which, "+FLAGS.SILENT", r"(\Deleted)")
        if self.uidplus:
            self.imap.uid("EXPUNGE", which)
        else:
            self.imap.expunge()

    def wait(self, seconds: float, stopped: Callable[[], bool]) -> None:
        """Wait for new mail: IDLE until the server reports some or ``seconds`` pass.

        Without IDLE, a NOOP after the wait lets the server report changes.
        """
        if not self.idle:
            end = seconds
            while end > 0 and not stopped():  # in the reader's thread, not the loop
                step = min(1.0, end)
                time.sleep(step)
                end -= step
            self.imap.noop()
            return
        imap = self.imap
        tag = imap._new_tag()  # imaplib has no IDLE before Python 3.14
        imap.send(tag + b" IDLE\r\n")
        line = imap.readline()
        if not line.startswith(b"+"):
            raise imaplib.IMAP4.error(f"IDLE refused: {line!r}")
        # Wait with select() rather than a socket timeout: a timed-out socket file cannot
        # be read again. (Bytes the reader buffered with the "+" line would wait for the
        # next round; servers send the continuation on its own.)
        sock = imap.socket()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stopped():
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not pending and not select.select([sock], [], [], 1.0)[0]:
                continue
            line = imap.readline()
            if not line:
                raise imaplib.IMAP4.abort("connection closed in IDLE")
            if b"EXISTS" in line or b"RECENT" in line:
                break
        imap.send(b"DONE\r\n")
        while True:  # the tagged end of IDLE (untagged updates may come first)
            line = imap.readline()
            if not line:
                raise imaplib.IMAP4.abort("connection closed after IDLE")
            if line.startswith(tag):
                break

    def close(self) -> None:
        """Log out (errors ignored: the connection may be gone); the socket is closed."""
        try:
            self.imap.logout()
        except Exception:
            with contextlib.suppress(Exception):
                self.imap.shutdown()


class ImapReader:
    """Read one mailbox until stopped: rounds of fetch and take, then IDLE or a poll wait."""

    def __init__(self, intake: Intake, config: ImapConfig, *, poll_seconds: float,
                 on_status: Callable[[int, str | None], None] | None = None) -> None:
        self.intake = intake
        self.config = config
        self.poll_seconds = poll_seconds
        self.on_status = on_status
        self.stopping = False
        self.session: ImapSession | None = None
        self.rounds = 0

    async def run_round(self) -> int:
        """Take in up to BATCH waiting messages; return how many were handled."""
        if self.session is None:
            self.session = await asyncio.to_thread(ImapSession, self.config)
        session = self.session
        uids = await asyncio.to_thread(session.pending)
        written: list[int] = []
        try:
            for uid in uids[:BATCH]:
                if self.stopping:
                    break
                raw = await asyncio.to_thread(session.fetch, uid)
                if raw is not None:
                    await self.intake.take(raw, self.config.route)
                written.append(uid)
        finally:
            # Only messages whose ticket or comment is committed leave the folder, in one
            # command per round (a crash before it fetches them again: de-duplicated).
            await asyncio.to_thread(session.remove, written)
        self.rounds += 1
        return len(written)

    def _close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    async def run_forever(self) -> None:
        """Read until :meth:`stop`; errors are logged, recorded and retried with backoff."""
        delay = BACKOFF_FIRST
        while not self.stopping:
            try:
                handled = await self.run_round()
                if self.on_status:
                    self.on_status(self.config.mailbox_id, None)
                delay = BACKOFF_FIRST
                if handled >= BATCH or self.stopping:
                    continue
                session = self.session
                assert session is not None
                await asyncio.to_thread(session.wait, self.poll_seconds, lambda: self.stopping)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: reconnect later
                log.warning("mailbox %r: %s", self.config.name, exc)
                if self.on_status:
                    self.on_status(self.config.mailbox_id, f"{type(exc).__name__}: {exc}"[:500])
                await asyncio.to_thread(self._close)
                waited = 0.0
                while waited < delay and not self.stopping:
                    await asyncio.sleep(0.5)
                    waited += 0.5
                delay = min(BACKOFF_MAX, delay * 2)
        await asyncio.to_thread(self._close)

    def stop(self) -> None:
        """Ask the reader to stop after the message in hand (IDLE ends within a second)."""
        self.stopping = True
