"""HTTP to an OpenID provider: discovery, its key set (JWKS) and the token endpoint.

One :class:`ProviderClient` per provider record, kept by :class:`Clients` while the record
is unchanged. TLS is always verified, against the provider's own CA when the admin gave
one, else the system's store; there is no insecure fallback. The key set is cached and
fetched again when a token names a key it does not hold (the provider rotated its keys),
but at most once per ``min_refresh`` seconds, so a flood of tokens with made-up key ids
cannot make Deskmate hammer the provider.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import msgspec
from aiohttp import web
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger("deskmate.oidc")

METADATA_SECONDS = 3600.0  # discovery is read again after an hour
MAX_BODY = 512 * 1024


class ProviderUnavailable(Exception):
    """The provider cannot be reached or answered something unusable."""


class Metadata(msgspec.Struct, kw_only=True):
    """What Deskmate uses of a provider's discovery document (OIDC Discovery 1.0 3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    id_token_signing_alg_values_supported: list[str] = []
    token_endpoint_auth_methods_supported: list[str] = msgspec.field(
        default_factory=lambda: ["client_secret_basic"])
    code_challenge_methods_supported: list[str] = []
    authorization_response_iss_parameter_supported: bool = False


def _https(url: str, what: str) -> None:
    if not url.startswith("https://"):
        raise ProviderUnavailable(f"{what} {url!r} is not an https:// URL")


