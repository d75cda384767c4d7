"""The agent's clipboard on GNOME/Wayland: through the Mutter RemoteDesktop session.

A headless GNOME of its own (tests/support/mutter.py). The other side is an X
application on its Xwayland (tests/support/xclipboard.py): Mutter bridges the desktop's
clipboard to Xwayland's selections, so a paste there reads what the session offered
and a copy there reaches the session as the desktop's new clipboard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from endpoint_agent.remote.wayland import WaylandInjector
from endpoint_agent.remote.wlclipboard import MutterClipboard
from tests.support.mutter import GnomeDesktop, gnome_desktop, own_xlib_events
from tests.support.waiting import eventually
from tests.support.xclipboard import Copier, paste_text

pytestmark = [pytest.mark.wayland, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def gnome() -> Iterator[GnomeDesktop]:
    """A headless GNOME on Wayland for this module; python-xlib reaches its Xwayland."""
    with gnome_desktop() as desktop, own_xlib_events(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("XAUTHORITY", desktop.xauthority)
        yield desktop


@contextlib.asynccontextmanager
async def session_clipboard(gnome: GnomeDesktop,
                            ) -> AsyncIterator[tuple[MutterClipboard, list[str]]]:
    """A RemoteDesktop session with its clipboard started, and the copies it reports."""
    injector = WaylandInjector(gnome.bus)
    await asyncio.to_thread(injector.open)
    copies: list[str] = []
    bridge = MutterClipboard(injector.session, on_copy=copies.append)
    try:
        await asyncio.to_thread(bridge.start)
        yield bridge, copies
    finally:
        await asyncio.to_thread(bridge.close)
        await asyncio.to_thread(injector.close)


@contextlib.asynccontextmanager
async def copying(display: str, data: bytes) -> AsyncIterator[Copier]:
    """An X application owns CLIPBOARD with ``data`` while the context is open."""
    copier = await asyncio.to_thread(Copier, display, data)
    await asyncio.to_thread(copier.__enter__)
    try:
        yield copier
    finally:
        await asyncio.to_thread(copier.__exit__, None, None, None)


async def test_the_technicians_text_is_pasted_and_the_users_copy_reported(
        gnome: GnomeDesktop) -> None:
    """Offered text is what an application pastes; a copy is reported (once) while
    watching and only counted when not."""
    async def pasted(text: str) -> bool:
        return await asyncio.to_thread(paste_text, gnome.display) == text

    async with session_clipboard(gnome) as (bridge, copies):
        bridge.offer("héllo from the technician ✓")
        await eventually(lambda: pasted("héllo from the technician ✓"), within=20)
        assert bridge.served >= 1

        bridge.watch(True)
        async with copying(gnome.display, "copied by the user ✓".encode()):
            await eventually(lambda: copies == ["copied by the user ✓"], within=20)
        bridge.watch(False)  # view only: copies are seen, not passed on
        seen = bridge.seen
        async with copying(gnome.display, b"not watched"):
            await eventually(lambda: bridge.seen > seen, within=20)
        assert copies == ["copied by the user ✓"]
