"""Fail a test run that changed files of the git checkout (committed screenshots, say).

Tests write into temporary directories; only ``make screenshots`` writes into
docs/screenshots (it sets ``DESKMATE_SCREENSHOTS``, which turns this check off). The
check compares ``git status`` and the content of every file it lists, before and after
the run. Load it with ``-p tests.support.clean_tree`` (tests/conftest.py does).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCREENSHOTS_ENV = "DESKMATE_SCREENSHOTS"
BEFORE = pytest.StashKey[dict[str, str]]()


def git_state(root: Path) -> dict[str, str] | None:
    """Return {path: status and content digest} of the files git sees as changed.

    None when ``root`` is not inside a git checkout (an unpacked release, say).
    """
    git = shutil.which("git")
    if git is None:
        return None
    done = subprocess.run([git, "status", "--porcelain=v1", "-z", "--untracked-files=all"],
                          cwd=root, capture_output=True, check=False)
    if done.returncode != 0:
        return None
    top = subprocess.run([git, "rev-parse", "--show-toplevel"], cwd=root,
                         capture_output=True, text=True, check=True).stdout.strip()
    state: dict[str, str] = {}
    entries = done.stdout.decode(errors="replace").split("\0")
    for entry in entries:
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        file = Path(top) / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "-"
        state[path] = f"{status} {digest}"
    return state


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Return the paths whose git status or content differs between two states."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get(SCREENSHOTS_ENV):
        return
    state = git_state(session.config.rootpath)
    if state is not None:
        session.stash[BEFORE] = state


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.stash.get(BEFORE, None)
    if before is None:
        return
    after = git_state(session.config.rootpath)
    if after is None:
        return
    changed = changes(before, after)
    if not changed:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    text = ("the test run changed files of the checkout (tests must write into temporary "
            "directories; screenshots for the docs come from `make screenshots`):\n  "
            + "\n  ".join(changed))
    if reporter is not None:
        reporter.write_sep("=", "checkout changed", red=True)
        reporter.write_line(text)
    else:
        print(text)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
