"""The consent dialog, indicator and tray in Bahasa Indonesia when the session's locale is
id_ID.UTF-8 (Xvfb; the windows report what they drew through DESKMATE_UI_REPORT)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from endpoint_agent.i18n import texts
from endpoint_agent.remote import ui
from endpoint_agent.tray.app import TrayApp
from tests.endpoint_agent.test_tray_x11 import TkThread, tray_owned, trayer
from tests.support.waiting import eventually
from tests.support.xapps import press_in_window, wait_window

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]

INDONESIAN = {"LANG": "id_ID.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
TR = texts(INDONESIAN)


def _reports(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


async def _run(display: str, report: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, ui.__file__, *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **INDONESIAN, "DISPLAY": display, ui.REPORT_ENV: str(report)})


async def test_consent_dialog_speaks_indonesian(x_display: str, tmp_path: Path) -> None:
    """With LANG=id_ID.UTF-8 the consent dialog asks in Indonesian and its Izinkan allows."""
    report = tmp_path / "ui.jsonl"
    proc = await _run(x_display, report, "consent", "--technician", "Tina Teknisi",
                      "--ticket", "INC-000042", "--title", "Printer macet",
                      "--reason", "cek printer", "--mode", "control", "--timeout", "60",
                      "--recorded")
    try:
        title = TR("remote.consent.title")
        assert title == "Deskmate: permintaan sesi jarak jauh"
        await wait_window(x_display, title)
        await eventually(lambda: bool(_reports(report)), within=20)
        shown = {k: v["text"] for k, v in _reports(report)[0]["labels"].items()}
        assert shown["request"].replace("\n", " ") == (
            "Tina Teknisi ingin melihat dan mengendalikan layar Anda (mouse dan keyboard)")
        assert shown["ticket"] == "Tiket INC-000042: Printer macet"
        assert shown["reason"] == "Alasan: cek printer"
        assert shown["countdown"].startswith("Otomatis ditolak dalam ")
        assert shown["recorded"] == "\u25cf Sesi ini direkam."
        await press_in_window(x_display, title, ui.ALLOW_BUTTON)
        assert proc.stdout is not None
        lines = (await asyncio.wait_for(proc.stdout.read(), 20)).decode().split()
        assert lines == ["ready", "allow"]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_indicator_speaks_indonesian(x_display: str, tmp_path: Path) -> None:
    """The indicator says who sees, then controls, the screen in Indonesian; Akhiri sesi ends."""
    report = tmp_path / "ui.jsonl"
    proc = await _run(x_display, report, "indicator", "--technician", "Tina",
                      "--ticket", "INC-000042", "--mode", "view")
    try:
        title = TR("remote.indicator.title")
        geometry = await wait_window(x_display, title)
        await eventually(lambda: bool(_reports(report)), within=20)
        assert _reports(report)[0]["labels"]["status"]["text"] == (
            "Tina melihat layar Anda (INC-000042)")
        assert proc.stdin is not None
        proc.stdin.write(b"mode control\n")
        await proc.stdin.drain()
        await eventually(lambda: len(_reports(report)) > 1, within=20)
        assert _reports(report)[1]["labels"]["status"]["text"] == (
            "Tina mengendalikan layar Anda (INC-000042)")
        await press_in_window(x_display, title, ui.end_button(geometry[2]))
        assert proc.stdout is not None
        assert b"end" in await asyncio.wait_for(proc.stdout.read(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_tray_speaks_the_sessions_language(x_display: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A tray started in a session whose locale is id_ID.UTF-8 shows its menu, status and
    ticket dialog in Indonesian."""
    for name, value in INDONESIAN.items():
        monkeypatch.setenv(name, value)
    with trayer(x_display):
        await eventually(lambda: asyncio.to_thread(tray_owned, x_display))
        tk = TkThread(lambda: TrayApp(tmp_path / "no-agent.sock", display_name=x_display,
                                      use_dbus=False))
        try:
            app = await tk.app()
            labels = await tk.on_tk(lambda: [
                app.menu.entrycget(i, "label") for i in range(app.menu.index("end") + 1)
                if app.menu.type(i) == "command"])
            assert labels[:3] == ["Buat tiket\u2026", "Tiket saya", "Minta bantuan sekarang"]
            assert labels[-1] == "Keluar"

            async def status() -> bool:
                label = await tk.on_tk(lambda: app.menu.entrycget(app.status_index, "label"))
                return bool(label == "Agen tidak berjalan")

            await eventually(status)  # no agent runs behind this socket
            await tk.on_tk(app.actions["tray.menu.raise"])
            dialog = app.dialog
            assert dialog is not None
            assert await tk.on_tk(dialog.win.title) == "Buat tiket"
            await tk.on_tk(dialog.send)  # nothing typed
            assert await tk.on_tk(lambda: str(dialog.result.cget("text"))) == (
                "Jelaskan masalahnya dalam beberapa kata.")
        finally:
            await tk.on_tk(lambda: tk.ready.result().quit())
            await asyncio.to_thread(tk.thread.join, 5)