class ProviderClient:
    """Discovery, keys and token exchange of one provider."""

    def __init__(self, *, issuer: str, ca_pem: str, timeout: float, min_refresh: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.issuer = issuer
        self._ca_pem = ca_pem
        self._timeout = timeout
        self._min_refresh = min_refresh
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._metadata: Metadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at: float | None = None
        self._lock = asyncio.Lock()
        self.key_fetches = 0  # how often the key set was fetched (tests, logs)

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Loading CA files reads the disk: off the loop.
            context = await asyncio.to_thread(self._ssl_context)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._session

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ca_pem.strip():
            return ssl.create_default_context(cadata=self._ca_pem)
        return ssl.create_default_context()

    async def _json(self, method: str, url: str, **kw: Any) -> Any:
        session = await self._http()
        try:
            async with session.request(method, url, **kw) as resp:
                body = await resp.content.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    raise ProviderUnavailable(f"{url!r} answered more than {MAX_BODY} bytes")
                data = msgspec.json.decode(body) if body else None
                if resp.status >= 400:
                    error = data.get("error") if isinstance(data, dict) else None
                    raise ProviderUnavailable(f"{url!r} answered {resp.status} ({error!r})")
                return data
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as exc:
            raise ProviderUnavailable(f"{url!r} cannot be reached: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(f"{url!r} did not answer JSON") from exc

    async def metadata(self) -> Metadata:
        """Return the provider's discovery document (cached for an hour).

        Raises:
            ProviderUnavailable: unreachable, or the document is wrong (its issuer is
                not the configured one, an endpoint is not https://, no S256 PKCE).
        """
        now = self._clock()
        if self._metadata is not None and now - self._metadata_at < METADATA_SECONDS:
            return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        raw = await self._json("GET", url)
        try:
            found = msgspec.convert(raw, Metadata)
        except msgspec.ValidationError as exc:
            raise ProviderUnavailable(f"the discovery document is unusable: {exc}") from exc
        if found.issuer != self.issuer:  # OIDC Discovery 1.0 section 4.3
            raise ProviderUnavailable(f"the discovery document names the issuer "
                                      f"{found.issuer!r}, not {self.issuer!r}")
        for what in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            _https(getattr(found, what), what)
        if found.userinfo_endpoint is not None:
            _https(found.userinfo_endpoint, "userinfo_endpoint")
        if found.code_challenge_methods_supported and \
                "S256" not in found.code_challenge_methods_supported:
            raise ProviderUnavailable("the provider does not support PKCE with S256")
        self._metadata, self._metadata_at = found, now
        return found

    async def keys(self, kid: str | None) -> KeySet:
        """Return the provider's public keys, fetched again when ``kid`` is not among
        them (at most once per ``min_refresh`` seconds).

        Raises:
            ProviderUnavailable: the key set cannot be fetched or read.
        """
        async with self._lock:
            have = self._keys
            if have is not None and (kid is None or any(k.kid == kid for k in have.keys)):
                return have
            now = self._clock()
            if have is not None and self._keys_at is not None \
                    and now - self._keys_at < self._min_refresh:
                return have  # too soon to ask again: the token's key stays unknown
            meta = await self.metadata()
            raw = await self._json("GET", meta.jwks_uri)
            self._keys_at = now
            self.key_fetches += 1
            try:
                public = [k for k in (raw or {}).get("keys", [])
                          if isinstance(k, dict) and k.get("use", "sig") == "sig"
                          and k.get("kty") in ("RSA", "EC", "OKP")]
                self._keys = KeySet.import_key_set({"keys": public})
            except (JoseError, ValueError, TypeError, AttributeError) as exc:
                raise ProviderUnavailable(f"the key set is unusable: {exc}") from exc
            if have is not None:
                log.info("provider %r: key set fetched again (%d keys)", self.issuer,
                         len(self._keys.keys))
            return self._keys

    async def exchange(self, *, code: str, verifier: str, redirect_uri: str,
                       client_id: str, client_secret: str) -> dict[str, Any]:
        """Trade an authorization code for tokens at the token endpoint (with the PKCE
        verifier; client_secret_basic, or client_secret_post when that is all the
        provider takes).

        Raises:
            ProviderUnavailable: unreachable, or it refused the code.
        """
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        headers = {"Accept": "application/json"}
        methods = meta.token_endpoint_auth_methods_supported
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            form.update(client_id=client_id, client_secret=client_secret)
        else:
            headers["Authorization"] = aiohttp.encode_basic_auth(
                _form_encode(client_id), _form_encode(client_secret))
        answer = await self._json("POST", meta.token_endpoint, data=form, headers=headers)
        if not isinstance(answer, dict) or not isinstance(answer.get("id_token"), str):
            raise ProviderUnavailable("the token endpoint gave no ID token")
        return answer

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """Return the claims of the UserInfo endpoint (OIDC Core 5.3), or {} without one.

        Raises:
            ProviderUnavailable: unreachable, or it did not answer a JSON object.
        """
        meta = await self.metadata()
        if meta.userinfo_endpoint is None:
            return {}
        answer = await self._json("GET", meta.userinfo_endpoint, headers={
            "Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        if not isinstance(answer, dict):
            raise ProviderUnavailable("the userinfo endpoint did not answer a JSON object")
        return answer

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _form_encode(text: str) -> str:
    # RFC 6749 section 2.3.1: the client id and secret are form-encoded before Basic.
    return quote_plus(text)


class Clients:
    """The ProviderClient of each provider record, made again when the record changes."""

    def __init__(self, *, min_refresh: float) -> None:
        self._min_refresh = min_refresh
        self._by_id: dict[int, tuple[Any, ProviderClient]] = {}

    async def get(self, row: Any) -> ProviderClient:
        """Return the client of a provider row (``oidc_providers``)."""
        kept = self._by_id.get(row.id)
        if kept is not None and kept[0] == row.updated_at:
            return kept[1]
        if kept is not None:
            await kept[1].close()
        made = ProviderClient(issuer=row.issuer, ca_pem=row.ca_pem,
                              timeout=float(row.timeout_seconds), min_refresh=self._min_refresh)
        self._by_id[row.id] = (row.updated_at, made)
        return made

    async def close(self) -> None:
        """Close every client."""
        for _at, made in self._by_id.values():
            await made.close()
        self._by_id.clear()


CLIENTS: web.AppKey[Clients] = web.AppKey("oidc_clients")
