"""The user's consent dialog and indicator on a 1024x768 screen, with long names.

The windows report what they drew (DESKMATE_UI_REPORT): the test checks those texts and
rectangles against the real X geometry and the pixels on the Xvfb screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from tests.endpoint_agent.test_remote_recording_x11 import grab
from tests.support.agents import start_agent
from tests.support.remote import enrolled, ticket_with_device, wait_state
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, start_server
from tests.support.waiting import eventually
from tests.support.xapps import find_window, press_in_window, wait_window
from tests.support.xvfb import xvfb_display

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]

SCREEN = (1024, 768)
LONG_NAME = "Maximiliane Alexandra Konstantina von Hohenzollern-Sigmaringen"
NAMES = ["Tina Tech", LONG_NAME, "Bartholomew-" + "x" * 150]
INDICATOR_RED = (0xB4, 0x23, 0x18)


@pytest.fixture(scope="module")
def small_display() -> Iterator[str]:
    """A private Xvfb display of 1024x768."""
    with xvfb_display(width=SCREEN[0], height=SCREEN[1]) as display:
        yield display


def reports(path: Path, window: str) -> list[dict[str, Any]]:
    """Return what windows named ``window`` reported drawing, oldest first."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["window"] == window]


async def next_report(path: Path, window: str, seen: int) -> dict[str, Any]:
    """Wait for the report after the first ``seen`` ones of ``window``; return it."""
    await eventually(lambda: len(reports(path, window)) > seen, within=20)
    return reports(path, window)[seen]


def inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def check_drawn(report: dict[str, Any], geometry: tuple[int, int, int, int]) -> None:
    """Each label lies inside the window, which lies inside the screen; no line is cut."""
    assert report["screen"] == list(SCREEN)
    assert tuple(report["geometry"]) == geometry
    assert inside(geometry, (0, 0, *SCREEN)), geometry
    for name, label in report["labels"].items():
        rect = (label["x"], label["y"], label["width"], label["height"])
        assert inside(rect, geometry), (name, rect, geometry)
        assert max(label["line_widths"]) <= label["width"], (name, label)
        lines = len(label["line_widths"])
        assert lines * label["line_height"] <= label["height"], (name, label)


def text_pixels_end(display: str, label: dict[str, Any]) -> int:
    """Return the screen column after the last text pixel drawn in an indicator label."""
    pixels = grab(display, label["x"], label["y"], label["width"], label["height"])
    off_red = np.abs(pixels.astype(int) - INDICATOR_RED).max(axis=2) > 60
    columns = np.nonzero(off_red.any(axis=0))[0]
    assert columns.size, "no text drawn"
    return int(label["x"] + columns[-1] + 1)


async def text_fits(display: str, label: dict[str, Any]) -> bool:
    """Tell whether the text drawn on the screen ends inside its label, with room to spare."""
    end = await asyncio.to_thread(text_pixels_end, display, label)
    return end <= label["x"] + label["width"] - 2


@contextlib.asynccontextmanager
async def indicator(display: str, report: Path, name: str, mode: str, ticket: str,
                    ) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run the indicator window as the agent does; stop it afterwards."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, ui.__file__, "indicator", "--technician", name, "--ticket", ticket,
        "--mode", mode, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "DISPLAY": display, ui.REPORT_ENV: str(report)})
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.mark.parametrize("name", NAMES)
async def test_indicator_shows_who_what_and_the_whole_ticket_number(
        small_display: str, tmp_path: Path, name: str) -> None:
    """At 1024x768 the indicator's line ends with the mode and the full ticket number, the name elided before them if needed, in both modes."""  # noqa: E501
    report = tmp_path / "ui.jsonl"
    number = "INC-000042"
    async with indicator(small_display, report, name, "view", number) as proc:
        geometry = await wait_window(small_display, ui.INDICATOR_TITLE)
        for seen, (mode, verb) in enumerate((("view", "sees"), ("control", "controls"))):
            if seen:
                assert proc.stdin is not None
                proc.stdin.write(f"mode {mode}\n".encode())
                await proc.stdin.drain()
            drawn = await next_report(report, "indicator", seen)
            check_drawn(drawn, geometry)
            status = drawn["labels"]["status"]
            assert status["text"].endswith(f" {verb} your screen ({number})"), status
            who = status["text"].removesuffix(f" {verb} your screen ({number})")
            if who != name:  # elided: a start of the name and an ellipsis
                assert who.endswith(ui.ELLIPSIS) and len(who) >= 4, who
                assert name.startswith(who.removesuffix(ui.ELLIPSIS)), who
            # On the screen: the text ends inside its label, left of End session.
            await eventually(lambda label=status: text_fits(small_display, label), within=5)
    if name == "Tina Tech":  # a short name is never cut
        assert reports(report, "indicator")[0]["labels"]["status"]["text"] == (
            "Tina Tech sees your screen (INC-000042)")


