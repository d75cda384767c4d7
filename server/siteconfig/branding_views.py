"""HTTP handlers for branding: product name, logo, accent colour, the portal's welcome.

``GET /api/v1/branding`` and the logo are public, so the login page shows them before
anyone logs in. An SVG logo is served with a sandboxing Content-Security-Policy (no
script runs even when opened on its own) and the console only ever shows it as <img>.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Annotated, Any

from aiohttp import web
from msgspec import Meta

from server.api.routing import ADMIN, PUBLIC, ApiRequest, Router
from server.api.uploads import FormReader
from server.db.schema import utcnow
from server.errors import NotFound, ValidationFailed
from server.keys import DATABASE, MAIL_CONTROL, SETTINGS, SITE_VALUES
from server.siteconfig import store
from server.siteconfig.rules import (
    DEFAULT_ACCENT,
    DEFAULT_PRODUCT,
    LOGO_MAX_BYTES,
    SettingProblem,
    check_accent,
    check_product_name,
    sniff_logo,
)
from server.siteconfig.schemas import Branding, BrandingUpdate
from server.tickets.attachments import TooLarge, UnsupportedType
from server.users.schemas import Strict, to_builtins

router = Router("branding")

LOGO_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": 'inline; filename="logo"',
}


class LogoQuery(Strict):
    """A version marker that changes with the logo (for caching)."""

    v: Annotated[str, Meta(max_length=64)] | None = None


def branding_of(values: dict[str, str]) -> Branding:
    """Return the branding in effect for stored ``values``."""
    logo = json.loads(values["logo"]) if "logo" in values else None
    return Branding(product_name=values.get("product_name") or DEFAULT_PRODUCT,
                    accent_color=values.get("accent_color") or DEFAULT_ACCENT,
                    welcome_text=values.get("welcome_text", ""),
                    logo_url=f"/api/v1/branding/logo?v={logo['sha256'][:16]}" if logo else None)


@router.route("GET", "/api/v1/branding", roles=PUBLIC,
              summary="Get the branding (public: the login page shows it)", response=Branding)
async def get_branding(req: ApiRequest) -> Branding:
    return branding_of(req.app[SITE_VALUES].values)


@router.route("GET", "/api/v1/branding/logo", roles=PUBLIC, query=LogoQuery,
              summary="Get the logo (public; an SVG is served sandboxed)",
              produces="image/png, image/jpeg, image/svg+xml")
async def get_logo(req: ApiRequest) -> web.Response:
    raw = req.app[SITE_VALUES].values.get("logo")
    if raw is None:
        raise NotFound("no logo is set")
    logo = json.loads(raw)
    return web.Response(body=base64.b64decode(logo["data"]), headers={
        **LOGO_HEADERS, "Content-Type": logo["type"]})


async def _save(req: ApiRequest, changes: dict[str, str | None], action: str) -> Branding:
    actor = req.user.user_id
    stored = await req.app[DATABASE].write(lambda c: store.save(
        c, changes, actor_id=actor, now=utcnow(), action=action))
    req.app[SITE_VALUES].replace(stored)
    if "product_name" in changes:
        await req.app[MAIL_CONTROL].apply()  # mails sign with the product name
    return branding_of(stored)


@router.route("PATCH", "/api/v1/settings/branding", roles=ADMIN,
              summary="Change the product name, accent colour or portal welcome text",
              body=BrandingUpdate, response=Branding)
async def update_branding(req: ApiRequest) -> Branding:
    given: dict[str, Any] = to_builtins(req.body)
    if not given:
        raise ValidationFailed("nothing to change")
    changes: dict[str, str | None] = {}
    try:
        for name, value in given.items():
            if value is None:
                changes[name] = None
            elif name == "product_name":
                changes[name] = check_product_name(value)
            elif name == "accent_color":
                changes[name] = check_accent(value.strip())
            else:
                changes[name] = value.strip() or None
    except SettingProblem as exc:
        raise ValidationFailed(str(exc)) from exc
    return await _save(req, changes, "settings.branding")


@router.route("POST", "/api/v1/settings/branding/logo", roles=ADMIN,
              summary="Upload the logo (PNG, JPEG or SVG, as the form field 'file')",
              response=Branding, upload=True)
async def upload_logo(req: ApiRequest) -> Branding:
    limit = min(LOGO_MAX_BYTES, req.app[SETTINGS].attachment_max_bytes)
    data: bytes | None = None
    async for part in await FormReader.open(req.request):
        if part.name != "file" or data is not None:
            raise ValidationFailed("unexpected form field {name!r}; send one 'file'",
                                   name=part.name)
        chunks = b""
        while chunk := await part.read_chunk(64 * 1024):
            chunks += chunk
            if len(chunks) > limit:
                raise TooLarge("file: a logo may be at most {kb} KB", kb=limit // 1024)
        data = chunks
    if not data:
        raise ValidationFailed("file: no logo in the upload")
    kind = sniff_logo(data)
    if kind is None:
        raise UnsupportedType("file: a logo must be a PNG, JPEG or SVG image")
    logo = json.dumps({"type": kind, "sha256": hashlib.sha256(data).hexdigest(),
                       "data": base64.b64encode(data).decode("ascii")})
    return await _save(req, {"logo": logo}, "settings.logo")


@router.route("DELETE", "/api/v1/settings/branding/logo", roles=ADMIN,
              summary="Remove the logo (the default one shows again)", response=Branding)
async def delete_logo(req: ApiRequest) -> Branding:
    return await _save(req, {"logo": None}, "settings.logo")
