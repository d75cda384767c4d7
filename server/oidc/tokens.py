"""ID token checks, PKCE and the mapping of claims to a role and groups (pure).

The signature is checked by joserfc with the provider's published keys, only with the
asymmetric algorithms the provider's metadata names (never ``none``, never an HMAC
algorithm keyed with a public key). The claims are then checked as OpenID Connect Core
1.0 section 3.1.3.7 says: issuer, audience and authorized party, expiry and issue time
with a small clock-skew allowance, and the nonce of this sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# RFC 7518 section 3.1 and RFC 8037: the signature algorithms with a public key.
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                        "ES256", "ES384", "ES512", "EdDSA", "Ed25519"})
ROLE_RANK = {"requester": 0, "technician": 1, "admin": 2}
MAX_TOKEN_BYTES = 64 * 1024


class TokenRefused(Exception):
    """An ID token failed a check; ``reason`` names which (for logs and the audit)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def allowed_algorithms(advertised: Iterable[str]) -> list[str]:
    """Return the algorithms accepted for a provider's ID tokens: those its metadata
    names that are asymmetric (RS256 when it names none, as OIDC Discovery says)."""
    names = list(advertised) or ["RS256"]
    return sorted(a for a in names if a in ASYMMETRIC)


def header(token: str) -> dict[str, Any]:
    """Return the protected header of a compact JWS, unchecked.

    Raises:
        TokenRefused: not a compact JWS (``malformed``).
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRefused("malformed", "token too long")
    try:
        return dict(jws.extract_compact(token.encode()).protected)
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenRefused("malformed", str(exc)) from exc


def verify_signature(token: str, keys: KeySet, algorithms: Collection[str]) -> dict[str, Any]:
    """Return the claims of ``token`` once its signature checks out with ``keys``.

    Raises:
        TokenRefused: an algorithm not allowed (``algorithm``), no key with the token's
            ``kid`` (``unknown_key``), a bad signature (``signature``), malformed.
    """
    head = header(token)
    alg = head.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in ASYMMETRIC:
        raise TokenRefused("algorithm", f"{alg!r} is not one of {sorted(algorithms)}")
    kid = head.get("kid")
    if kid is not None and not any(k.kid == kid for k in keys.keys):
        raise TokenRefused("unknown_key", f"no published key {kid!r}")
    try:
        decoded = jwt.decode(token, keys, algorithms=[alg])
    except JoseError as exc:
        raise TokenRefused("signature", str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise TokenRefused("malformed", str(exc)) from exc
    return dict(decoded.claims)


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRefused("malformed", f"claim {name!r} is missing or not a number")
    return float(value)


def check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str,
                 now: float, skew: float) -> None:
    """Check an ID token's claims for this sign-in (OIDC Core 3.1.3.7).

    Raises:
        TokenRefused: ``issuer``, ``audience``, ``expired``, ``not_yet_valid`` (issued
            or valid only later than the clock-skew allowance), ``nonce``, ``malformed``.
    """
    if claims.get("iss") != issuer:
        raise TokenRefused("issuer", f"{claims.get('iss')!r} is not {issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise TokenRefused("audience", f"{aud!r} does not name {client_id!r}")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise TokenRefused("audience", f"authorized party {azp!r} is not {client_id!r}")
    if now > _number(claims, "exp") + skew:
        raise TokenRefused("expired", f"expired at {claims['exp']}, now {int(now)}")
    if _number(claims, "iat") > now + skew:
        raise TokenRefused("not_yet_valid", f"issued at {claims['iat']}, now {int(now)}")
    if "nbf" in claims and _number(claims, "nbf") > now + skew:
        raise TokenRefused("not_yet_valid", f"valid from {claims['nbf']}, now {int(now)}")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise TokenRefused("nonce", "the nonce is not this sign-in's")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 255:
        raise TokenRefused("malformed", "claim 'sub' is missing or too long")


# Claims only the ID token may state: the UserInfo answer never overrides them.
_TOKEN_ONLY = frozenset({"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce",
                         "auth_time", "acr", "amr", "at_hash", "c_hash", "sid"})


def merged(id_claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """Return an ID token's claims with the UserInfo endpoint's added.

    Raises:
        TokenRefused: the UserInfo answer is about another subject (OIDC Core 5.3.2).
    """
    if not userinfo:
        return dict(id_claims)
    if userinfo.get("sub") != id_claims.get("sub"):
        raise TokenRefused("subject", "the userinfo answer names another subject")
    return {**id_claims, **{k: v for k, v in userinfo.items() if k not in _TOKEN_ONLY}}


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE code verifier and its S256 challenge (RFC 7636 section 4)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """Return a claim by name or dotted path (Keycloak: ``realm_access.roles``), or None."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True)
class GroupRule:
    """Who has ``value`` in the groups claim gets a Deskmate group, a role, or both."""

    value: str
    group_id: int | None = None
    role: str | None = None


def mapped(claims: Mapping[str, Any], *, groups_claim: str, rules: Iterable[GroupRule],
           default_role: str) -> tuple[str, set[int]]:
    """Return the role (the highest of every matching rule, else ``default_role``) and the
    Deskmate groups a person's claims map to."""
    raw = claim(claims, groups_claim) if groups_claim else None
    values = {raw} if isinstance(raw, str) else {v for v in raw if isinstance(v, str)} \
        if isinstance(raw, list) else set()
    role, groups, matched = default_role, set(), []
    for rule in rules:
        if rule.value in values:
            if rule.group_id is not None:
                groups.add(rule.group_id)
            if rule.role is not None:
                matched.append(rule.role)
    if matched:
        role = max(matched, key=ROLE_RANK.__getitem__)
    return role, groups


_NOT_IN_NAME = re.compile(r"[^a-z0-9._@-]+")


def username_for(claims: Mapping[str, Any], username_claim: str) -> str:
    """Return a Deskmate user name made from a claim (``sub`` when the claim is absent):
    lower case, only the characters a user name may hold, at most 64."""
    raw = claim(claims, username_claim)
    text = raw if isinstance(raw, str) and raw.strip() else str(claims.get("sub", "user"))
    name = _NOT_IN_NAME.sub("-", text.strip().lower()).strip("-._@")[:64]
    return name or "user"
