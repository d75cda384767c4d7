"""The authorization code flow with PKCE (OIDC Core 3.1): start and callback.

Start: a random state, nonce and PKCE verifier are stored (the state and the browser
cookie only as hashes) and the browser goes to the provider. Callback: the state is taken
once, must come back in the browser that started it, within ``oidc_flow_minutes``; the
code is traded for tokens, the ID token checked (:mod:`server.oidc.tokens`), and the
person's account found by the stable issuer + subject pair (or, when the admin allows it,
by a verified e-mail; or created, when the admin allows that). The session is the same as
a password login's (:func:`server.auth.views.open_session`). Every refusal is audited and
sends the browser to the login page with a code the console words in its language.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from server.auth import factor_store, half_session
from server.auth.views import open_session
from server.db.schema import utcnow
from server.keys import CLIENT_IP, DATABASE, DEVICE_KEY, LOGIN_THROTTLE, SETTINGS
from server.oidc import store, tokens
from server.oidc.discovery import CLIENTS, ProviderUnavailable
from server.users import store as user_store

log = logging.getLogger("deskmate.oidc")

BROWSER_COOKIE = "deskmate_oidc"
COOKIE_PATH = "/api/v1/auth/oidc"
CALLBACK_PATH = "/api/v1/auth/oidc/callback"


class Refused(Exception):
    """A sign-in refused; ``code`` is what the login page shows (login.sso_error.*)."""

    def __init__(self, code: str, reason: str, *, provider: Any = None,
                 user_id: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.provider = provider
        self.user_id = user_id


def redirect_uri(request: web.Request) -> str:
    """Return the callback URL to register at the provider."""
    base = request.app[SETTINGS].public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return base + CALLBACK_PATH


def redirect(location: str) -> web.Response:
    """Return a 302 to ``location`` (with a short text body, as the API declares)."""
    return web.Response(status=302, text="redirecting\n", content_type="text/plain",
                        headers={"Location": location})


def to_login(code: str) -> web.Response:
    """Send the browser to the login page, which says what ``code`` means."""
    return redirect("/?" + urlencode({"sso_error": code}) + "#/login")


async def audit_refusal(request: web.Request, refused: Refused) -> None:
    """Log and audit a refused sign-in."""
    provider = refused.provider
    name = provider.name if provider is not None else None
    log.info("single sign-on refused (%s) through %r from %s: %s", refused.code, name,
             request[CLIENT_IP], refused.reason)
    await request.app[DATABASE].write(lambda c: user_store.record(
        c, actor_id=None, action="auth.login_failed", target_type="user",
        target_id=refused.user_id, now=utcnow(), ip=request[CLIENT_IP], method="oidc",
        provider=name, reason=refused.code, detail=refused.reason[:300]))


async def start(request: web.Request, provider_id: int) -> web.Response:
    """Send the browser to the provider's login page (or back to ours, refused)."""
    app = request.app
    db = app[DATABASE]
    row = await db.read(lambda c: store.get_row(c, provider_id))
    if not row.enabled:
        raise Refused("sso_unavailable", "the provider is turned off", provider=row)
    client = await app[CLIENTS].get(row)
    try:
        meta = await client.metadata()
    except ProviderUnavailable as exc:
        raise Refused("sso_unavailable", str(exc), provider=row) from exc
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = tokens.pkce_pair()
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not 40 <= len(browser) <= 64:
        browser = secrets.token_urlsafe(32)
    callback = redirect_uri(request)
    max_age = dt.timedelta(minutes=app[SETTINGS].oidc_flow_minutes)
    await db.write(lambda c: store.save_flow(
        c, state=state, provider_id=row.id, browser=browser, nonce=nonce, verifier=verifier,
        redirect_uri=callback, now=utcnow(), max_age=max_age))
    query = urlencode({"response_type": "code", "client_id": row.client_id,
                       "redirect_uri": callback, "scope": row.scopes, "state": state,
                       "nonce": nonce, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    separator = "&" if "?" in meta.authorization_endpoint else "?"
    response = redirect(meta.authorization_endpoint + separator + query)
    # Lax: the provider sends the browser back with a top-level GET from its own site.
    response.set_cookie(BROWSER_COOKIE, browser, path=COOKIE_PATH, secure=True,
                        httponly=True, samesite="Lax",
                        max_age=int(max_age.total_seconds()))
    return response


async def callback(request: web.Request) -> web.Response:
    """Finish a sign-in the provider sent back: check everything, open a session."""
    app = request.app
    db = app[DATABASE]
    query = request.query
    state = query.get("state", "")
    flow = await db.write(lambda c: store.take_flow(c, state)) if state else None
    if flow is None:
        raise Refused("sso_state_invalid", "unknown, used or expired state")
    row = await db.read(lambda c: store.get_row(c, flow.provider_id))
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not browser or not secrets.compare_digest(store.digest(browser), flow.browser_hash):
        raise Refused("sso_state_invalid", "the state was not issued to this browser",
                      provider=row)
    max_age = dt.timedelta(minutes=app[SETTINGS].oidc_flow_minutes)
    if utcnow() - flow.created_at > max_age:
        raise Refused("sso_state_invalid", "the sign-in took too long", provider=row)
    if "error" in query:
        raise Refused("sso_denied", f"the provider answered {query['error'][:100]!r}",
                      provider=row)
    if "iss" in query and query["iss"] != row.issuer:  # RFC 9207
        raise Refused("sso_token_invalid", f"the answer names the issuer {query['iss']!r}",
                      provider=row)
    if not row.enabled:
        raise Refused("sso_unavailable", "the provider is turned off", provider=row)
    code = query.get("code", "")
    if not code or len(code) > 2048:
        raise Refused("sso_token_invalid", "no authorization code", provider=row)
    client = await app[CLIENTS].get(row)
    try:
        answer = await client.exchange(code=code, verifier=flow.code_verifier,
                                       redirect_uri=flow.redirect_uri,
                                       client_id=row.client_id, client_secret=row.client_secret)
        claims = await verified_claims(app, client, row, answer["id_token"], flow.nonce)
        token = answer.get("access_token")
        if isinstance(token, str) and token:
            # Many providers put profile and group claims only there (OIDC Core 5.4).
            claims = tokens.merged(claims, await client.userinfo(token))
    except ProviderUnavailable as exc:
        raise Refused("sso_unavailable", str(exc), provider=row) from exc
    except tokens.TokenRefused as exc:
        raise Refused("sso_token_invalid", f"userinfo refused: {exc}", provider=row) from exc
    user_id, changed = await _account(app, row, claims)
    user = await db.read(lambda c: user_store.find_login_by_id(c, user_id))
    if await db.read(lambda c: factor_store.has_factor(c, user_id)):
        # The account's own second factor still applies: the login page asks for it.
        await db.write(lambda c: user_store.record(
            c, actor_id=user_id, action="auth.sso_accepted", target_type="user",
            target_id=user_id, now=utcnow(), ip=request[CLIENT_IP], provider=row.name))
        return _second_step(request, user_id, user.password_hash)
    response = await open_session(request, user_id, redirect_to="/", method="oidc",
                                  provider=row.name, **changed)
    response.del_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


def _second_step(request: web.Request, user_id: int, password_hash: str | None) -> web.Response:
    app = request.app
    value = half_session.issue(app[DEVICE_KEY], user_id, password_hash or "",
                               now=app[LOGIN_THROTTLE].wall())
    response = redirect("/?sso=second_factor#/login")
    response.set_cookie(half_session.COOKIE, value, path=half_session.COOKIE_PATH,
                        max_age=half_session.MAX_AGE_SECONDS, secure=True, httponly=True,
                        samesite="Strict")
    response.del_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


async def verified_claims(app: web.Application, client: Any, row: Any, id_token: str,
                          nonce: str, *, now: float | None = None) -> dict[str, Any]:
    """Return the claims of an ID token that passes every check.

    Raises:
        Refused: the token fails a check (sso_token_invalid).
        ProviderUnavailable: the provider's keys cannot be fetched.
    """
    meta = await client.metadata()
    algorithms = tokens.allowed_algorithms(meta.id_token_signing_alg_values_supported)
    try:
        kid = tokens.header(id_token).get("kid")
        keys = await client.keys(kid if isinstance(kid, str) else None)
        claims = tokens.verify_signature(id_token, keys, algorithms)
        tokens.check_claims(claims, issuer=row.issuer, client_id=row.client_id, nonce=nonce,
                            now=time.time() if now is None else now,
                            skew=app[SETTINGS].oidc_clock_skew_seconds)
    except tokens.TokenRefused as exc:
        raise Refused("sso_token_invalid", f"ID token refused: {exc}", provider=row) from exc
    return claims


async def _account(app: web.Application, row: Any, claims: dict[str, Any]
                   ) -> tuple[int, dict[str, Any]]:
    """Return the user a provider's claims name (linked, matched or created) and what
    their claims changed."""
    issuer, subject = row.issuer, claims["sub"]
    role, group_ids = tokens.mapped(
        claims, groups_claim=row.groups_claim, default_role=row.default_role,
        rules=[tokens.GroupRule(m["claim_value"], m.get("deskmate_group_id"), m.get("role"))
               for m in row.group_mappings])
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = claims.get("email_verified") is True

    def run(conn: Any) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        found = store.linked_user(conn, issuer, subject)
        if found is not None:
            if not found.active:
                raise Refused("sso_account_disabled", "the linked account is deactivated",
                              provider=row, user_id=found.id)
            changed = store.apply_claims(conn, provider_id=row.id, user_id=found.id,
                                         role=role if found.created else None,
                                         wanted_groups=group_ids, now=now)
            return found.id, changed
        match = (store.user_by_verified_email(conn, email)
                 if row.match_verified_email and verified and email else None)
        if match is not None:
            store.link(conn, user_id=match.id, provider_id=row.id, issuer=issuer,
                       subject=subject, created=False, now=now)
            user_store.record(conn, actor_id=None, action="oidc.account_linked",
                              target_type="user", target_id=match.id, now=now,
                              provider=row.name, by="verified_email")
            return match.id, store.apply_claims(conn, provider_id=row.id, user_id=match.id,
                                                role=None, wanted_groups=group_ids, now=now)
        if not row.create_users:
            raise Refused("sso_no_account", f"no account is linked to subject {subject!r}",
                          provider=row)
        username = store.free_username(conn, tokens.username_for(claims, row.username_claim))
        name = claims.get("name") if isinstance(claims.get("name"), str) else username
        user_id = user_store.create_user(conn, username=username,
                                         display_name=str(name)[:200] or username, role=role,
                                         email=email[:254] if email and verified else None,
                                         password_hash=None, now=now)
        store.link(conn, user_id=user_id, provider_id=row.id, issuer=issuer, subject=subject,
                   created=True, now=now)
        user_store.record(conn, actor_id=None, action="oidc.user_created", target_type="user",
                          target_id=user_id, now=now, provider=row.name, username=username,
                          role=role)
        return user_id, store.apply_claims(conn, provider_id=row.id, user_id=user_id,
                                           role=None, wanted_groups=group_ids, now=now)

    result: tuple[int, dict[str, Any]] = await app[DATABASE].write(run)
    return result
