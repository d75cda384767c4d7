"""The suite's own guards: unexpected error logs fail a test; a run must not touch the tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.clean_tree import changes, git_state

ROOT = Path(__file__).resolve().parents[1]

INNER_TESTS = r'''
import asyncio
import gc
import logging

import aiohttp
import pytest
from aiohttp import web


def test_logs_an_error():
    logging.getLogger("deskmate.agents").error("something broke")


def test_logs_a_traceback_as_a_warning():
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("endpoint_agent.x").warning("went on", exc_info=True)


def test_logs_an_error_elsewhere():
    logging.getLogger("somelib").error("not ours")


def test_logs_a_warning():
    logging.getLogger("deskmate.agents").warning("just a warning")


@pytest.mark.expect_error_log(r"deskmate\.mail: delivery failed\nOSError: refused")
def test_declares_its_error():
    try:
        raise OSError("refused")
    except OSError:
        logging.getLogger("deskmate.mail").exception("delivery failed")


def test_declares_later(error_log):
    error_log.expect("expected now")
    logging.getLogger("deskmate.x").error("expected now")


def test_drops_a_failed_task():
    async def fail():
        raise RuntimeError("nobody looks")

    async def main():
        task = asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)
        del task

    asyncio.run(main())
    gc.collect()


def test_handler_raises_in_aiohttp():
    async def boom(request):
        raise RuntimeError("handler bug")

    async def main():
        app = web.Application()
        app.router.add_get("/", boom)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as resp:
                assert resp.status == 500
        await runner.cleanup()

    asyncio.run(main())


@pytest.fixture
def noisy_teardown():
    yield
    logging.getLogger("server.x").error("while closing")


def test_error_in_teardown(noisy_teardown):
    pass
'''


def run_inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
              *plugins: str) -> pytest.RunResult:
    """Run INNER_TESTS in a fresh pytest process with the given plugins."""
    pytester.makepyfile(test_inner=INNER_TESTS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    args = [a for plugin in plugins for a in ("-p", plugin)]
    return pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider", "-rA",
                                         "-W", "ignore::pytest.PytestAssertRewriteWarning")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Return {test name: PASSED, FAILED or ERROR} from an inner run's -rA summary."""
    found: dict[str, str] = {}
    for line in result.outlines:
        if line.startswith(("PASSED test_inner.py::", "FAILED test_inner.py::",
                            "ERROR test_inner.py::")):
            word, rest = line.split(" ", 1)
            found[rest.split("::")[1].split(" ")[0]] = word  # ERROR (teardown) comes last
    return found


def test_unexpected_error_logs_fail_the_test_and_declared_ones_pass(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors and tracebacks of watched loggers fail the test unless it declared them."""
    result = run_inner(pytester, monkeypatch, "tests.support.error_log")
    assert outcomes(result) == {
        "test_logs_an_error": "FAILED",
        "test_logs_a_traceback_as_a_warning": "FAILED",
        "test_logs_an_error_elsewhere": "PASSED",
        "test_logs_a_warning": "PASSED",
        "test_declares_its_error": "PASSED",
        "test_declares_later": "PASSED",
        "test_drops_a_failed_task": "FAILED",
        "test_handler_raises_in_aiohttp": "FAILED",
        "test_error_in_teardown": "ERROR",
    }, result.stdout.str()
    text = result.stdout.str()
    assert "deskmate.agents: something broke" in text
    assert "Task exception was never retrieved" in text
    assert "Error handling request" in text
    assert "server.x: while closing" in text


def test_without_the_guard_error_logs_pass(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner tests fail only because of the guard (they pass without it)."""
    result = run_inner(pytester, monkeypatch)
    found = outcomes(result)
    for name in ("test_logs_an_error", "test_logs_a_traceback_as_a_warning",
                 "test_drops_a_failed_task", "test_handler_raises_in_aiohttp",
                 "test_error_in_teardown"):
        assert found[name] == "PASSED", result.stdout.str()


def test_a_changed_file_of_the_checkout_is_reported(tmp_path: Path) -> None:
    """Writing a committed file, or a new one, shows as a change; untouched trees show none."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "shot.png").write_bytes(b"old")
    (tmp_path / "edited.txt").write_text("edited before the run")
    subprocess.run(["git", "-C", str(tmp_path), "add", "shot.png"], check=True)
    before = git_state(tmp_path)
    assert before is not None
    assert changes(before, git_state(tmp_path) or {}) == []
    (tmp_path / "shot.png").write_bytes(b"new")
    (tmp_path / "left-behind.log").write_text("x")
    assert changes(before, git_state(tmp_path) or {}) == ["left-behind.log", "shot.png"]


def test_a_run_that_writes_into_the_checkout_fails(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A passing run that changed a tracked file exits as failed and names the file."""
    subprocess.run(["git", "init", "-q", str(pytester.path)], check=True)
    pytester.makepyfile(test_writer="""
        from pathlib import Path

        def test_writes():
            Path(__file__).with_name("docs.png").write_bytes(b"rewritten")
    """)
    (pytester.path / "docs.png").write_bytes(b"committed")
    subprocess.run(["git", "-C", str(pytester.path), "add", "docs.png"], check=True)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("DESKMATE_SCREENSHOTS", raising=False)
    result = pytester.runpytest_subprocess("-p", "tests.support.clean_tree", "-p",
                                           "no:cacheprovider", "-W",
                                           "ignore::pytest.PytestAssertRewriteWarning")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*the test run changed files of the checkout*", "*docs.png*"])