async def test_control_request_shows_the_first_dialog_facts_and_the_configured_time(
        small_display: str, tmp_path: Path) -> None:
    """Asking the user for control names the technician, ticket, title and reason, and counts down the server's consent time; the indicator then says "controls" with the ticket number."""  # noqa: E501
    server = await start_server(tmp_path / "data", remote_consent_seconds=45)
    try:
        admin = await server.login("admin", ADMIN_PASSWORD)
        made = await admin.post("/api/v1/users", json={
            "username": "maxi", "display_name": LONG_NAME, "role": "technician",
            "password": PASSWORD})
        assert made.status == 201, made.body
        tech = await server.login("maxi")
        device = await enrolled(server, admin, tmp_path / "a")
        ticket = await ticket_with_device(admin, device.id, assignee_id=made.json["id"])
        report = tmp_path / "ui.jsonl"
        remote = RemoteSupport(small_display, ui_env={ui.REPORT_ENV: str(report)})
        agent = await start_agent(device.state, remote=remote, heartbeat=1.0)
        try:
            await asyncio.wait_for(agent.agent.connected.wait(), 10)
            await run_control_request(server_client=tech, ticket=ticket, display=small_display,
                                      report=report)
        finally:
            await agent.stop()
    finally:
        await server.close()


async def run_control_request(*, server_client: Client, ticket: dict[str, Any], display: str,
                              report: Path) -> None:
    started = await server_client.post(f"/api/v1/tickets/{ticket['id']}/remote-sessions",
                                       json={"reason": "printer check", "mode": "view"})
    assert started.status == 201, started.body
    sid = started.json["id"]
    first = await next_report(report, "consent-session", 0)
    await press_in_window(display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
    await wait_state(server_client, sid, "active")
    asked = await server_client.post(f"/api/v1/remote-sessions/{sid}/mode",
                                     json={"mode": "control"})
    assert asked.status == 200 and asked.json["pending_mode"] == "control"
    second = await next_report(report, "consent-control", 0)
    geometry = await wait_window(display, ui.DIALOG_TITLE)
    check_drawn(second, geometry)
    texts = {k: v["text"] for k, v in second["labels"].items()}
    assert texts["ticket"] == f"Ticket {ticket['number']}: Printer does not print"
    assert texts["reason"] == "Reason: printer check"
    assert texts["countdown"] == "Refused automatically in 45 s unless you allow it."
    assert texts["request"].replace("\n", " ").endswith(
        "wants to take control of your mouse and keyboard")
    assert texts["request"].startswith("Maximiliane")
    # The same facts as the first dialog, whose texts differ only in what is asked.
    shown_first = {k: v["text"] for k, v in first["labels"].items()}
    assert shown_first.pop("request").startswith("Maximiliane")
    texts.pop("request")
    assert shown_first == texts
    await press_in_window(display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)

    async def controls() -> bool:
        drawn = reports(report, "indicator")
        return bool(drawn) and "controls your screen" in drawn[-1]["labels"]["status"]["text"]

    await eventually(controls, within=20)
    status = reports(report, "indicator")[-1]["labels"]["status"]
    assert status["text"].endswith(f" controls your screen ({ticket['number']})")
    assert max(status["line_widths"]) <= status["width"]
    found = await asyncio.to_thread(find_window, display, ui.INDICATOR_TITLE)
    assert found is not None and inside(found, (0, 0, *SCREEN))
    ended = await server_client.post(f"/api/v1/remote-sessions/{sid}/end")
    assert ended.status == 200
