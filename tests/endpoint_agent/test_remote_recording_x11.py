"""A recorded session with the real agent on Xvfb: the user is told, the file replays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from endpoint_agent.remote import ui
from server.remote import recfile
from tests.endpoint_agent.test_remote_x11 import (
    Picture,
    read_frames,
    remote_agent_on,
    shows_pattern,
    start,
)
from tests.server.remote.test_recordings_api import recorded_group
from tests.support.remote import enrolled, ticket_with_device, timeline, viewer, wait_state
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import pattern_app, press_in_window, wait_window

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]

NOTICE_RED = (180, 35, 24)  # the dialog's "This session is recorded." (#b42318)


def grab(display: str, x: int, y: int, w: int, h: int) -> np.ndarray[Any, Any]:
    """Return the RGB pixels of a rectangle of the screen."""
    import mss

    with mss.MSS(display=display) as grabber:
        shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    return np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)[:, :, 2::-1]


def red_pixels(pixels: np.ndarray[Any, Any]) -> int:
    """Count pixels close to the notice's red."""
    return int((np.abs(pixels.astype(int) - NOTICE_RED).max(axis=2) < 40).sum())


async def test_recorded_session_tells_the_user_and_its_file_replays_the_screen(
        server: RunningServer, admin: Client, technician: Client, x_display: str,
        tmp_path: Path) -> None:
    """Dialog and indicator say it is recorded; the recording rebuilds the pattern."""
    device = await enrolled(server, admin, tmp_path / "a")
    await recorded_group(admin, device)
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    async with pattern_app(x_display) as app, \
            remote_agent_on(server, device, x_display) as (_agent, remote):
        session = await start(technician, ticket["id"], mode="view")
        # The consent dialog shows the red notice left of its buttons.
        wx, wy, _w, _h = await wait_window(x_display, ui.DIALOG_TITLE)
        bx, by, _bw, bh = ui.ALLOW_BUTTON

        async def notice_shown() -> bool:
            pixels = await asyncio.to_thread(grab, x_display, wx + 20, wy + by, bx - 30, bh)
            return red_pixels(pixels) > 100

        await eventually(notice_shown)
        # A dialog without the notice has none of that red there (the control is real).
        plain = await asyncio.to_thread(
            grab, x_display, wx + 20, wy + 16, ui.DIALOG_SIZE[0] - 40, 120)
        assert red_pixels(plain) == 0
        await press_in_window(x_display, ui.DIALOG_TITLE, ui.ALLOW_BUTTON)
        await wait_state(technician, session["id"], "active")
        # The indicator grows a line saying so.
        _x, _y, _iw, ih = await wait_window(x_display, ui.INDICATOR_TITLE)
        assert ih == ui.INDICATOR_SIZE[1] + ui.RECORDED_HEIGHT
        live = remote.session
        assert live is not None and live.recorded
        picture = Picture()
        async with viewer(server, technician, session["id"]) as v:
            await read_frames(v, picture, until=shows_pattern(app.canvas))
        ended = await technician.post(f"/api/v1/remote-sessions/{session['id']}/end")
        assert ended.status == 200
    got = await wait_state(technician, session["id"], "ended")
    info = got.json["recording"]
    assert info["state"] == "ready" and info["complete"] and info["dropped_frames"] == 0
    data = await technician.get(info["url"])
    recording = recfile.parse(data.body)
    assert recording.complete and len(recording.records) == info["frames"] > 0
    # Decode the recorded tiles in order as a viewer would (a key frame that repeats the
    # delta before it draws the same picture again): the pattern is there.
    replay = Picture()
    for record in recording.records:
        replay.apply(bytes(record.frame))
    assert replay.headers[0].key
    assert shows_pattern(app.canvas)(replay)
    steps = {e["changes"]["step"]: e["body"] for e in await timeline(admin, ticket["id"])}
    assert "Recorded: " in steps["ended"]
