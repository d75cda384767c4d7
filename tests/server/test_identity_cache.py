"""The identity cache: answers repeated requests from memory, forgets on relevant writes."""

from __future__ import annotations

import datetime as dt

from server.auth import credentials
from server.auth.identity import Identity
from server.auth.identity_cache import Entry, IdentityCache, changes_identity
from server.keys import IDENTITY_CACHE
from tests.support.server import Client, RunningServer


def test_writes_that_change_who_a_credential_is_are_recognised() -> None:
    """Deletes of credentials and any change to users or second factors count; new
    credentials and other tables do not."""
    assert changes_identity("DELETE FROM auth_sessions WHERE auth_sessions.id = ?")
    assert changes_identity("DELETE FROM api_tokens WHERE api_tokens.user_id = %(p)s")
    assert changes_identity('UPDATE "users" SET role=? WHERE users.id = ?')
    assert changes_identity("INSERT INTO user_totp (user_id, secret) VALUES (?, ?)")
    assert changes_identity("  update api_tokens set expires_at=? where id=?")
    assert not changes_identity("INSERT INTO auth_sessions (token_hash) VALUES (?)")
    assert not changes_identity("UPDATE tickets SET status=? WHERE tickets.id = ?")
    assert not changes_identity("SELECT * FROM users")
    assert not changes_identity("UPDATE users_extra SET x=1")


def test_a_lookup_that_raced_a_clear_is_not_stored() -> None:
    """An entry read before the cache was emptied is dropped, not remembered."""
    cache = IdentityCache(5)
    who = Entry(Identity(user_id=1, username="a", role="admin", via="token",
                         credential_id=1), seen=None)
    generation = cache.generation
    cache.clear()  # a committed revocation while the lookup ran
    cache.put("tkey", who, generation)
    assert cache.get("tkey") is None
    cache.put("tkey", who, cache.generation)
    assert cache.get("tkey") is who


async def test_repeated_requests_hit_the_cache_and_changes_apply_at_once(
        server: RunningServer, admin: Client) -> None:
    """A token's second request is served from the cache; recording its use keeps the
    entry; a role change and a revocation are seen by the very next request."""
    cache = server.app[IDENTITY_CACHE]
    await server.create_user(admin, "cached", "technician")
    tech = await server.login("cached")
    made = await tech.post("/api/v1/auth/tokens", json={"name": "bench"})
    assert made.status == 201, made.body
    bearer = server.client()
    bearer.bearer = made.json["token"]
    assert (await bearer.get("/api/v1/users?limit=1")).status == 200
    hits = cache.hits
    assert (await bearer.get("/api/v1/users?limit=1")).status == 200
    assert cache.hits == hits + 1
    entries = len(cache)
    await server.db.write(lambda c: credentials.touch_token(
        c, made.json["info"]["id"], dt.datetime.now(dt.UTC)))
    assert len(cache) == entries  # recording use changes nobody's identity

    user_id = tech.user["id"]
    resp = await admin.patch(f"/api/v1/users/{user_id}", json={"role": "requester"})
    assert resp.status == 200, resp.body
    assert (await bearer.get("/api/v1/users?limit=1")).status == 403  # now a requester
    assert (await tech.get("/api/v1/auth/session")).status == 401  # role change: logged out
    revoked = await bearer.delete(f"/api/v1/auth/tokens/{made.json['info']['id']}")
    assert revoked.status == 204, revoked.body
    assert (await bearer.get("/api/v1/auth/session")).status == 401
