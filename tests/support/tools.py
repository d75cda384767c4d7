"""Missing external tools: skip locally, fail under CI (a skip there hides an install step)."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """Tell whether the suite runs under CI (CI=true)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}; .ci/run must install it", pytrace=False)
    pytest.skip(reason)


def require_executable(name: str) -> str:
    """Return the path of an executable, or skip/fail when it is not installed."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name!r} is not installed")
    assert path is not None
    return path
