"""The idle agent's footprint: the session stack loads only when a session starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Everything `deskmate-agent run` sets up before any session, as cli.cmd_run does it.
IDLE_PATH = r'''
import json, sys
from endpoint_agent import cli
from endpoint_agent.connection import Agent
from endpoint_agent.health.runner import HealthRunner
from endpoint_agent.inventory import collect
from endpoint_agent.outbox import Outbox
from endpoint_agent.sampling import prime, sample
from endpoint_agent.state import AgentState
from endpoint_agent.tray.local import LocalServer
from endpoint_agent.remote.lazy import LazyRemote

remote = LazyRemote(":0", clipboard=True)
before = sorted(sys.modules)
remote.load()
print(json.dumps({"idle": before, "session": sorted(sys.modules)}))
'''

# The capture stack and the modules that pull it in.
SESSION_STACK = ("numpy", "mss", "Xlib", "simplejpeg", "PIL", "tkinter",
                 "endpoint_agent.remote.controller", "endpoint_agent.remote.capture",
                 "endpoint_agent.remote.inject", "endpoint_agent.remote.clipboard",
                 "endpoint_agent.remote.ui", "endpoint_agent.remote.tiles")


def loaded(modules: list[str]) -> set[str]:
    """Return which of the session stack's modules are among ``modules``."""
    return {name for name in SESSION_STACK
            if any(m == name or m.startswith(name + ".") for m in modules)}


def test_the_idle_agent_imports_no_capture_module_until_a_session_loads_them() -> None:
    """Importing the agent's idle path leaves the capture stack out; a session brings it in."""
    out = subprocess.run([sys.executable, "-c", IDLE_PATH], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    modules = json.loads(out.stdout)
    assert loaded(modules["idle"]) == set()
    assert {"endpoint_agent.remote.controller", "endpoint_agent.remote.ui"} <= loaded(
        modules["session"])
