"""API error messages in the caller's language; a user's own language choice."""

from __future__ import annotations

import pytest

from tests.support.server import Client, RunningServer

ID = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}


async def test_accept_language_picks_the_message_language(server: RunningServer) -> None:
    """An anonymous caller's errors follow Accept-Language; the code stays the same."""
    anonymous = server.client()
    english = await anonymous.post("/api/v1/auth/login",
                                   json={"username": "nobody", "password": "wrong-password"})
    indonesian = await anonymous.post("/api/v1/auth/login", headers=ID,
                                      json={"username": "nobody", "password": "wrong-password"})
    assert english.status == indonesian.status == 401
    assert english.error_code == indonesian.error_code == "invalid_credentials"
    assert english.json["error"]["message"] == "wrong user name or password"
    assert indonesian.json["error"]["message"] == "nama pengguna atau kata sandi salah"


async def test_unknown_or_zero_quality_languages_answer_in_english(admin: Client) -> None:
    """A browser asking only for languages the server lacks gets English."""
    for header in ("fr-FR,de;q=0.8", "id;q=0"):
        resp = await admin.get("/api/v1/users/999999", headers={"Accept-Language": header})
        assert resp.json["error"]["message"] == "no user with id 999999"


async def test_validation_error_names_the_field_in_indonesian(admin: Client) -> None:
    """A blank display name is refused with a sentence and the field, in Indonesian."""
    me = admin.user["id"]
    resp = await admin.patch(f"/api/v1/users/{me}", json={"display_name": ""}, headers=ID)
    assert resp.status == 422
    assert resp.json["error"] == {"code": "validation_error", "field": "display_name",
                                  "message": "display_name tidak boleh kosong"}
    blank = await admin.patch(f"/api/v1/users/{me}", json={"display_name": "   "})
    assert blank.json["error"] == {"code": "validation_error", "field": "display_name",
                                   "message": "display_name must not be blank"}


async def test_users_language_wins_over_the_browser(server: RunningServer,
                                                    requester: Client) -> None:
    """A requester who chose Indonesian reads Indonesian errors whatever the browser asks."""
    me = requester.user["id"]
    chosen = await requester.patch(f"/api/v1/users/{me}", json={"language": "id"})
    assert chosen.status == 200 and chosen.json["language"] == "id"
    session = await requester.get("/api/v1/auth/session")
    assert session.json["user"]["language"] == "id"
    resp = await requester.get("/api/v1/tickets/999999",
                               headers={"Accept-Language": "en-US"})
    assert resp.status == 404
    assert resp.json["error"]["message"] == "tidak ada tiket dengan id 999999"
    back = await requester.patch(f"/api/v1/users/{me}", json={"language": None})
    assert back.json["language"] is None
    again = await requester.get("/api/v1/tickets/999999")
    assert again.json["error"]["message"] == "no ticket with id 999999"


async def test_unknown_language_is_refused_clearly(admin: Client) -> None:
    """A language the server has no catalogue for is a 422 naming the choices; nothing saved."""
    me = admin.user["id"]
    resp = await admin.patch(f"/api/v1/users/{me}", json={"language": "fr"})
    assert resp.status == 422
    assert resp.json["error"]["field"] == "language"
    assert resp.json["error"]["message"] == ("language: 'fr' is not a language of this "
                                             "server; choose one of en, id")
    assert (await admin.get(f"/api/v1/users/{me}")).json["language"] is None


async def test_admin_sets_anyones_language(admin: Client, requester: Client) -> None:
    """An admin chooses the language of another user."""
    other = requester.user["id"]
    resp = await admin.patch(f"/api/v1/users/{other}", json={"language": "id"})
    assert resp.status == 200
    assert (await requester.get(f"/api/v1/users/{other}")).json["language"] == "id"


@pytest.mark.parametrize("change", [{"role": "admin"}, {"active": False}])
async def test_users_change_only_their_own_settings(requester: Client, technician: Client,
                                                    change: dict[str, object]) -> None:
    """Without being an admin one changes one's own language, nothing else and nobody else."""
    own = await requester.patch(f"/api/v1/users/{requester.user['id']}", json=change)
    assert own.status == 403
    other = await technician.patch(f"/api/v1/users/{requester.user['id']}",
                                   json={"language": "id"})
    assert other.status == 403
    hidden = await requester.patch(f"/api/v1/users/{technician.user['id']}",
                                   json={"language": "id"})
    assert hidden.status == 404


async def test_routing_and_size_errors_follow_the_language(server: RunningServer,
                                                           admin: Client) -> None:
    """aiohttp's own refusals (unknown route, wrong method) are translated too."""
    missing = await admin.get("/api/v1/no-such-thing", headers=ID)
    assert missing.status == 404 and missing.json["error"]["message"] == "tidak ditemukan"
    wrong = await admin.request("PUT", "/api/v1/auth/session", headers=ID)
    assert wrong.status == 405
    assert wrong.json["error"]["message"] == "metode tidak diizinkan"
