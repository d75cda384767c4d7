"""The idle agent's footprint: the session stack loads only when a session starts, and
neither the cryptography package nor websockets' unused imports are held at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import websockets.version
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from endpoint_agent.connection import proxy_setting
from endpoint_agent.inventory import SECTIONS, collect, isolated, section_digests
from endpoint_agent.inventory.isolated import collect_isolated
from endpoint_agent.state import AgentState, Enrollment
from server.tls import ensure_own_ca
from shared import protocol as p

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
state = AgentState(__import__("pathlib").Path(sys.argv[1]))
state.load(), state.load_key()  # the stored CA checked against its pin, the device key
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


def test_the_idle_agent_imports_no_capture_module_until_a_session_loads_them(
        tmp_path: Path) -> None:
    """The idle path (with its key and pinned CA loaded) leaves the capture stack and the
    cryptography package out; a session brings the stack in."""
    info = ensure_own_ca(tmp_path / "tls", hostnames=[])
    assert info.ca_file is not None
    state = AgentState(tmp_path / "state")
    state.save(Enrollment(server_url="https://127.0.0.1:1", device_id="d",
                          fingerprint=info.fingerprint, websocket_path="/ws"),
               info.ca_file.read_bytes(), Ed25519PrivateKey.generate())
    out = subprocess.run([sys.executable, "-c", IDLE_PATH, str(state.dir)], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=60)
    modules = json.loads(out.stdout)
    assert loaded(modules["idle"]) == set()
    assert not [m for m in modules["idle"] if m.split(".")[0] == "cryptography"]
    # What websockets' stand-ins keep out (importlib.metadata, urllib.request).
    assert not {"email", "zipfile", "http.client", "csv"} & set(modules["idle"])
    assert {"endpoint_agent.remote.controller", "endpoint_agent.remote.ui"} <= loaded(
        modules["session"])


def test_the_deferred_standard_modules_load_in_full_on_first_use() -> None:
    """importlib.metadata and urllib.request, kept out of the idle agent, work when read."""
    code = ("import endpoint_agent, sys, websockets.asyncio.client\n"
            "import importlib.metadata, urllib.request\n"
            "print(importlib.metadata.version('websockets'), "
            "type(urllib.request.getproxies()).__name__, "
            "type(sys.modules['urllib.request']).__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    assert out.stdout.split() == [websockets.version.version, "dict", "module"]


def test_websockets_looks_a_proxy_up_only_when_one_is_configured() -> None:
    """Without a *_proxy variable the agent connects directly; with one, websockets decides."""
    assert proxy_setting({"PATH": "/bin", "LANG": "C"}) is None
    assert proxy_setting({"HTTPS_PROXY": "http://proxy:3128"}) is True
    assert proxy_setting({"no_proxy": "localhost"}) is True


def test_the_inventory_child_sends_the_same_sections_as_a_collection_in_the_agent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's sections are canonical JSON with the digests of the in-process
    collection; when the child cannot run, the agent collects itself."""
    raw = collect_isolated()
    assert sorted(raw) == sorted(SECTIONS)
    assert all(isinstance(data, msgspec.Raw) for data in raw.values())
    decoded = {name: json.loads(bytes(data)) for name, data in raw.items()}
    assert section_digests(raw) == section_digests(decoded)
    assert decoded["bios"] == collect()["bios"]
    message = p.decode_agent_message(p.encode(p.Inventory(
        id="0" * 32, sections=raw, digests=section_digests(raw))))
    assert isinstance(message, p.Inventory) and message.sections == decoded
    monkeypatch.setattr(isolated.sys, "executable", "/nonexistent/python")
    fallback = collect_isolated()
    assert sorted(fallback) == sorted(SECTIONS) and isinstance(fallback["bios"], dict)
