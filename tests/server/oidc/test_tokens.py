"""ID token checks without a provider (pure): signature with the published keys only,
asymmetric algorithms only, issuer, audience and authorized party, expiry and issue time
with the clock-skew allowance, the nonce of this sign-in; PKCE, claims to role and groups,
user names from claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from server.oidc import tokens
from server.oidc.tokens import GroupRule, TokenRefused

ISSUER = "https://idp.example.test"
CLIENT = "deskmate"
NOW = 1_800_000_000.0
SKEW = 60
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
PUBLISHED = KeySet.import_key_set({"keys": [KEY.as_dict(private=False)]})


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
            "nonce": "n-1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(body: dict[str, Any], key: Any = KEY, alg: str = "RS256",
           kid: str | None = "k1") -> str:
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    return jwt.encode(header, body, key, algorithms=[alg])


def check(body: dict[str, Any], *, now: float = NOW, nonce: str = "n-1") -> None:
    tokens.check_claims(body, issuer=ISSUER, client_id=CLIENT, nonce=nonce, now=now,
                        skew=SKEW)


def refusal(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(TokenRefused) as caught:
        fn(*args, **kw)
    return caught.value.reason


def test_a_good_token_passes_both_steps() -> None:
    """A token signed with a published key, for this client, unexpired, with this sign-in's nonce passes."""  # noqa: E501
    found = tokens.verify_signature(signed(claims()), PUBLISHED, ["RS256"])
    check(found)
    assert found["sub"] == "alice"


def test_tampered_tokens_and_foreign_keys_are_refused() -> None:
    """A token whose payload was changed after signing, or signed by a key the provider did not publish, fails the signature check."""  # noqa: E501
    head, _payload, sig = signed(claims()).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(sub="admin")).encode()).rstrip(b"=")
    assert refusal(tokens.verify_signature, f"{head}.{forged.decode()}.{sig}", PUBLISHED,
                   ["RS256"]) == "signature"
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    assert refusal(tokens.verify_signature, signed(claims(), other), PUBLISHED,
                   ["RS256"]) == "signature"
    assert refusal(tokens.verify_signature, signed(claims(), kid="k9"), PUBLISHED,
                   ["RS256"]) == "unknown_key"
    assert refusal(tokens.verify_signature, "not.a-token", PUBLISHED, ["RS256"]) in (
        "malformed", "algorithm")


def test_none_and_hmac_with_the_public_key_are_refused() -> None:
    """alg none, and HS256 keyed with the provider's public key, are refused whatever the metadata says; only asymmetric algorithms the metadata names are allowed."""  # noqa: E501
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    none_head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    assert refusal(tokens.verify_signature, f"{none_head}.{body}.", PUBLISHED,
                   ["RS256", "none"]) == "algorithm"
    # The classic confusion: HMAC keyed with the public key's PEM (made by hand, since
    # joserfc itself refuses to use a public key as an HMAC secret).
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"k1"}').rstrip(b"=").decode()
    mac = hmac.new(KEY.as_pem(private=False), f"{head}.{body}".encode(), hashlib.sha256)
    confused = f"{head}.{body}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"
    assert refusal(tokens.verify_signature, confused, PUBLISHED,
                   ["RS256", "HS256"]) == "algorithm"
    assert tokens.allowed_algorithms(["HS256", "RS256", "ES256", "none"]) == ["ES256",
                                                                              "RS256"]
    assert tokens.allowed_algorithms([]) == ["RS256"]
    ec = ECKey.generate_key("P-256", parameters={"kid": "e1"}, private=True)
    ec_set = KeySet.import_key_set({"keys": [ec.as_dict(private=False)]})
    assert refusal(tokens.verify_signature, signed(claims(), ec, "ES256", "e1"), ec_set,
                   ["RS256"]) == "algorithm"  # not what the provider's metadata names


