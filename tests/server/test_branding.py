"""Branding: product name, accent colour (contrast checked), welcome text and logo, public
before login, SVG served sandboxed, bad input refused."""

from __future__ import annotations

import aiohttp

from tests.support.server import Client, RunningServer

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
       b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
       b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>')


async def _upload(admin: Client, data: bytes, name: str = "logo") -> tuple[int, dict[str, str]]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    resp = await admin.request("POST", "/api/v1/settings/branding/logo", data=form)
    return resp.status, resp.json


async def test_branding_is_public_and_applied(server: RunningServer, admin: Client) -> None:
    """Name, accent, welcome text and a PNG logo are saved by an admin and read by anyone."""
    anon = server.client()
    default = (await anon.get("/api/v1/branding")).json
    assert default == {"product_name": "Deskmate", "accent_color": "#2563eb",
                       "welcome_text": "", "logo_url": None}
    resp = await admin.patch("/api/v1/settings/branding", json={
        "product_name": "  Layanan   TI ", "accent_color": "#0F5132",
        "welcome_text": "Selamat datang di meja layanan."})
    assert resp.status == 200, resp.body
    status, body = await _upload(admin, PNG)
    assert status == 200, body
    public = (await anon.get("/api/v1/branding")).json
    assert (public["product_name"], public["accent_color"], public["welcome_text"]) == (
        "Layanan TI", "#0f5132", "Selamat datang di meja layanan.")
    logo = await anon.get(public["logo_url"])
    assert (logo.status, logo.headers["Content-Type"], logo.body) == (200, "image/png", PNG)
    back = await admin.patch("/api/v1/settings/branding", json={"accent_color": None})
    assert back.json["accent_color"] == "#2563eb"
    assert (await admin.delete("/api/v1/settings/branding/logo")).json["logo_url"] is None
    assert (await anon.get("/api/v1/branding/logo")).status == 404


async def test_svg_logo_is_served_sandboxed(server: RunningServer, admin: Client) -> None:
    """An SVG logo (even one with a script) is served with a sandboxing CSP and nosniff."""
    status, body = await _upload(admin, SVG)
    assert status == 200, body
    logo = await server.client().get(body["logo_url"])
    assert logo.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert "script-src" not in logo.headers["Content-Security-Policy"]
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


async def test_bad_branding_is_refused_and_changes_nothing(
        server: RunningServer, admin: Client, technician: Client) -> None:
    """A light or malformed accent, a blank name, a GIF, HTML or an oversized logo are refused; a technician may not brand."""  # noqa: E501
    for body, words in (({"accent_color": "#ffff00"}, "too light"),
                        ({"accent_color": "blue"}, "#rrggbb"),
                        ({"accent_color": "#12345g"}, "#rrggbb"),
                        ({"product_name": "   "}, "product_name"),
                        ({"logo": "x"}, "logo")):
        resp = await admin.patch("/api/v1/settings/branding", json=body)
        assert resp.status == 422, (body, resp.body)
        assert words in resp.json["error"]["message"]
    for data, status in ((b"GIF89a\x01\x00", 415), (b"<html><svg></svg></html>", 415),
                         (PNG + b"\x00" * 600_000, 413), (b"", 422)):
        got, _ = await _upload(admin, data)
        assert got == status
    assert (await admin.get("/api/v1/branding")).json["logo_url"] is None
    assert (await admin.get("/api/v1/branding")).json["accent_color"] == "#2563eb"
    assert (await technician.patch("/api/v1/settings/branding",
                                   json={"product_name": "X"})).status == 403
    assert (await _upload(technician, PNG))[0] == 403
