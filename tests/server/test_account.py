"""Self-service: every user changes their own name, time zone and language, nothing else,
nobody else's."""

from __future__ import annotations

import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases


async def test_a_user_changes_their_own_name_and_time_zone(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A requester renames themselves and picks a zone; the session and user record show it."""
    rick = clients["requester"]
    resp = await rick.patch("/api/v1/account", json={"display_name": "  Rick Astley ",
                                                     "time_zone": "Asia/Jakarta"})
    assert resp.status == 200, resp.body
    assert resp.json["user"]["display_name"] == "Rick Astley"
    assert resp.json["user"]["time_zone"] == "Asia/Jakarta"
    session = (await rick.get("/api/v1/auth/session")).json
    assert session["user"]["time_zone"] == "Asia/Jakarta"
    back = await rick.patch("/api/v1/account", json={"time_zone": None})
    assert back.json["user"]["time_zone"] is None


async def test_a_requester_cannot_change_their_role_or_anyone_else(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Role, active flag and other users are out of reach; the server refuses, nothing changes."""
    rick, tina = clients["requester"], clients["technician"]
    before = await snapshot(server)
    for body in ({"role": "admin"}, {"display_name": "R", "role": "admin"}, {"active": False},
                 {"id": tina.user["id"], "display_name": "Hacked"}):
        resp = await rick.patch("/api/v1/account", json=body)
        assert resp.status == 422 and resp.error_code == "validation_error", (body, resp.body)
    # Another user's record is hidden from a requester, as in GET (docs/api.md).
    other = await rick.patch(f"/api/v1/users/{tina.user['id']}", json={"display_name": "X"})
    assert other.status == 404
    own = await rick.patch(f"/api/v1/users/{rick.user['id']}", json={"role": "admin"})
    assert own.status == 403
    notes = await rick.put(f"/api/v1/users/{tina.user['id']}/notifications",
                           json={"email_notifications": False})
    assert notes.status == 404
    assert await snapshot(server) == before


async def test_bad_names_and_zones_are_refused_in_words(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A blank name or an unknown zone is a 422 that names the field; nothing is saved."""
    rick = clients["requester"]
    before = await snapshot(server)
    blank = await rick.patch("/api/v1/account", json={"display_name": "   "})
    assert blank.status == 422
    zone = await rick.patch("/api/v1/account", json={"time_zone": "Mars/Olympus_Mons"})
    assert zone.status == 422 and zone.json["error"]["message"].startswith("time_zone: ")
    both = await rick.patch("/api/v1/account", json={"display_name": "Ok",
                                                     "time_zone": "Nowhere"})
    assert both.status == 422
    assert (await rick.patch("/api/v1/account", json={})).status == 422
    assert await snapshot(server) == before


async def test_notification_choices_per_kind(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Requesters choose among their three kinds of mail, staff among all six."""
    rick, tina = clients["requester"], clients["technician"]
    path = f"/api/v1/users/{rick.user['id']}/notifications"
    got = (await rick.get(path)).json
    assert got["events"] == {"received": True, "reply": True, "resolved": True}
    off = await rick.put(path, json={"events": {"reply": False}})
    assert off.status == 200 and off.json["events"]["reply"] is False
    assert off.json["email_notifications"] is True
    staff_only = await rick.put(path, json={"events": {"sla": False}})
    assert staff_only.status == 422
    mine = (await tina.get(f"/api/v1/users/{tina.user['id']}/notifications")).json
    assert sorted(mine["events"]) == ["assigned", "low_score", "received", "reply", "report",
                                      "requester_reply", "resolved", "sla"]


async def test_a_user_sets_their_own_language_on_the_account(
        clients: dict[str, Client]) -> None:
    """PATCH /api/v1/account takes a language the server has (errors follow it) and refuses
    one it has not, naming the field."""
    rick = clients["requester"]
    resp = await rick.patch("/api/v1/account", json={"language": "id"})
    assert resp.status == 200, resp.body
    assert resp.json["user"]["language"] == "id"
    missing = await rick.get("/api/v1/tickets/999999")
    assert missing.json["error"]["message"] == "tidak ada tiket dengan id 999999"
    wrong = await rick.patch("/api/v1/account", json={"language": "fr"})
    assert wrong.status == 422 and wrong.json["error"]["field"] == "language"
    assert (await rick.get("/api/v1/account")).json["user"]["language"] == "id"
