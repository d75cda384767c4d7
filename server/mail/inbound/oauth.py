"""An OAuth2 access token for a mailbox's IMAP login (SASL XOAUTH2), from its token
endpoint (RFC 6749): the refresh-token grant when a refresh token is set (section 6), else
client credentials (section 4.4). Blocking: called in the IMAP reader's thread."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT = 30.0
MAX_ANSWER = 1_000_000


class TokenError(Exception):
    """The token endpoint gave no access token (the message says why, without secrets)."""


@dataclass(frozen=True)
class OAuthConfig:
    """Where a mailbox gets its access token; the secrets are never logged."""

    token_url: str
    client_id: str
    client_secret: str = ""
    refresh_token: str = ""
    scope: str = ""

    def __repr__(self) -> str:
        return f"OAuthConfig(token_url={self.token_url!r}, client_id={self.client_id!r})"


def access_token(config: OAuthConfig, *, ca_file: str = "") -> str:
    """Return a fresh access token.

    Raises:
        TokenError: the endpoint cannot be reached or refused the request.
    """
    form = {"client_id": config.client_id}
    if config.client_secret:
        form["client_secret"] = config.client_secret
    if config.refresh_token:
        form.update(grant_type="refresh_token", refresh_token=config.refresh_token)
    else:
        form["grant_type"] = "client_credentials"
    if config.scope:
        form["scope"] = config.scope
    if urllib.parse.urlsplit(config.token_url).scheme not in ("https", "http"):
        raise TokenError(f"the token endpoint {config.token_url!r} is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        config.token_url, data=urllib.parse.urlencode(form).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/json"})
    context = ssl.create_default_context(cafile=ca_file or None)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT,  # noqa: S310 - http(s) only
                                    context=context) as answer:
            body = answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        raise TokenError(f"the token endpoint refused the request ({exc.code} "
                         f"{_error_of(exc.read(MAX_ANSWER))})") from exc
    except (OSError, ValueError) as exc:
        raise TokenError(f"the token endpoint could not be reached ({exc})") from exc
    try:
        token = json.loads(body)["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("the token endpoint answered without an access_token") from exc
    if not isinstance(token, str) or not token:
        raise TokenError("the token endpoint answered without an access_token")
    return token


def _error_of(body: bytes) -> str:
    """Return the OAuth2 error code of a refusal (RFC 6749 section 5.2), never more."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return "no error code"
    return str(error)[:100] if error else "no error code"


def xoauth2(username: str, token: str) -> bytes:
    """Return the SASL XOAUTH2 initial response (Google's and Microsoft's format)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()
