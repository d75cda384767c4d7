"""HTTP handlers of single sign-on: providers (admin), the login page's buttons, the
start of a sign-in and the provider's callback, and the local-login switch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from aiohttp import web
from msgspec import Meta, Struct

from server.api.routing import ADMIN, PUBLIC, ApiRequest, Router
from server.auth.views import local_login_admins_only
from server.db.schema import utcnow
from server.errors import NotFound
from server.keys import DATABASE, SETTINGS, SITE_VALUES
from server.oidc import signin, store, tokens
from server.oidc.discovery import CLIENTS, Clients, ProviderUnavailable
from server.oidc.schemas import (
    DiscoveryTest,
    LoginOptions,
    LoginProvider,
    Provider,
    ProviderBody,
    ProviderList,
    SsoSettings,
    SsoSettingsBody,
)
from server.siteconfig import store as site_store
from server.users import store as user_store

router = Router("single sign-on")
PATH = r"/api/v1/identity-providers/{provider_id:\d{1,18}}"


class CallbackQuery(Struct, kw_only=True):
    """What the provider sends back (OIDC Core 3.1.2.5 and 3.1.2.6, RFC 9207); other
    parameters a provider adds (scope, session_state, hd...) are ignored."""

    state: Annotated[str, Meta(max_length=200)] = ""
    code: Annotated[str, Meta(max_length=2048)] = ""
    iss: Annotated[str, Meta(max_length=300)] | None = None
    error: Annotated[str, Meta(max_length=200)] | None = None
    error_description: Annotated[str, Meta(max_length=1000)] | None = None
    error_uri: Annotated[str, Meta(max_length=1000)] | None = None
    session_state: Annotated[str, Meta(max_length=500)] | None = None


@router.route("GET", "/api/v1/auth/oidc/providers", roles=PUBLIC,
              summary="List the single sign-on buttons of the login page (public)",
              response=LoginOptions)
async def login_options(req: ApiRequest) -> LoginOptions:
    rows = await req.app[DATABASE].read(lambda c: store.list_rows(c, enabled_only=True))
    return LoginOptions(
        providers=[LoginProvider(id=r.id, name=r.name,
                                 start_url=f"/api/v1/auth/oidc/{r.id}/start") for r in rows],
        local_login_admins_only=local_login_admins_only(req.app))


@router.route("GET", r"/api/v1/auth/oidc/{provider_id:\d{1,18}}/start", roles=PUBLIC,
              summary="Start signing in through an identity provider (redirects to it)",
              status=302, produces="text/plain")
async def start_sign_in(req: ApiRequest) -> web.Response:
    provider_id = int(req.params["provider_id"])
    try:
        return await signin.start(req.request, provider_id)
    except NotFound:
        return signin.to_login("sso_unavailable")
    except signin.Refused as refused:
        await signin.audit_refusal(req.request, refused)
        return signin.to_login(refused.code)


@router.route("GET", signin.CALLBACK_PATH, roles=PUBLIC, query=CallbackQuery,
              summary="Finish a sign-in the identity provider sent back (redirects to "
                      "the console)", status=302, produces="text/plain")
async def finish_sign_in(req: ApiRequest) -> web.Response:
    try:
        return await signin.callback(req.request)
    except signin.Refused as refused:
        await signin.audit_refusal(req.request, refused)
        response = signin.to_login(refused.code)
        response.del_cookie(signin.BROWSER_COOKIE, path=signin.COOKIE_PATH)
        return response


def _shown(req: ApiRequest, row: Any) -> Provider:
    return store.shown(row, signin.redirect_uri(req.request))


@router.route("GET", "/api/v1/identity-providers", roles=ADMIN,
              summary="List identity providers (OpenID Connect)", response=ProviderList)
async def list_providers(req: ApiRequest) -> ProviderList:
    rows = await req.app[DATABASE].read(store.list_rows)
    return ProviderList(items=[_shown(req, r) for r in rows])


@router.route("POST", "/api/v1/identity-providers", roles=ADMIN,
              summary="Add an identity provider", body=ProviderBody, response=Provider,
              status=201)
async def create_provider(req: ApiRequest) -> Provider:
    body: ProviderBody = req.body
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        provider_id = store.create_provider(conn, body, now)
        user_store.record(conn, actor_id=actor, action="oidc.provider_create",
                          target_type="identity_provider", target_id=provider_id, now=now,
                          name=body.name, issuer=body.issuer)
        return store.get_row(conn, provider_id)

    return _shown(req, await req.app[DATABASE].write(run))


@router.route("GET", PATH, roles=ADMIN, summary="Get an identity provider", response=Provider)
async def get_provider(req: ApiRequest) -> Provider:
    provider_id = int(req.params["provider_id"])
    return _shown(req, await req.app[DATABASE].read(lambda c: store.get_row(c, provider_id)))


@router.route("PUT", PATH, roles=ADMIN, summary="Change an identity provider",
              body=ProviderBody, response=Provider)
async def update_provider(req: ApiRequest) -> Provider:
    body: ProviderBody = req.body
    provider_id = int(req.params["provider_id"])
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        store.update_provider(conn, provider_id, body, now)
        user_store.record(conn, actor_id=actor, action="oidc.provider_update",
                          target_type="identity_provider", target_id=provider_id, now=now,
                          name=body.name,
                          client_secret_changed=isinstance(body.client_secret, str))
        return store.get_row(conn, provider_id)

    return _shown(req, await req.app[DATABASE].write(run))


@router.route("DELETE", PATH, roles=ADMIN,
              summary="Delete an identity provider (its users stay, unlinked)", status=204)
async def delete_provider(req: ApiRequest) -> None:
    provider_id = int(req.params["provider_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.delete_provider(conn, provider_id)
        user_store.record(conn, actor_id=actor, action="oidc.provider_delete",
                          target_type="identity_provider", target_id=provider_id,
                          now=utcnow())

    await req.app[DATABASE].write(run)


@router.route("POST", PATH + "/test", roles=ADMIN,
              summary="Read an identity provider's discovery document and keys",
              response=DiscoveryTest)
async def test_provider(req: ApiRequest) -> DiscoveryTest:
    provider_id = int(req.params["provider_id"])
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, provider_id))
    client = await req.app[CLIENTS].get(row)
    try:
        meta = await client.metadata()
        keys = await client.keys(None)
    except ProviderUnavailable as exc:
        return DiscoveryTest(ok=False, message=str(exc))
    algorithms = tokens.allowed_algorithms(meta.id_token_signing_alg_values_supported)
    if not algorithms:
        return DiscoveryTest(ok=False, message="the provider signs ID tokens with no "
                                               "asymmetric algorithm", keys=len(keys.keys))
    return DiscoveryTest(ok=True, keys=len(keys.keys), algorithms=algorithms,
                         message=f"read the discovery document of {meta.issuer!r} and "
                                 f"{len(keys.keys)} signing keys")


@router.route("GET", "/api/v1/identity-providers/settings", roles=ADMIN,
              summary="Get the sign-in settings", response=SsoSettings)
async def get_sso_settings(req: ApiRequest) -> SsoSettings:
    return SsoSettings(local_login_admins_only=local_login_admins_only(req.app))


@router.route("PUT", "/api/v1/identity-providers/settings", roles=ADMIN,
              summary="Change the sign-in settings", body=SsoSettingsBody,
              response=SsoSettings)
async def put_sso_settings(req: ApiRequest) -> SsoSettings:
    body: SsoSettingsBody = req.body
    actor = req.user.user_id
    value = "true" if body.local_login_admins_only else "false"
    values = await req.app[DATABASE].write(lambda c: site_store.save(
        c, {"local_login_admins_only": value}, actor_id=actor, now=utcnow(),
        action="settings.sign_in"))
    req.app[SITE_VALUES].replace(values)
    return SsoSettings(local_login_admins_only=local_login_admins_only(req.app))


async def clients_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hold the providers' HTTP clients for the app's life."""
    app[CLIENTS] = Clients(min_refresh=float(app[SETTINGS].oidc_jwks_min_refresh_seconds))
    yield
    await app[CLIENTS].close()
