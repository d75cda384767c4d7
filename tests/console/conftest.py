"""Console test fixtures beyond tests/conftest.py: a server and a browser per module."""

from tests.support.module_desk import module_browser, module_server

__all__ = ["module_browser", "module_server"]