def test_issuer_audience_and_authorized_party_must_be_this_clients() -> None:
    """A token of another issuer, for another audience, or for several audiences without this client as authorized party is refused."""  # noqa: E501
    assert refusal(check, claims(iss="https://evil.example.test")) == "issuer"
    assert refusal(check, claims(aud="someone-else")) == "audience"
    assert refusal(check, claims(aud=["someone-else", "other"])) == "audience"
    assert refusal(check, claims(aud=[CLIENT, "other"])) == "audience"  # azp missing
    assert refusal(check, claims(aud=CLIENT, azp="other")) == "audience"
    check(claims(aud=[CLIENT, "other"], azp=CLIENT))


def test_expiry_and_issue_time_allow_only_the_clock_skew() -> None:
    """An expired token, or one issued in the future, is refused once the difference exceeds the clock-skew allowance, and accepted within it."""  # noqa: E501
    check(claims(exp=NOW - SKEW + 1))
    assert refusal(check, claims(exp=NOW - SKEW - 1)) == "expired"
    check(claims(iat=NOW + SKEW - 1))
    assert refusal(check, claims(iat=NOW + SKEW + 1)) == "not_yet_valid"
    assert refusal(check, claims(nbf=NOW + SKEW + 5)) == "not_yet_valid"
    assert refusal(check, claims(exp="tomorrow")) == "malformed"
    assert refusal(check, claims(iat=None)) == "malformed"


def test_a_nonce_of_another_sign_in_is_refused() -> None:
    """A token replayed into another sign-in carries that sign-in's nonce, not this one's, and is refused; so is one without a nonce."""  # noqa: E501
    assert refusal(check, claims(), nonce="n-2") == "nonce"
    assert refusal(check, claims(nonce=None)) == "nonce"


def test_userinfo_adds_claims_but_never_another_subject() -> None:
    """UserInfo claims are added to the ID token's, cannot override the ID token's own, and must name the same subject."""  # noqa: E501
    merged = tokens.merged(claims(), {"sub": "alice", "groups": ["it"], "iss": "x"})
    assert merged["groups"] == ["it"] and merged["iss"] == ISSUER
    assert refusal(tokens.merged, claims(), {"sub": "mallory"}) == "subject"


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    """The PKCE challenge is the unpadded base64url SHA-256 of a 64-character verifier (RFC 7636)."""  # noqa: E501
    verifier, challenge = tokens.pkce_pair()
    assert len(verifier) == 64
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.rstrip(b"=").decode()


def test_groups_claim_maps_to_the_highest_role_and_groups() -> None:
    """Every rule whose value is in the groups claim (a list, a string, or a dotted path) adds its group; the highest role wins, else the default role."""  # noqa: E501
    rules = [GroupRule("helpdesk", 1, "technician"), GroupRule("admins", None, "admin"),
             GroupRule("sales", 2, None)]
    assert tokens.mapped({"groups": ["helpdesk", "admins", "x"]}, groups_claim="groups",
                         rules=rules, default_role="requester") == ("admin", {1})
    assert tokens.mapped({"groups": "sales"}, groups_claim="groups", rules=rules,
                         default_role="requester") == ("requester", {2})
    assert tokens.mapped({"realm_access": {"roles": ["helpdesk"]}},
                         groups_claim="realm_access.roles", rules=rules,
                         default_role="requester") == ("technician", {1})
    assert tokens.mapped({}, groups_claim="groups", rules=rules,
                         default_role="requester") == ("requester", set())


def test_user_names_are_made_from_claims() -> None:
    """A user name comes from the chosen claim in lower case with only allowed characters, or from the subject."""  # noqa: E501
    assert tokens.username_for({"preferred_username": "Alice Smith"},
                               "preferred_username") == "alice-smith"
    assert tokens.username_for({"email": "Bob@Example.test"}, "email") == "bob@example.test"
    assert tokens.username_for({"sub": "12345"}, "preferred_username") == "12345"
