"""Shared fixtures: a real server per test, clients per role, Xvfb, Chromium, loop guard.

Two guards apply to every test: blockbuster fails a test that blocks the event loop, and
tests/support/error_log.py fails a test during which Deskmate logs an error it did not
declare (``@pytest.mark.expect_error_log``). tests/support/clean_tree.py fails a run that
changed files of the checkout; screenshots go to the ``screenshots`` fixture's temporary
directory unless ``make screenshots`` asks for docs/screenshots.

Modules marked ``pytest.mark.all_databases`` run each test that uses the database (through
``server``, ``database_url`` or ``backend``) twice: on SQLite and on PostgreSQL (a
throwaway cluster for the session, a fresh database per test; tests/support/postgres.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from blockbuster import BlockBuster, blockbuster_ctx

from server.auth import passwords
from server.db import migrate
from server.db.database import Database, create_engine
from tests.support.browser import CHROMIUM_ARGS, chromium_path, open_page
from tests.support.postgres import Cluster, postgres_cluster
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer, start_server
from tests.support.xvfb import xvfb_display

pytest_plugins = ("pytester", "tests.support.error_log", "tests.support.clean_tree")
SCREENSHOTS_ENV = "DESKMATE_SCREENSHOTS"  # set by `make screenshots`


# Argon2id at its production cost (64 MiB, t=3: 0.2 s of a core per call) took two thirds
# of the server tests' time. Servers in the test process hash with the same algorithm at
# its lowest cost; servers the tests start as processes hash at the real one, and
# tests/server/test_password_guard.py checks the real one's parameters.
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_argon2() -> Iterator[None]:
    """Hash and check passwords at Argon2id's lowest cost in this process (see above)."""
    real = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = CHEAP_ARGON2
    passwords._DUMMY_HASH = CHEAP_ARGON2.hash("not anyone's password")
    yield
    passwords._hasher, passwords._DUMMY_HASH = real


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test in which Deskmate code makes a blocking call on the event loop."""
    with blockbuster_ctx(["server", "shared", "endpoint_agent"]) as bb:
        yield bb


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves the screenshots it takes for the docs.

    A temporary directory, so a test run leaves the checkout as it was; ``make
    screenshots`` sets DESKMATE_SCREENSHOTS to docs/screenshots and runs the tests marked
    ``screenshots``.
    """
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The files that take longest for their few tests (browser walks, the API fuzz's shards,
# generated histories, real identity providers and desktops). `make test` hands whole files
# to its workers in collection order (--dist loadfile --no-loadscope-reorder): these go
# first, then the rest by number of tests, most first (what xdist's own reordering does),
# so the run ends on short files and both workers finish together. Only the order changes.
LONG_FILES = (
    "tests/console/test_walk_phone.py",
    "tests/console/test_walk_desktop.py",
    "tests/console/test_languages.py",
    "tests/server/test_api_fuzz.py",
    "tests/server/test_api_fuzz_people.py",
    "tests/server/test_api_fuzz_knowledge.py",
    "tests/server/test_api_fuzz_tickets.py",
    "tests/console/test_remote_wayland.py",
    "tests/server/reports/test_figures.py",
    "tests/server/identity/test_oidc.py",
    "tests/console/test_sso.py",
    "tests/server/mail/test_mail_in_oauth.py",
    "tests/server/mail/test_mail_in_admin.py",
    "tests/console/test_survey.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files for the workers: :data:`LONG_FILES` first, then by test count."""
    files: dict[str, int] = {}
    for item in items:
        name = item.nodeid.split("::")[0]
        files[name] = files.get(name, 0) + 1
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    # A stable sort: each file's tests stay together and in their order.
    items.sort(key=lambda item: (rank.get(name := item.nodeid.split("::")[0], len(rank)),
                                 -files[name]))


BACKENDS = ("sqlite", "postgres")
TEMPLATE = "deskmate_template"  # migrated once per session; each test gets a copy


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the database tests of modules marked ``all_databases`` on both backends."""
    marked = metafunc.definition.get_closest_marker
    if ("backend" in metafunc.fixturenames and marked("all_databases")
            and not marked("sqlite_only")):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on: "sqlite" unless parametrized (see the module doc)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session with a template database at the newest schema."""
    with postgres_cluster() as cluster:
        cluster.create_database(name=TEMPLATE)
        db = Database(create_engine(cluster.url(TEMPLATE)))
        try:
            db.write_sync(migrate.upgrade)  # every migration, once, on PostgreSQL
        finally:
            db.close()
        yield cluster


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str) -> Iterator[str]:
    """The server's ``database_url``: "" (its SQLite file) or a fresh PostgreSQL database.

    The PostgreSQL database is a copy of the session's migrated template (a copy takes
    ~50 ms, the migrations much longer); the server still runs the migrations, which find
    nothing to do. tests/server/test_migrations.py migrates empty databases.
    """
    if backend == "sqlite":
        yield ""
        return
    cluster: Cluster = request.getfixturevalue("postgres")
    with cluster.database(template=TEMPLATE) as url:
        yield url


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, backend: str,
                       tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (a SQLite file or a PostgreSQL database), unmigrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: Cluster = request.getfixturevalue("postgres")
    with cluster.database() as url:
        yield url


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    """Start the real server over TLS on 127.0.0.1 port 0 with a temporary data dir."""
    running = await start_server(tmp_path / "data", database_url=database_url)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def admin(server: RunningServer) -> Client:
    """A console session of the first admin."""
    return await server.login("admin", ADMIN_PASSWORD)


@pytest.fixture
async def technician(server: RunningServer, admin: Client) -> Client:
    """A console session of a technician."""
    await server.create_user(admin, "tina", "technician")
    return await server.login("tina")


@pytest.fixture
async def requester(server: RunningServer, admin: Client) -> Client:
    """A console session of a requester."""
    await server.create_user(admin, "rick", "requester")
    return await server.login("rick")


@pytest.fixture
async def clients(server: RunningServer, admin: Client, technician: Client,
                  requester: Client) -> dict[str, Client]:
    """One logged-in client per role, plus an anonymous one."""
    return {"admin": admin, "technician": technician, "requester": requester,
            "anonymous": server.client()}


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A private Xvfb display (1920x1080x24) for the test session."""
    with xvfb_display() as display:
        yield display


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    return chromium_path()


@pytest.fixture
async def browser(chromium_executable: str) -> AsyncIterator[Any]:
    """A headless Chromium instance (Playwright, Debian's binary, never a download)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=chromium_executable,
                                            headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def page(browser: Any, server: RunningServer) -> AsyncIterator[Any]:
    """A fresh page on the test server that fails the test on errors in the page."""
    async with open_page(browser, server.base_url) as pg:
        yield pg
