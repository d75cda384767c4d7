"""The consent dialog and the tray speak the language of the person bound to the desktop's
login, as the server tells the agent, before the desktop's locale (real server, real agent,
Xvfb; issue 14)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from endpoint_agent.i18n import PersonLanguages, Texts
from endpoint_agent.remote import ui
from endpoint_agent.remote.controller import RemoteSupport
from endpoint_agent.tray import app as tray_app
from endpoint_agent.tray.app import TrayApp
from endpoint_agent.tray.local import LocalServer, login_of
from tests.endpoint_agent.test_tray_x11 import TkThread, tray_owned, trayer
from tests.support.agents import start_agent
from tests.support.remote import Device, enrolled, ticket_with_device, wait_state
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually
from tests.support.xapps import press_in_window

pytestmark = [pytest.mark.x11, pytest.mark.timeout(120)]

LOCALE = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")
ENGLISH_DESKTOP = dict.fromkeys(LOCALE, "") | {"LANG": "C"}
INDONESIAN_DESKTOP = dict.fromkeys(LOCALE, "") | {"LANG": "id_ID.UTF-8"}
EN, ID = Texts("en"), Texts("id")
LOGIN = login_of(os.geteuid())  # the desktop's login: this process's, as the tray's calls


async def _person_on_device(server: RunningServer, admin: Client, tmp_path: Path,
                            name: str, language: str) -> tuple[dict[str, Any], Device]:
    """Create a requester with an account language and bind LOGIN on a new device to them."""
    person = await server.create_user(admin, name, "requester")
    resp = await admin.patch(f"/api/v1/users/{person['id']}", json={"language": language})
    assert resp.status == 200, resp.body
    device = await enrolled(server, admin, tmp_path / "agent")
    resp = await admin.put(f"/api/v1/devices/{device.id}/bindings/{LOGIN}",
                           json={"user_id": person["id"]})
    assert resp.status == 200, resp.body
    return person, device


def _consent_request(report: Path) -> str:
    """Return the request line of the newest consent dialog the report holds."""
    shown = [json.loads(line) for line in report.read_text("utf-8").splitlines()]
    return str(shown[-1]["labels"]["request"]["text"]).replace("\n", " ")


async def _denied_in(x_display: str, admin: Client, technician: Client, ticket_id: int,
                     tr: Texts) -> None:
    """Start a session, find its consent dialog by its title in ``tr``, and deny it."""
    resp = await technician.post(f"/api/v1/tickets/{ticket_id}/remote-sessions",
                                 json={"reason": "printer check", "mode": "control"})
    assert resp.status == 201, resp.body
    await press_in_window(x_display, tr("remote.consent.title"), ui.DENY_BUTTON)
    got = await wait_state(admin, resp.json["id"], "ended")
    assert got.json["outcome"] == "denied"


async def test_consent_dialog_speaks_the_bound_persons_language(
        server: RunningServer, admin: Client, technician: Client, x_display: str,
        tmp_path: Path) -> None:
    """On an English desktop (LANG=C) the consent dialog asks in Indonesian when the person
    bound to the login chose Indonesian, and in English for the next session once she
    switches her account to English."""
    ayu, device = await _person_on_device(server, admin, tmp_path, "ayu", "id")
    ticket = await ticket_with_device(admin, device.id, assignee_id=technician.user["id"])
    report = tmp_path / "ui.jsonl"
    remote = RemoteSupport(x_display, ui_env=ENGLISH_DESKTOP | {ui.REPORT_ENV: str(report)})
    people = PersonLanguages(desktop=lambda: LOGIN)
    running = await start_agent(device.state, remote=remote, heartbeat=1.0, languages=people)
    try:
        await eventually(lambda: people.by_login == {LOGIN: "id"})
        await _denied_in(x_display, admin, technician, ticket["id"], ID)
        assert _consent_request(report) == ID("remote.consent.request", name="Tina",
                                              what=ID("remote.consent.view_control"))
        resp = await admin.patch(f"/api/v1/users/{ayu['id']}", json={"language": "en"})
        assert resp.status == 200, resp.body
        await eventually(lambda: people.by_login == {LOGIN: "en"})  # told at once
        await _denied_in(x_display, admin, technician, ticket["id"], EN)
        assert _consent_request(report) == EN("remote.consent.request", name="Tina",
                                              what=EN("remote.consent.view_control"))
    finally:
        await running.stop()


async def test_tray_follows_the_bound_persons_language(
        server: RunningServer, admin: Client, x_display: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """In an Indonesian session the tray speaks English for a person who chose English,
    and the session's Indonesian again once her account has no language."""
    for name, value in INDONESIAN_DESKTOP.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(tray_app, "STATUS_MS", 100)  # the tray asks the agent this often
    budi, device = await _person_on_device(server, admin, tmp_path, "budi", "en")
    people = PersonLanguages(desktop=lambda: LOGIN)
    running = await start_agent(device.state, languages=people)
    socket = tmp_path / "tray.sock"
    local = LocalServer(socket, status=running.agent.status,
                        send_ticket=running.agent.submit_ticket, inventory=dict,
                        history_file=tmp_path / "tray-tickets.json", language_of=people.of)
    try:
        async with local.serving():
            with trayer(x_display):
                await eventually(lambda: asyncio.to_thread(tray_owned, x_display))
                tk = TkThread(lambda: TrayApp(socket, display_name=x_display, use_dbus=False))
                try:
                    app = await tk.app()

                    def menu() -> list[str]:
                        return [str(app.menu.entrycget(i, "label"))
                                for i in range(app.menu.index("end") + 1)
                                if app.menu.type(i) == "command"]

                    def says(tr: Texts) -> list[str]:
                        return [tr("tray.menu.raise"), tr("tray.menu.my_tickets"),
                                tr("tray.menu.help_now"), tr("tray.status.connected"),
                                tr("tray.menu.quit")]

                    async def speaks(tr: Texts) -> bool:
                        return await tk.on_tk(menu) == says(tr)

                    await eventually(lambda: speaks(EN))
                    resp = await admin.patch(f"/api/v1/users/{budi['id']}",
                                             json={"language": None})
                    assert resp.status == 200, resp.body
                    await eventually(lambda: speaks(ID))
                    await tk.on_tk(app.actions["tray.menu.raise"])  # a dialog opened now
                    assert app.dialog is not None
                    assert await tk.on_tk(app.dialog.win.title) == ID("tray.dialog.title")
                finally:
                    await tk.on_tk(lambda: tk.ready.result().quit())
                    await asyncio.to_thread(tk.thread.join, 5)
    finally:
        await running.stop()
