"""The Deskmate endpoint agent."""

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"


class _Deferred(types.ModuleType):
    """Stands for a standard module until something reads one of its attributes.

    websockets imports two modules at start that the agent's connection never uses:
    ``importlib.metadata`` (its released version is a constant; with it zipfile, email
    and csv) and ``urllib.request`` (its proxy lookup, which the agent skips when no
    ``*_proxy`` variable is set; with it http.client and email): ~5 MB RSS the idle
    agent would hold for its whole life (docs/performance.md, "Agent memory"). The first
    attribute read imports the real module, which takes this one's place everywhere.
    (``importlib.util.LazyLoader`` cannot do this: the import system reads a lazy
    module's ``__spec__`` on the next ``import`` of it and so loads it at once.)
    """

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    stand_in = _Deferred(name)
    sys.modules[name] = stand_in
    setattr(importlib.import_module(parent), child, stand_in)  # as an import binds it


_defer("importlib.metadata")
_defer("urllib.request")
