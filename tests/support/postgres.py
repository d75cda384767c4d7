"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, one
``postgres`` server listening on a Unix socket only, one database per test.

PostgreSQL refuses to run as root. When the tests run as root, the cluster runs as the
``postgres`` system user (created by Debian's ``postgresql`` package) through
``setpriv``; otherwise it runs as the current user. Durability settings are off
(``fsync``, ``synchronous_commit``, ``full_page_writes``): the cluster lives for one test
session and is deleted after it, or by the next session if its run was killed.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support.tools import missing

SUPERUSER = "deskmate"  # initdb's bootstrap superuser; trust authentication on the socket
RUN_AS = "postgres"  # the unprivileged account used when the tests run as root
START_TIMEOUT = 30.0
_SERVER_OPTIONS = {
    "listen_addresses": "",  # Unix socket only: nothing listens on the network
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def find_bindir() -> Path | None:
    """Return the directory holding initdb and postgres (newest version first), or None."""
    candidates: list[str] = []
    if os.environ.get("DESKMATE_TEST_PG_BINDIR"):
        candidates.append(os.environ["DESKMATE_TEST_PG_BINDIR"])

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path))

    # Debian keeps the server binaries off PATH, one directory per major version.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        bindir = Path(candidate)
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    return None


class Cluster:
    """A running PostgreSQL server in a temporary directory."""

    def __init__(self, root: Path, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.process = process
        self._names = itertools.count(1)
        # Copies of a template are made one ahead, on this thread (see database()).
        self._spares: dict[str, Future[str]] = {}
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-spare")

    def url(self, dbname: str) -> str:
        """Return the SQLAlchemy URL of a database of this cluster (psycopg 3, socket)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.root}"

    def connect(self, **kw: Any) -> Any:
        """Open a psycopg connection to the maintenance database as the superuser."""
        import psycopg

        return psycopg.connect(host=str(self.root), user=SUPERUSER, dbname="postgres", **kw)

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        with self.connect(autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        """Create a database (an empty one, or a copy of ``template``); return its name."""
        name = name or f"test_{next(self._names)}"
        # template0 is the pristine empty database; template1 may carry local changes.
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whatever still holds it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def database(self, *, template: str | None = None) -> Iterator[str]:
        """Yield the URL of a fresh database, dropped afterwards.

        A copy of a migrated template takes ~0.3 s (an empty database far less): the next
        copy is made on a worker thread while the test runs, so a test seldom waits.
        """
        if template is None:
            name = self.create_database()
        else:
            spare = self._spares.pop(template, None)
            name = spare.result() if spare else self.create_database(template=template)
            self._spares[template] = self._maker.submit(self.create_database,
                                                        template=template)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def log(self) -> str:
        """Return the server's log (for failure messages)."""
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        self._maker.shutdown(wait=True)  # a copy in progress finishes first
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, exit
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as() -> tuple[list[str], int, int]:
    """Return the command prefix, uid and gid the cluster runs under."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    try:
        account = pwd.getpwnam(RUN_AS)
    except KeyError:
        missing(f"the tests run as root and there is no {RUN_AS!r} user to run PostgreSQL "
                "as (it refuses root); install the postgresql package, which creates it")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        missing("the tests run as root and 'setpriv' (util-linux) is not installed")
    prefix = [setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
              "--clear-groups", "--"]
    return prefix, account.pw_uid, account.pw_gid


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans() -> None:
    """Stop and delete clusters left by test runs that were killed before their teardown.

    A cluster records the pid of the test process that made it (``owner.pid``); one
    whose owner is gone is an orphan. Its postmaster is stopped only if that process
    is the ``postgres`` of that very directory.
    """
    for owner in glob.glob(os.path.join(tempfile.gettempdir(), "deskmate-pg-*", "owner.pid")):
        root = Path(owner).parent
        try:
            if _pid_alive(int(Path(owner).read_text())):
                continue
            postmaster = int((root / "data" / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{postmaster}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            cmdline, postmaster = b"", 0
        if postmaster and str(root / "data").encode() in cmdline:
            os.kill(postmaster, signal.SIGINT)  # fast shutdown
            for _ in range(100):
                if not _pid_alive(postmaster):
                    break
                time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster for the test session; stop and delete it afterwards."""
    try:
        import psycopg  # noqa: F401 - the driver the server will use
    except ImportError:
        missing("psycopg is not installed (pip install -e '.[postgres]')")
    bindir = find_bindir()
    if bindir is None:
        missing("PostgreSQL server binaries (initdb, postgres) are not installed "
                "(Debian: apt-get install postgresql)")
    prefix, uid, gid = _run_as()
    remove_orphans()
    root = Path(tempfile.mkdtemp(prefix="deskmate-pg-"))
    (root / "owner.pid").write_text(str(os.getpid()))
    os.chown(root, uid, gid)
    data = root / "data"
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    init = subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        env=env, capture_output=True, check=False)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')}")
    options = [arg for key, value in _SERVER_OPTIONS.items() for arg in ("-c", f"{key}={value}")]
    with open(root / "server.log", "wb") as log:
        # Its own session: a Ctrl-C in the terminal stops pytest, whose teardown stops this.
        process = subprocess.Popen(
            [*prefix, str(bindir / "postgres"), "-D", str(data), "-k", str(root), *options],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    cluster = Cluster(root, process)
    try:
        _wait_ready(cluster)
        yield cluster
    finally:
        cluster.stop()


def _wait_ready(cluster: Cluster) -> None:
    """Wait until the server accepts connections on its socket."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if cluster.process.poll() is not None:
            raise RuntimeError(f"postgres exited at start:\n{cluster.log()}")
        import psycopg

        try:
            with cluster.connect(connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start:\n{cluster.log()}") from None
            time.sleep(0.05)
