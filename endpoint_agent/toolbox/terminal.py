"""A login shell in a pseudo-terminal, read and written without blocking the loop.

The shell runs in its own session with the pty as its controlling terminal (so job
control, Ctrl+C and SIGWINCH work), as the account given. Output is read when the pty is
readable into a small bounded queue: when the link cannot keep up, the agent stops
reading, the pty's buffer fills and the program writing to it waits — nothing piles up.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import pwd
import signal
import struct
import subprocess
import termios
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared import toolbox as tb

READ_SIZE = 4096  # bytes per read: a message stays well under the 64 KiB control limit
QUEUE_CHUNKS = 32  # read chunks waiting to be sent before reading pauses
MAX_PENDING_INPUT = 256 * 1024  # bytes typed or pasted but not yet taken by the pty
TERM = "xterm-256color"


class AccountError(Exception):
    """No account to run a terminal as."""


@dataclass(frozen=True)
class Account:
    """An OS account a terminal runs as."""

    name: str
    uid: int
    gid: int
    home: str
    shell: str


def account(name: str) -> Account:
    """Return the account called ``name``.

    Raises:
        AccountError: no such account.
    """
    try:
        entry = pwd.getpwnam(name)
    except KeyError as exc:
        raise AccountError(f"no account {name!r} on this computer") from exc
    shell = entry.pw_shell if entry.pw_shell and os.access(entry.pw_shell, os.X_OK) else ""
    if not shell or shell.endswith(("nologin", "false")):
        shell = "/bin/sh"
    return Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid,
                   home=entry.pw_dir or "/", shell=shell)


def _environment(user: Account) -> dict[str, str]:
    lang = os.environ.get("LANG") or "C.UTF-8"
    if "UTF-8" not in lang.upper().replace("UTF8", "UTF-8"):
        lang = "C.UTF-8"  # the technician's terminal speaks UTF-8
    return {"HOME": user.home, "USER": user.name, "LOGNAME": user.name, "SHELL": user.shell,
            "TERM": TERM, "LANG": lang, "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
            "/usr/bin:/sbin:/bin" if user.uid == 0 else "/usr/local/bin:/usr/bin:/bin"}


def set_size(fd: int, cols: int, rows: int) -> None:
    """Tell the pty its size (the kernel signals SIGWINCH to the foreground programs)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Terminal:
    """One shell in one pty."""

    def __init__(self, user: Account, *, cols: int, rows: int,
                 send: Callable[[str], Awaitable[None]]) -> None:
        self.user = user
        self.cols, self.rows = cols, rows
        self._send = send
        self._fd = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_CHUNKS)
        self._reading = False
        self._eof = False
        self._pending = bytearray()  # input the pty has not taken yet
        self._writing = False
        self._utf8 = tb.Utf8Stream()
        self.bytes_out = 0
        self.bytes_in = 0

    async def start(self) -> None:
        """Start the login shell.

        Raises:
            OSError: the pty or the shell could not be made.
        """
        master = await asyncio.to_thread(self._spawn)
        self._fd = master
        asyncio.get_running_loop().add_reader(master, self._readable)
        self._reading = True

    def _spawn(self) -> int:
        """Open the pty and start the shell on it (blocking); return the master side."""
        master, slave = os.openpty()
        try:
            set_size(slave, self.cols, self.rows)
            shell = self.user.shell
            change = os.getuid() != self.user.uid

            def attach() -> None:  # in the child, after the account change
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self._proc = subprocess.Popen(  # noqa: S603 - the account's own shell
                [shell, "-l"], stdin=slave, stdout=slave, stderr=slave, cwd=self.user.home
                if os.path.isdir(self.user.home) else "/", env=_environment(self.user),
                preexec_fn=attach, close_fds=True,
                user=self.user.uid if change else None, group=self.user.gid if change else None,
                extra_groups=_groups(self.user) if change else None)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return master

    @property
    def pid(self) -> int | None:
        """Return the shell's process id."""
        return self._proc.pid if self._proc is not None else None

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: every program holding the pty is gone
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._eof = True
            self._pause()
            if not self._chunks.full():  # else the pump sees _eof once it drained them
                self._chunks.put_nowait(None)
            return
        self._chunks.put_nowait(data)
        if self._chunks.full():
            self._pause()  # backpressure: the program waits until the link catches up

    def _pause(self) -> None:
        if self._reading:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._reading = False

    async def pump(self) -> int | None:
        """Send the output until the shell's side closes; return its exit status."""
        while True:
            data = await self._chunks.get()
            if data is None:
                break
            # Join what queued meanwhile, within one message's size.
            while not self._chunks.empty() and len(data) < READ_SIZE * 2:
                more = self._chunks.get_nowait()
                if more is None:
                    self._chunks.put_nowait(None)  # seen again by the next get
                    break
                data += more
            self.bytes_out += len(data)
            text = self._utf8.feed(data)
            for piece in tb.chunks(text):
                await self._send(piece)
            if self._eof and self._chunks.empty():
                break
            if not self._reading and not self._eof and self._fd >= 0:
                asyncio.get_running_loop().add_reader(self._fd, self._readable)
                self._reading = True
        rest = self._utf8.flush()
        if rest:
            await self._send(rest)
        return await self.wait()

    async def wait(self) -> int | None:
        """Wait for the shell to exit; return its status (negative: a signal)."""
        if self._proc is None:
            return None
        return await asyncio.to_thread(self._proc.wait)

    def write(self, text: str) -> bool:
        """Queue typed text for the shell; False when over the pending-input limit."""
        data = text.encode("utf-8", "replace")
        if len(self._pending) + len(data) > MAX_PENDING_INPUT:
            return False
        self._pending += data
        self.bytes_in += len(data)
        self._flush_input()
        return True

    def _flush_input(self) -> None:
        if self._fd < 0:
            self._pending.clear()
            return
        while self._pending:
            try:
                n = os.write(self._fd, self._pending)
            except BlockingIOError:
                break
            except OSError:
                self._pending.clear()
                break
            del self._pending[:n]
        loop = asyncio.get_running_loop()
        if self._pending and not self._writing:
            loop.add_writer(self._fd, self._flush_input)
            self._writing = True
        elif not self._pending and self._writing:
            loop.remove_writer(self._fd)
            self._writing = False

    def resize(self, cols: int, rows: int) -> None:
        """Give the pty a new size."""
        self.cols, self.rows = cols, rows
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                set_size(self._fd, cols, rows)

    async def close(self, *, grace: float = 2.0) -> None:
        """Hang up: SIGHUP the shell's session, SIGKILL it after ``grace`` seconds."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGHUP)
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await asyncio.to_thread(proc.wait)
        self._release()

    def _release(self) -> None:
        if self._fd >= 0:
            loop = asyncio.get_running_loop()
            if self._reading:
                loop.remove_reader(self._fd)
                self._reading = False
            if self._writing:
                loop.remove_writer(self._fd)
                self._writing = False
            os.close(self._fd)
            self._fd = -1
        if not self._chunks.full():
            self._chunks.put_nowait(None)


def _groups(user: Account) -> list[int]:
    try:
        return os.getgrouplist(user.name, user.gid)
    except OSError:
        return [user.gid]
